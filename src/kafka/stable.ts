import type { Admin } from 'kafkajs';
import type { Logger } from '../logger';
import type { KafkaClient } from './client';
import { withAdmin } from './retry';

/** End offsets of a topic's partitions: `stable` (what read_committed readers can reach) and `high`. */
async function endOffsets(
  kafka: KafkaClient,
  topic: string,
  logger: Logger,
): Promise<Map<number, { stable: bigint; high: bigint }>> {
  const read = (readUncommitted: boolean) =>
    withAdmin(
      kafka,
      `offsets of ${topic}`,
      (a) => a.fetchTopicOffsets(topic),
      logger,
      // `readUncommitted` on admin() comes from patches/kafkajs+2.2.4.patch (ListOffsets
      // isolation level): without it, kafkajs can only tell the last stable offset.
      () => (kafka.admin as (o: { readUncommitted: boolean }) => Admin)({ readUncommitted }),
    );
  const [stable, high] = await Promise.all([read(false), read(true)]);
  const out = new Map<number, { stable: bigint; high: bigint }>();
  for (const s of stable) {
    const h = high.find((x) => x.partition === s.partition);
    out.set(s.partition, { stable: BigInt(s.high), high: BigInt(h?.high ?? s.high) });
  }
  return out;
}

/**
 * Waits until no transaction is pending on the given partitions: the last stable offset
 * (LSO) has reached the high watermark.
 *
 * Why: a stage that took a partition over rebuilds its state from a changelog (or the log)
 * that only its own, just fenced, transactional id writes. The fence does not wait for the
 * previous owner's last transaction to become visible: its markers can still be on their way
 * (seen on this broker during a coordinator move: a queue restored deferred entries whose
 * release had committed, and released them again). A read_committed reader stops at the LSO,
 * so reading "to the end" right away would silently miss that transaction. Waiting until
 * LSO = high watermark closes the gap. A transaction that never completes (a hanging one)
 * would block here: it is logged with its offsets so an operator can abort it
 * (`kafka-transactions.sh find-hanging` / `abort`).
 */
export async function awaitStable(
  kafka: KafkaClient,
  topic: string,
  partitions: number[],
  logger: Logger,
  opts: { pollMs?: number; warnEveryMs?: number } = {},
): Promise<void> {
  const pollMs = opts.pollMs ?? 100;
  const warnEveryMs = opts.warnEveryMs ?? 5000;
  const started = Date.now();
  let warned = started;
  for (;;) {
    const ends = await endOffsets(kafka, topic, logger);
    const pending = partitions
      .map((p) => ({ partition: p, ...(ends.get(p) ?? { stable: 0n, high: 0n }) }))
      .filter((e) => e.stable < e.high);
    if (pending.length === 0) {
      if (Date.now() - started > 1000)
        logger.info({ topic, waitedMs: Date.now() - started }, 'pending transaction completed');
      return;
    }
    if (Date.now() - warned >= warnEveryMs) {
      warned = Date.now();
      logger.warn(
        {
          topic,
          waitedMs: Date.now() - started,
          pending: pending.map((e) => ({
            partition: e.partition,
            stable: String(e.stable),
            high: String(e.high),
          })),
        },
        'waiting for a pending transaction to complete before reading (a transaction that never completes must be aborted: kafka-transactions.sh find-hanging)',
      );
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
