import type { FlStore } from '../../flstore';
import { followTopic, type InBatch, type KafkaClient } from '../../kafka';
import type { Logger } from '../../logger';
import { planBatch } from './consume';

export interface FillProgress {
  /** Offset of the last message read, and the partition's end when it was fetched. */
  offset: bigint;
  end: bigint;
  lastLid: number;
}

/**
 * Appends the log topic to `store` from the offset after its last record up to the end of
 * the partition as of now, then stops (`chariots rebuild`, and any one-shot catch-up).
 * A gap or an undecodable message rejects, leaving the store at the last good record.
 */
export async function fillFromLog(opts: {
  kafka: KafkaClient;
  topic: string;
  store: FlStore;
  logger: Logger;
  onProgress?: (p: FillProgress) => void;
}): Promise<void> {
  const { store } = opts;
  let failure: unknown;
  let fail!: (e: unknown) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  const onBatch = async (b: InBatch) => {
    if (failure) return;
    const plan = planBatch(store.lastLid(), b.messages);
    try {
      await store.append(plan.entries);
      if (!plan.ok) throw plan.error;
    } catch (e) {
      failure = e;
      fail(e);
      return;
    }
    const last = b.messages[b.messages.length - 1];
    opts.onProgress?.({
      offset: BigInt(last.offset),
      end: BigInt(b.highWatermark),
      lastLid: store.lastLid(),
    });
  };
  const from = store.lastLid() > 0 ? { 0: String(BigInt(store.lastOffset()) + 1n) } : 'earliest';
  const follower = await followTopic(opts.kafka, {
    topic: opts.topic,
    partitions: [0],
    from,
    logger: opts.logger,
    onBatch,
  });
  try {
    await Promise.race([follower.caughtUp, failed]);
  } finally {
    await follower.close();
  }
}
