import type { Logger } from '../../logger';

/**
 * Something a batcher reads from Kafka only while someone uses it: started on first use,
 * closed after `idleMs` without use (unless `keep()` says it is still needed). A batcher
 * follows topics for rare requests (`?wait=appended`, GET /deferred); following them all the
 * time cost it more CPU than producing the records did (docs/performance.md).
 */
export class LazyFollower<R extends { close(): Promise<void> }> {
  private running: Promise<R> | undefined;
  private lastUse = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly what: string,
    private readonly start: () => Promise<R>,
    private readonly logger: Logger,
    private readonly idleMs = 300_000,
    private readonly keep: () => boolean = () => false,
  ) {
    this.timer = setInterval(() => void this.closeIfIdle(), Math.min(idleMs, 60_000));
    this.timer.unref();
  }

  get started(): boolean {
    return this.running !== undefined;
  }

  /** The running resource, started now if it is not; a failed start is retried next use. */
  use(): Promise<R> {
    this.lastUse = Date.now();
    if (!this.running) {
      const started = this.start();
      this.running = started;
      started.catch(() => {
        if (this.running === started) this.running = undefined;
      });
      this.logger.debug(`${this.what} starting`);
    }
    return this.running;
  }

  private async closeIfIdle(): Promise<void> {
    const r = this.running;
    if (!r || this.keep() || Date.now() - this.lastUse < this.idleMs) return;
    this.running = undefined;
    this.logger.debug(`${this.what} idle; stopping`);
    await (await r.catch(() => undefined))?.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    const r = this.running;
    this.running = undefined;
    await (await r?.catch(() => undefined))?.close();
  }
}
