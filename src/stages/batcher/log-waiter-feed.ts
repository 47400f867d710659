import { BrokerUnavailableError } from '../../errors';
import type { Follower, KafkaClient } from '../../kafka';
import type { Logger } from '../../logger';
import { followLogForWaiters } from './followers';
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
  private follower: Promise<Follower> | undefined;
  private lastUse = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly kafka: KafkaClient,
    private readonly topic: string,
    private readonly waiters: AppendWaiters,
    private readonly logger: Logger,
    private readonly idleMs = 300_000,
  ) {
    this.timer = setInterval(() => void this.closeIfIdle(), Math.min(idleMs, 60_000));
    this.timer.unref();
  }

  get running(): boolean {
    return this.follower !== undefined;
  }

  async ready(): Promise<void> {
    this.lastUse = Date.now();
    if (!this.follower) {
      const started = followLogForWaiters(this.kafka, this.topic, this.waiters, this.logger);
      this.follower = started;
      started.catch(() => {
        if (this.follower === started) this.follower = undefined;
      });
      this.logger.debug('log follower for wait=appended starting');
    }
    try {
      await this.follower;
    } catch (e) {
      throw new BrokerUnavailableError('cannot follow the log to wait for the append', e);
    }
  }

  private async closeIfIdle(): Promise<void> {
    const f = this.follower;
    if (!f || this.waiters.size > 0 || Date.now() - this.lastUse < this.idleMs) return;
    this.follower = undefined;
    this.logger.debug('log follower for wait=appended idle; stopping');
    await (await f.catch(() => undefined))?.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    const f = this.follower;
    this.follower = undefined;
    await (await f?.catch(() => undefined))?.close();
  }
}
