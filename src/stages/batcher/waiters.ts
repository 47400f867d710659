import { ChariotsError } from '../../errors';

interface Waiter {
  resolve: (lid: number) => void;
  reject: (e: ChariotsError) => void;
  timer: NodeJS.Timeout;
}

/**
 * `?wait=appended`: requests waiting for their record to reach the ordered log, by id.
 * The log follower calls `appended` for every record it sees; a waiter must be registered
 * BEFORE the record is produced, or the append could be seen before anyone waits for it.
 */
export class AppendWaiters {
  private readonly byId = new Map<string, Set<Waiter>>();

  get size(): number {
    return this.byId.size;
  }

  /**
   * Registers a waiter now. `appended` resolves with the LId, or rejects with TIMEOUT
   * (the record was accepted, so the message says a retry with the same id is safe).
   */
  register(id: string, timeoutMs: number): { appended: Promise<number>; cancel: () => void } {
    let waiter!: Waiter;
    const appended = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.remove(id, waiter);
        reject(
          new ChariotsError(
            'CHARIOTS_ERR_TIMEOUT',
            `record ${id} was accepted and will be appended, but was not in the log within ${timeoutMs} ms; retrying with the same id is safe`,
            { details: { id, timeoutMs } },
          ),
        );
      }, timeoutMs);
      waiter = { resolve, reject, timer };
    });
    // A waiter that nobody awaits any more (cancelled) must not become an unhandled rejection.
    appended.catch(() => undefined);
    let set = this.byId.get(id);
    if (!set) this.byId.set(id, (set = new Set()));
    set.add(waiter);
    const cancel = () => {
      clearTimeout(waiter.timer);
      this.remove(id, waiter);
    };
    return { appended, cancel };
  }

  appended(id: string, lid: number): void {
    const set = this.byId.get(id);
    if (!set) return;
    this.byId.delete(id);
    for (const w of set) {
      clearTimeout(w.timer);
      w.resolve(lid);
    }
  }

  /** Fails every waiter (shutdown). */
  rejectAll(err: ChariotsError): void {
    const all = [...this.byId.values()];
    this.byId.clear();
    for (const set of all) {
      for (const w of set) {
        clearTimeout(w.timer);
        w.reject(err);
      }
    }
  }

  private remove(id: string, w: Waiter): void {
    const set = this.byId.get(id);
    if (!set) return;
    set.delete(w);
    if (set.size === 0) this.byId.delete(id);
  }
}
