import type { Producer, Transaction } from 'kafkajs';
import { metrics } from '../metrics';
import { chunkBySize, MAX_REQUEST_BYTES } from './chunk';
import { groupByTopic } from './producer';
import { retryConcurrentTransactions } from './retry';
import type { OutMessage } from './types';

/** An input offset to commit to a consumer group inside the transaction. */
export interface GroupOffset {
  groupId: string;
  topic: string;
  partition: number;
  /** The last processed input offset: the group is told to resume after it. */
  offset: string;
}

/**
 * One Kafka transaction on `producer`: `messages` (in request-sized chunks) and, with
 * `groupOffset`, the input offset for the group (sendOffsets), committed together or not at
 * all. On failure the transaction is aborted (best effort) and the error rethrown as kafkajs
 * gave it: the caller decides between "fenced" and "outcome unknown".
 */
export async function commitTransaction(
  producer: Producer,
  messages: OutMessage[],
  groupOffset: GroupOffset | undefined,
  stage: string,
): Promise<void> {
  let tx: Transaction | undefined;
  const started = performance.now();
  try {
    tx = await producer.transaction();
    for (const chunk of chunkBySize(messages, MAX_REQUEST_BYTES)) {
      await tx.sendBatch({ acks: -1, topicMessages: groupByTopic(chunk) });
    }
    if (groupOffset) {
      const active = tx;
      const { groupId, topic, partition, offset } = groupOffset;
      await retryConcurrentTransactions(() =>
        active.sendOffsets({
          consumerGroupId: groupId,
          topics: [
            { topic, partitions: [{ partition, offset: (BigInt(offset) + 1n).toString() }] },
          ],
        }),
      );
    }
    await tx.commit();
  } catch (e) {
    await tx?.abort().catch(() => undefined);
    throw e;
  }
  metrics().transactionSeconds.observe({ stage }, (performance.now() - started) / 1000);
}
