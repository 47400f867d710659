import type { Logger } from '../logger';
import type { KafkaClient } from './client';
import { followTopic } from './reader';
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
  const admin = kafka.admin();
  await admin.connect();
  let low: bigint;
  let high: bigint;
  try {
    const o = (await admin.fetchTopicOffsets(topic)).find((x) => x.partition === partition);
    low = BigInt(o?.low ?? '0');
    high = BigInt(o?.high ?? '0');
  } finally {
    await admin.disconnect();
  }
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
