import type { Consumer, PartitionOffset } from 'kafkajs';
import type { Logger } from '../logger';
import type { KafkaClient } from './client';
import { toInMessage } from './reader';
import type { InBatch } from './types';

export interface AtLeastOnceOptions {
  kafka: KafkaClient;
  groupId: string;
  topic: string;
  logger: Logger;
  sessionTimeoutMs?: number;
  /** Must finish the batch's effects; its offsets are committed only after it resolves. */
  handle: (batch: InBatch) => Promise<void>;
  /**
   * Stored with the batch's committed offset (Kafka offset metadata): what a reader of the
   * group's offsets (the admin view) should know about the progress, e.g. the sender's last
   * forwarded TOId.
   */
  commitMetadata?: (batch: InBatch) => string | undefined;
}

/**
 * A consumer group member that commits a batch's offsets only after `handle` finished it:
 * at-least-once. For effects outside this Kafka cluster (a peer datacenter's cluster), where
 * one transaction cannot cover both; the receiving side deduplicates.
 */
export async function startAtLeastOnce(
  opts: AtLeastOnceOptions,
): Promise<{ close(): Promise<void> }> {
  const consumer: Consumer = opts.kafka.consumer({
    groupId: opts.groupId,
    sessionTimeout: opts.sessionTimeoutMs ?? 10000,
    heartbeatInterval: 2000,
    maxWaitTimeInMs: 50,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 10000 },
  });
  await consumer.connect();
  await consumer.subscribe({ topic: opts.topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isStale }) => {
      if (isStale() || batch.messages.length === 0) return;
      const last = batch.messages[batch.messages.length - 1].offset;
      const inBatch: InBatch = {
        topic: batch.topic,
        partition: batch.partition,
        highWatermark: batch.highWatermark,
        messages: batch.messages.map((m) => toInMessage(batch.topic, batch.partition, m)),
      };
      await opts.handle(inBatch);
      resolveOffset(last);
      // kafkajs passes partition entries through to OffsetCommit, metadata included, though
      // its typings only name partition and offset.
      const committed: PartitionOffset & { metadata?: string | null } = {
        partition: batch.partition,
        offset: (BigInt(last) + 1n).toString(),
        metadata: opts.commitMetadata?.(inBatch) ?? null,
      };
      await commitOffsetsIfNecessary({
        topics: [{ topic: batch.topic, partitions: [committed] }],
      });
      await heartbeat();
    },
  });
  return { close: () => consumer.disconnect() };
}
