import type { Producer } from 'kafkajs';
import type { Logger } from '../logger';
import type { KafkaClient } from './client';

export interface PrepareOptions {
  kafka: KafkaClient;
  groupId: string;
  topic: string;
  partition: number;
  logger: Logger;
  /** The stage's rebuild; may return the next input offset its own changelog records. */
  onAssign?: (partition: number) => Promise<bigint | void>;
  /** False once this preparation was superseded (rebalance, reset): stop retrying. */
  isCurrent: () => boolean;
}

export const isFenced = (e: unknown): boolean => {
  const t = (e as { type?: string }).type ?? '';
  const m = (e as Error).message ?? '';
  return (
    ['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED'].includes(
      t,
    ) || /fenced|epoch/i.test(m)
  );
};

async function committedOffset(opts: PrepareOptions): Promise<bigint> {
  const admin = opts.kafka.admin();
  await admin.connect();
  try {
    const committed = await admin.fetchOffsets({ groupId: opts.groupId, topics: [opts.topic] });
    const off =
      committed[0]?.partitions.find((x) => x.partition === opts.partition)?.offset ?? '-1';
    return BigInt(off) >= 0n ? BigInt(off) : 0n;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Takes partition P over: fences any previous owner, then reads where P's input stands and
 * rebuilds the stage's state. Returns the first input offset still to process, or undefined
 * when superseded. Retries (backing off to 5 s) until it succeeds or is superseded.
 *
 * Order matters: InitProducerId first (it aborts a zombie's open transaction and refuses
 * its next write), only then the committed offset (final now: no zombie can move it) and
 * the rebuild.
 */
export async function preparePartition(
  producer: Producer,
  opts: PrepareOptions,
): Promise<bigint | undefined> {
  const { partition, topic, logger } = opts;
  for (let attempt = 0; ; attempt++) {
    try {
      await producer.connect();
      const fence = await producer.transaction();
      await fence.abort();
      const committed = await committedOffset(opts);
      // The committed group offset can lag the last committed transaction: the broker
      // applies a transaction's offsets to the group when it handles the commit marker,
      // which may be after InitProducerId already answered (kafkajs cannot ask for stable
      // offsets, KIP-447). Reprocessing that transaction's input would write its output a
      // second time, so a stage that records its input position in its own changelog wins.
      const resume = await opts.onAssign?.(partition);
      if (typeof resume === 'bigint' && resume > committed) {
        logger.warn(
          { topic, partition, committed: String(committed), resume: String(resume) },
          'committed offset behind the changelog; resuming after the last committed transaction',
        );
        return resume;
      }
      return committed;
    } catch (e) {
      if (!opts.isCurrent()) return undefined;
      logger.warn({ err: e, partition, attempt }, 'preparing partition failed; retrying');
      await new Promise((r) => setTimeout(r, Math.min(5000, 200 * 2 ** attempt)));
    }
  }
}
