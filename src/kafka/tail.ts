import type { Logger } from '../logger';
import type { KafkaClient } from './client';
import { followTopic } from './reader';
import { withRetry } from './retry';
import type { InMessage } from './types';

/**
 * The last committed message of a partition. With transactions the newest offsets may be
 * commit/abort markers or aborted data (never delivered to read_committed readers), so read
 * a window before the end and widen it until a message is found or the start is reached.
 */
export async function readLastMessage(
  kafka: KafkaClient,
  topic: string,
  partition: number,
  logger: Logger,
): Promise<InMessage | undefined> {
  const o = await withRetry(
    `offsets of ${topic}`,
    async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        return (await admin.fetchTopicOffsets(topic)).find((x) => x.partition === partition);
      } finally {
        await admin.disconnect();
      }
    },
    logger,
  );
  const low = BigInt(o?.low ?? '0');
  const high = BigInt(o?.high ?? '0');
  for (let window = 64n; ; window *= 8n) {
    const from = high - window > low ? high - window : low;
    let last: InMessage | undefined;
    const f = await followTopic(kafka, {
      topic,
      partitions: [partition],
      from: { [partition]: from.toString() },
      logger,
      onBatch: (b) => {
        const m = b.messages[b.messages.length - 1];
        if (m && BigInt(m.offset) < high) last = m;
      },
    });
    try {
      await f.caughtUp;
    } finally {
      await f.close();
    }
    if (last || from === low) return last;
  }
}
