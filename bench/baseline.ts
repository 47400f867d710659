/**
 * The baseline of issue 8 §2: the thinnest kafkajs chain with the SAME Kafka hops as the
 * pipeline — ingest → filtered → released → log, three transactional consume→produce hops
 * (a transactional producer per input partition, one transaction per fetched batch, with
 * sendOffsets at most once per kafka.offsetCommitIntervalMs per partition as the stages do,
 * read_committed consumers, the same consumer settings as TransactionalStage)
 * and no logic: each message is forwarded as it is (key, value), ingest partition P to
 * filtered partition P, then to the single partition of released and of log.
 * Whatever Chariots does beyond this is the cost of its logic; this is the limit of the design.
 */
import type { Consumer, Kafka, Producer } from 'kafkajs';
import { loadConfig } from '../src/config/load';
import { TRANSACTIONAL_RETRY } from '../src/kafka';
import type { Logger } from '../src/logger';

/** The stages' kafka.offsetCommitIntervalMs: from the env the stage processes get, else the default. */
function stagesOffsetInterval(): number {
  const env = process.env.CHARIOTS_KAFKA_OFFSET_COMMIT_INTERVAL_MS;
  return env !== undefined ? Number(env) : loadConfig({ env: {} }).kafka.offsetCommitIntervalMs;
}

export interface Hop {
  from: string;
  to: string;
  /** Output partition for input partition p. */
  partition: (p: number) => number;
}

export interface Baseline {
  close(): Promise<void>;
}

export async function startHop(
  kafka: Kafka,
  hop: Hop,
  prefix: string,
  logger: Logger,
  concurrency = 1,
  offsetCommitIntervalMs = stagesOffsetInterval(),
): Promise<() => Promise<void>> {
  const groupId = `${prefix}baseline.${hop.from}`;
  /** When each input partition's offset last went into a transaction (performance.now()). */
  const offsetsAt = new Map<number, number>();
  const consumer: Consumer = kafka.consumer({
    groupId,
    readUncommitted: false,
    sessionTimeout: 10000,
    rebalanceTimeout: 20000,
    heartbeatInterval: 2000,
    maxWaitTimeInMs: 50,
  });
  const producers = new Map<number, Promise<Producer>>();
  const producerFor = (p: number) => {
    let pr = producers.get(p);
    if (!pr) {
      const producer = kafka.producer({
        transactionalId: `${prefix}baseline.${hop.to}-${p}`,
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: 60000,
        // As Chariots' stages: the same transactions, the same retry of a busy coordinator.
        retry: { ...TRANSACTIONAL_RETRY },
      });
      pr = producer.connect().then(() => producer);
      producers.set(p, pr);
    }
    return pr;
  };
  await consumer.connect();
  await consumer.subscribe({ topic: hop.from, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    // As the filter and queue (kafka.partitionsConsumedConcurrently): every input partition
    // has its own producer, so their transactions may overlap.
    partitionsConsumedConcurrently: concurrency,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isStale }) => {
      if (isStale() || batch.messages.length === 0) return;
      const producer = await producerFor(batch.partition);
      const last = batch.messages[batch.messages.length - 1].offset;
      const tx = await producer.transaction();
      try {
        await tx.sendBatch({
          acks: -1,
          topicMessages: [
            {
              topic: hop.to,
              messages: batch.messages.map((m) => ({
                key: m.key,
                value: m.value,
                partition: hop.partition(batch.partition),
              })),
            },
          ],
        });
        // The same transactions as the stages': the group offset at most once per interval
        // (the stages' changelogs record it in between; a chain without state has nowhere
        // else to put it, which only matters for a restart the bench never does).
        const now = performance.now();
        if (now - (offsetsAt.get(batch.partition) ?? -Infinity) >= offsetCommitIntervalMs) {
          await tx.sendOffsets({
            consumerGroupId: groupId,
            topics: [
              {
                topic: hop.from,
                partitions: [
                  { partition: batch.partition, offset: (BigInt(last) + 1n).toString() },
                ],
              },
            ],
          });
          offsetsAt.set(batch.partition, now);
        }
        await tx.commit();
      } catch (e) {
        await tx.abort().catch(() => undefined);
        logger.warn({ err: e, hop: hop.from }, 'baseline transaction failed');
        throw e;
      }
      resolveOffset(last);
      await heartbeat();
    },
  });
  return async () => {
    await consumer.disconnect();
    for (const p of producers.values()) await (await p).disconnect().catch(() => undefined);
  };
}

/** Starts the three hops, downstream first (as runStages does). */
export async function startBaseline(
  kafka: Kafka,
  topics: { ingest: string; filtered: string; released: string; log: string },
  prefix: string,
  logger: Logger,
  concurrency = 1,
): Promise<Baseline> {
  const hops: Hop[] = [
    { from: topics.released, to: topics.log, partition: () => 0 },
    { from: topics.filtered, to: topics.released, partition: () => 0 },
    { from: topics.ingest, to: topics.filtered, partition: (p) => p },
  ];
  const closers: Array<() => Promise<void>> = [];
  for (const h of hops) closers.push(await startHop(kafka, h, prefix, logger, concurrency));
  return {
    close: async () => {
      for (const c of closers.reverse()) await c();
    },
  };
}
