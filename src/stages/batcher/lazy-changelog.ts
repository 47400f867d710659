import { BrokerUnavailableError } from '../../errors';
import type { KafkaClient } from '../../kafka';
import type { Logger } from '../../logger';
import { ChangelogView } from './changelog-view';
import { followChangelog } from './followers';
import { LazyFollower } from './lazy-follower';

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
   * answered 503 and the follower stopped (lazy-follower.ts). The next request starts over.
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
  private readonly follower: LazyFollower<{
    view: ChangelogView<T>;
    ready: Promise<void>;
    close(): Promise<void>;
  }>;

  constructor(
    kafka: KafkaClient,
    private readonly topic: string,
    parse: (key: string, value: Buffer) => T,
    logger: Logger,
    { idleMs = 300_000, catchUpMs = 30_000 }: LazyChangelogOptions = {},
  ) {
    this.follower = new LazyFollower(
      `${topic} view`,
      async () => {
        const view = new ChangelogView<T>(parse);
        const f = await followChangelog(kafka, topic, view, logger);
        return { view, ready: f.caughtUp, close: () => f.close() };
      },
      logger,
      { idleMs, startMs: catchUpMs },
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

  close(): Promise<void> {
    return this.follower.close();
  }
}
