import { BrokerUnavailableError } from '../../errors';
import type { Follower, KafkaClient } from '../../kafka';
import type { Logger } from '../../logger';
import { followLogForWaiters } from './followers';
import { LazyFollower } from './lazy-follower';
import type { AppendWaiters } from './waiters';

/**
 * The log follower behind `?wait=appended`, started on first use and stopped after
 * `idleMs` without waiters. A batcher that nobody asks to wait does not read the whole log
 * (it cost the batcher about as much CPU as producing the records did).
 *
 * `ready()` resolves once the follower's position is fixed at the log's end as of the call
 * (followTopic seeks to it), so a record produced after `ready()` resolved is always seen.
 */
export class LogWaiterFeed {
  private readonly follower: LazyFollower<Follower>;

  constructor(
    kafka: KafkaClient,
    topic: string,
    waiters: AppendWaiters,
    logger: Logger,
    idleMs = 300_000,
  ) {
    this.follower = new LazyFollower(
      'log follower for wait=appended',
      () => followLogForWaiters(kafka, topic, waiters, logger),
      logger,
      { idleMs, keep: () => waiters.size > 0 },
    );
  }

  get running(): boolean {
    return this.follower.started;
  }

  async ready(): Promise<void> {
    try {
      await this.follower.use();
    } catch (e) {
      throw new BrokerUnavailableError('cannot follow the log to wait for the append', e);
    }
  }

  close(): Promise<void> {
    return this.follower.close();
  }
}
