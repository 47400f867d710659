import {
  followTopic,
  partitionOffsets,
  readTail,
  type Follower,
  type InMessage,
  type KafkaClient,
} from '../../kafka';
import type { Logger } from '../../logger';
import { RecentIds } from './recent-ids';

/**
 * The newest records of the log, followed continuously by every sequencer instance, active
 * or standby: the ids of the last `capacity` records (the dedup window) and the last message
 * (its LId, vector clock and released offset are where a new owner continues).
 *
 * Why follow instead of reading the tail at takeover: reading 200 000 records took 10–24 s
 * per takeover on a loaded 2-core machine (chaos run, 2026-11-26 12:47–12:58), and with a
 * sequencer killed every ~30 s the log barely moved. A standby that already follows the log
 * only has to catch up the last few records when it takes over.
 */
export class LogTail {
  readonly recent: RecentIds;
  private lastMessage: InMessage | undefined;
  private lastOffset = -1n;
  private paused = false;

  private constructor(
    private readonly capacity: number,
    private readonly follower: Follower,
  ) {
    this.recent = new RecentIds(capacity);
  }

  static async start(
    kafka: KafkaClient,
    topic: string,
    capacity: number,
    logger: Logger,
  ): Promise<LogTail> {
    const offsets = await partitionOffsets(kafka, topic, 0, logger);
    const low = BigInt(offsets?.low ?? '0');
    const high = BigInt(offsets?.high ?? '0');
    // Markers take about one offset per transaction: a window a little wider than `capacity`.
    const window = BigInt(Math.ceil(capacity * 1.1));
    const from = high - window > low ? high - window : low;
    // Batches can arrive before followTopic returns (and the LogTail exists): buffered.
    const box: { tail?: LogTail } = {};
    const pending: InMessage[] = [];
    const follower = await followTopic(kafka, {
      topic,
      partitions: [0],
      from: { 0: from.toString() },
      logger,
      onBatch: (b) => {
        if (box.tail) box.tail.take(b.messages);
        else pending.push(...b.messages);
      },
    });
    const tail = new LogTail(capacity, follower);
    tail.take(pending);
    box.tail = tail;
    return tail;
  }

  private take(messages: InMessage[]): void {
    for (const m of messages) {
      if (m.key) this.recent.add(m.key.toString());
      this.lastMessage = m;
      this.lastOffset = BigInt(m.offset);
    }
  }

  /**
   * Takeover: the last committed log message once this follower has seen it (call after the
   * fence and awaitStable, so nothing newer can appear), or undefined for an empty log. The
   * follower then pauses: while this instance is the active sequencer it is the log's only
   * writer and its own commits feed `recent`, so following would only decode its own output
   * again (a kafkajs fetch + decode of every log record).
   */
  async takeOver(
    kafka: KafkaClient,
    topic: string,
    logger: Logger,
  ): Promise<InMessage | undefined> {
    await this.follow(kafka, topic, logger);
    const [end] = await readTail(kafka, topic, 0, 1, logger);
    if (end) {
      const target = BigInt(end.offset);
      while (this.lastOffset < target) await new Promise((r) => setTimeout(r, 20));
    }
    this.follower.pause();
    this.paused = true;
    return end ? this.lastMessage : undefined;
  }

  /**
   * Standby (or a takeover after a failed or superseded transaction, whose ids never reached
   * `recent`): follow the log again. What was written while paused is read from where the
   * follower stopped, but no further back than the dedup window.
   */
  async follow(kafka: KafkaClient, topic: string, logger: Logger): Promise<void> {
    if (!this.paused) return;
    const offsets = await partitionOffsets(kafka, topic, 0, logger);
    const high = BigInt(offsets?.high ?? '0');
    const windowStart = high - BigInt(Math.ceil(this.capacity * 1.1));
    const from = windowStart > this.lastOffset + 1n ? windowStart : this.lastOffset + 1n;
    this.paused = false;
    this.follower.resume({ 0: from.toString() });
  }

  close(): Promise<void> {
    return this.follower.close();
  }
}
