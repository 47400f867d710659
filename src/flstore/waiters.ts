/** Readers following the tail (GET /log/stream) park here until their next LId is stored. */
export class LidWaiters {
  private readonly waiting = new Set<{ lid: number; done: (ok: boolean) => void }>();

  wait(lid: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve(false);
      const w = {
        lid,
        done: (ok: boolean) => {
          this.waiting.delete(w);
          signal?.removeEventListener('abort', onAbort);
          resolve(ok);
        },
      };
      const onAbort = () => w.done(false);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.add(w);
    });
  }

  /** Wakes every reader waiting for an LId ≤ `lastLid`. */
  release(lastLid: number): void {
    for (const w of [...this.waiting]) if (w.lid <= lastLid) w.done(true);
  }

  closeAll(): void {
    for (const w of [...this.waiting]) w.done(false);
  }
}
