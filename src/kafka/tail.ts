import type { Logger } from '../logger';
import type { KafkaClient } from './client';
import { followTopic } from './reader';
import { withAdmin } from './retry';
import { awaitStable } from './stable';
import type { InMessage } from './types';

/**
 * A partition's first offset and its end for read_committed readers (the last stable
 * offset), retried: right after the topics are created ListOffsets answers NOT_LEADER.
 */
export async function partitionOffsets(
  kafka: KafkaClient,
  topic: string,
  partition: number,
  logger: Logger,
): Promise<{ low: string; high: string } | undefined> {
  const offsets = await withAdmin(
    kafka,
    `offsets of ${topic}`,
    (a) => a.fetchTopicOffsets(topic),
    logger,
  );
  return offsets.find((x) => x.partition === partition);
}

/**
 * The last `count` committed messages of a partition, oldest first (fewer if the partition
 * holds fewer). With transactions the newest offsets may be commit/abort markers or aborted
 * data (never delivered to read_committed readers), so read a window before the end and
 * widen it until enough messages are found or the start is reached.
 */
export async function readTail(
  kafka: KafkaClient,
  topic: string,
  partition: number,
  count: number,
  logger: Logger,
  /** First wait until no transaction is pending on the partition (see stable.ts). */
  opts: { awaitPending?: boolean } = {},
): Promise<InMessage[]> {
  if (count <= 0) return [];
  if (opts.awaitPending) await awaitStable(kafka, topic, [partition], logger);
  const o = await partitionOffsets(kafka, topic, partition, logger);
  const low = BigInt(o?.low ?? '0');
  const high = BigInt(o?.high ?? '0');
  // Markers take about one offset per transaction: a window a little wider than `count`
  // usually holds enough messages on the first read.
  for (let window = BigInt(Math.max(64, Math.ceil(count * 1.1))); ; window *= 8n) {
    const from = high - window > low ? high - window : low;
    const got: InMessage[] = [];
    const f = await followTopic(kafka, {
      topic,
      partitions: [partition],
      from: { [partition]: from.toString() },
      logger,
      onBatch: (b) => {
        for (const m of b.messages) if (BigInt(m.offset) < high) got.push(m);
      },
    });
    try {
      await f.caughtUp;
    } finally {
      await f.close();
    }
    if (got.length >= count || from === low) return got.slice(-count);
  }
}
