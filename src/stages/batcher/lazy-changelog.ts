import { BrokerUnavailableError } from '../../errors';
import type { KafkaClient } from '../../kafka';
import type { Logger } from '../../logger';
import { ChangelogView } from './changelog-view';
import { followChangelog } from './followers';
import { LazyFollower } from './lazy-follower';

const ABANDON_WAIT_MS = 5_000;

/** Where the admin routes get a changelog's view from. */
export interface ViewSource<T> {
  /** The view, caught up with the topic's end as of the first use. */
  view(): Promise<ChangelogView<T>>;
}

export interface LazyChangelogOptions {
  /** Stop following this long after the last request (ms). */
  idleMs?: number;
  /**
   * A first request waits at most this long for the view to catch up (ms); then it is
   * answered 503 and the follower stopped, so that a broker outage neither hangs requests
   * nor leaves a consumer behind. The next request starts over.
   */
  catchUpMs?: number;
}

/**
 * A compacted changelog (`deferred`, `deadletter`) read into a ChangelogView only while
 * someone lists it: the first request starts a follower from the earliest offset and waits
 * until it caught up; `idleMs` after the last request the follower stops and the view is
 * dropped. Following `deferred` all the time cost every batcher 2 ms of CPU per 1 000
 * records through the pipeline (each queue transaction writes to it) and ~35 MB of memory
 * (docs/performance.md, session 9) for a list that is rarely asked for.
 */
export class LazyChangelogView<T> implements ViewSource<T> {
  private readonly follower: LazyFollower<{ view: ChangelogView<T>; close(): Promise<void> }>;
  /** Settles when close() is called: a start still catching up gives up at once. */
  private readonly closing: Promise<void>;
  private markClosing!: () => void;
  /** Starts given up (timeout, closing) whose follower is still being stopped. */
  private readonly abandoned = new Set<Promise<void>>();

  constructor(
    kafka: KafkaClient,
    private readonly topic: string,
    parse: (key: string, value: Buffer) => T,
    logger: Logger,
    { idleMs = 300_000, catchUpMs = 30_000 }: LazyChangelogOptions = {},
  ) {
    this.closing = new Promise((r) => (this.markClosing = r));
    this.follower = new LazyFollower(
      `${topic} view`,
      async () => {
        const view = new ChangelogView<T>(parse);
        // The whole start is bounded: with the broker down, even connecting retries forever.
        const started = followChangelog(kafka, topic, view, logger);
        let timer: NodeJS.Timeout | undefined;
        let outcome: 'caught up' | 'closing' | 'timeout';
        try {
          outcome = await Promise.race([
            started.then((f) => f.caughtUp).then(() => 'caught up' as const),
            this.closing.then(() => 'closing' as const),
            new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), catchUpMs))),
          ]);
        } finally {
          clearTimeout(timer);
        }
        if (outcome !== 'caught up') {
          // Stopped whenever it gets that far: no consumer is left behind.
          const stopping = started.then((f) => f.close()).catch(() => undefined);
          this.abandoned.add(stopping);
          void stopping.then(() => this.abandoned.delete(stopping));
          throw new Error(
            outcome === 'timeout'
              ? `not caught up with ${topic} after ${catchUpMs} ms`
              : 'the batcher is closing',
          );
        }
        const f = await started;
        return { view, close: () => f.close() };
      },
      logger,
      idleMs,
    );
  }

  get running(): boolean {
    return this.follower.started;
  }

  async view(): Promise<ChangelogView<T>> {
    try {
      return (await this.follower.use()).view;
    } catch (e) {
      throw new BrokerUnavailableError(`cannot read the ${this.topic} topic`, e);
    }
  }

  /**
   * Ends a start still catching up at once; waits up to `ABANDON_WAIT_MS` for given-up starts
   * to stop their consumers (with the broker gone, connecting never ends: no waiting forever).
   */
  async close(): Promise<void> {
    this.markClosing();
    await this.follower.close();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.abandoned),
      new Promise((r) => (timer = setTimeout(r, ABANDON_WAIT_MS))),
    ]);
    clearTimeout(timer);
  }
}
