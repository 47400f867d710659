import { randomUUID } from 'node:crypto';
import type { Consumer, KafkaMessage } from 'kafkajs';
import type { Logger } from '../logger';
import type { KafkaClient } from './client';
import { withAdmin } from './retry';
import { awaitStable } from './stable';
import type { InBatch, InMessage } from './types';

export function toInMessage(topic: string, partition: number, m: KafkaMessage): InMessage {
  const headers: Record<string, string> = {};
  if (m.headers)
    for (const [k, v] of Object.entries(m.headers))
      if (v !== undefined) headers[k] = Buffer.isBuffer(v) ? v.toString() : String(v);
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key,
    value: m.value,
    timestamp: m.timestamp,
    headers,
  };
}

export type StartPosition = 'earliest' | 'latest' | Record<number, string>;

export interface FollowOptions {
  topic: string;
  /** Where to start; a map gives an offset per partition (others start earliest). */
  from: StartPosition;
  /** Only these partitions are delivered (default all). */
  partitions?: number[];
  onBatch: (batch: InBatch) => Promise<void> | void;
  logger: Logger;
  /** read_committed unless told otherwise: nothing of an aborted transaction is ever seen. */
  readUncommitted?: boolean;
}

export interface Follower {
  /** Resolves once every followed partition has been delivered up to its end as of start. */
  caughtUp: Promise<void>;
  /** Stops fetching the followed partitions (no CPU spent decoding them) until resume(). */
  pause(): void;
  /** Fetches again, from `from` where given (offset per partition), else where it paused. */
  resume(from?: Record<number, string>): void;
  close(): Promise<void>;
}

/**
 * Reads a topic outside any consumer group's work sharing: kafkajs only consumes through a
 * group, so each follower gets its own throw-away group id (no offsets are ever committed)
 * and therefore every partition. Used to rebuild state from changelogs and to tail the log.
 */
export async function followTopic(kafka: KafkaClient, opts: FollowOptions): Promise<Follower> {
  const offsets = await withAdmin(
    kafka,
    `offsets of ${opts.topic}`,
    (a) => a.fetchTopicOffsets(opts.topic),
    opts.logger,
  );
  const wanted = new Set(opts.partitions ?? offsets.map((o) => o.partition));
  // What "caught up" means per partition: the end offset as of now (or nothing to read).
  const targets = new Map<number, bigint>();
  for (const o of offsets) {
    if (!wanted.has(o.partition)) continue;
    const start =
      typeof opts.from === 'object'
        ? BigInt(opts.from[o.partition] ?? o.low)
        : opts.from === 'latest'
          ? BigInt(o.high)
          : BigInt(o.low);
    const end = BigInt(o.high);
    if (end > start && end > BigInt(o.low)) targets.set(o.partition, end);
  }
  let markCaughtUp!: () => void;
  const caughtUp = new Promise<void>((res) => (markCaughtUp = res));
  const progress = (partition: number, lastOffset: string) => {
    const t = targets.get(partition);
    if (t !== undefined && BigInt(lastOffset) + 1n >= t) targets.delete(partition);
    if (targets.size === 0) markCaughtUp();
  };
  if (targets.size === 0) markCaughtUp();

  const consumer: Consumer = kafka.consumer({
    groupId: `chariots-reader-${randomUUID()}`,
    readUncommitted: opts.readUncommitted ?? false,
    sessionTimeout: 30000,
    heartbeatInterval: 3000,
    maxWaitTimeInMs: 100,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5000 },
  });
  // Batches made only of transaction markers never reach eachBatch; this event still tells
  // how far the partition has been read, so caught-up is detected at a marker-terminated end.
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    const { topic, partition, lastOffset } = e.payload as {
      topic: string;
      partition: number;
      lastOffset: string;
    };
    if (topic === opts.topic && wanted.has(partition)) progress(partition, lastOffset);
  });
  await consumer.connect();
  await consumer.subscribe({ topic: opts.topic, fromBeginning: opts.from !== 'latest' });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: true,
    eachBatch: async ({ batch, heartbeat }) => {
      if (!wanted.has(batch.partition)) return;
      if (batch.messages.length > 0) {
        await opts.onBatch({
          topic: batch.topic,
          partition: batch.partition,
          highWatermark: batch.highWatermark,
          messages: batch.messages.map((m) => toInMessage(batch.topic, batch.partition, m)),
        });
      }
      await heartbeat();
    },
  });
  if (typeof opts.from === 'object') {
    for (const p of wanted) {
      const off = opts.from[p];
      if (off !== undefined) consumer.seek({ topic: opts.topic, partition: p, offset: off });
    }
  } else if (opts.from === 'latest') {
    // "latest" = the end as of this call, exactly: left to the group's offset reset, it would
    // be the end as of the first fetch, and whatever was written in between would be skipped.
    for (const o of offsets)
      if (wanted.has(o.partition))
        consumer.seek({ topic: opts.topic, partition: o.partition, offset: o.high });
  }
  const pausedOthers = offsets.map((o) => o.partition).filter((p) => !wanted.has(p));
  if (pausedOthers.length > 0) consumer.pause([{ topic: opts.topic, partitions: pausedOthers }]);
  return {
    caughtUp,
    pause: () => consumer.pause([{ topic: opts.topic, partitions: [...wanted] }]),
    resume: (from) => {
      for (const [p, off] of Object.entries(from ?? {}))
        consumer.seek({ topic: opts.topic, partition: Number(p), offset: off });
      consumer.resume([{ topic: opts.topic, partitions: [...wanted] }]);
    },
    close: async () => {
      await consumer.disconnect();
    },
  };
}

/**
 * Reads the partitions to their current end, then stops. `awaitPending`: first wait until no
 * transaction is pending on them (see stable.ts) — for a stage rebuilding from a changelog
 * only its own, just fenced, transactional id writes.
 */
export async function readToEnd(
  kafka: KafkaClient,
  opts: Omit<FollowOptions, 'from'> & { from?: StartPosition; awaitPending?: boolean },
): Promise<void> {
  if (opts.awaitPending) {
    if (!opts.partitions) throw new Error('readToEnd: awaitPending needs explicit partitions');
    await awaitStable(kafka, opts.topic, opts.partitions, opts.logger);
  }
  const f = await followTopic(kafka, { ...opts, from: opts.from ?? 'earliest' });
  try {
    await f.caughtUp;
  } finally {
    await f.close();
  }
}
