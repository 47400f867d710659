import type { Logger } from '../../logger';

/** What a LazyFollower starts: closable, and usable once `ready` settles (at once if absent). */
export interface LazyResource {
  ready?: Promise<void>;
  close(): Promise<void>;
}

export interface LazyFollowerOptions {
  /** Close it this long after the last use (ms). */
  idleMs?: number;
  /**
   * A start (connect, and `ready`) that takes longer fails the uses waiting for it, and is
   * stopped whenever it gets that far: with the broker gone, connecting retries forever.
   */
  startMs?: number;
  /** Still needed although unused (e.g. waiters registered): not closed when idle. */
  keep?: () => boolean;
}

/** How long close() waits for given-up starts to stop their consumers. */
const ABANDON_WAIT_MS = 5_000;

/**
 * Something a batcher reads from Kafka only while someone uses it: started on first use,
 * closed after `idleMs` without use. A batcher follows topics for rare requests
 * (`?wait=appended`, GET /deferred); following them all the time cost it more CPU than
 * producing the records did (docs/performance.md). Every start is bounded (`startMs`) and
 * close() ends one still under way, so an unreachable broker never hangs a request, an idle
 * stop or a shutdown, and never leaves a consumer behind.
 */
export class LazyFollower<R extends LazyResource> {
  private running: Promise<R> | undefined;
  private lastUse = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly idleMs: number;
  private readonly startMs: number;
  private readonly keep: () => boolean;
  /** Settles when close() is called: a start under way gives up at once. */
  private readonly closing: Promise<'closing'>;
  private markClosing!: () => void;
  /** Starts given up (timeout, closing) and idle stops whose resource is still being stopped. */
  private readonly abandoned = new Set<Promise<void>>();

  constructor(
    private readonly what: string,
    private readonly start: () => Promise<R>,
    private readonly logger: Logger,
    { idleMs = 300_000, startMs = 30_000, keep = () => false }: LazyFollowerOptions = {},
  ) {
    this.idleMs = idleMs;
    this.startMs = startMs;
    this.keep = keep;
    this.closing = new Promise((r) => (this.markClosing = () => r('closing')));
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
      const started = this.begin();
      this.running = started;
      started.catch(() => {
        if (this.running === started) this.running = undefined;
      });
      this.logger.debug(`${this.what} starting`);
    }
    return this.running;
  }

  private async begin(): Promise<R> {
    const started = this.start();
    let timer: NodeJS.Timeout | undefined;
    let outcome: 'ready' | 'closing' | 'timeout';
    try {
      outcome = await Promise.race([
        started.then((r) => r.ready).then(() => 'ready' as const),
        this.closing,
        new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), this.startMs))),
      ]);
    } finally {
      clearTimeout(timer);
    }
    if (outcome === 'ready') return started;
    void this.stop(started);
    throw new Error(
      outcome === 'timeout' ? `${this.what} not ready after ${this.startMs} ms` : 'closing',
    );
  }

  private async closeIfIdle(): Promise<void> {
    const r = this.running;
    if (!r || this.keep() || Date.now() - this.lastUse < this.idleMs) return;
    this.running = undefined;
    this.logger.debug(`${this.what} idle; stopping`);
    await this.stop(r);
  }

  /**
   * Closes a resource that is no longer `running` (a given-up start, an idle stop), kept in
   * `abandoned` meanwhile so that close() waits for it too: an idle stop close() did not wait
   * for left a consumer leaving its group after shutdown (found in CI: kafkajs loading its
   * LeaveGroup encoder after the test's environment was gone).
   */
  private async stop(r: Promise<R>): Promise<void> {
    const stopping = r.then((res) => res.close()).catch(() => undefined);
    this.abandoned.add(stopping);
    await stopping;
    this.abandoned.delete(stopping);
  }

  async close(): Promise<void> {
    this.markClosing();
    clearInterval(this.timer);
    const r = this.running;
    this.running = undefined;
    await (await r?.catch(() => undefined))?.close();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.abandoned),
      new Promise((r) => (timer = setTimeout(r, ABANDON_WAIT_MS))),
    ]);
    clearTimeout(timer);
  }
}
