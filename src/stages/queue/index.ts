import { setFlagsFromString } from 'node:v8';
import { readToEnd, TransactionalStage, type TxContext } from '../../kafka';
import { addDeferredSource, metrics, recordLag } from '../../metrics';
import { packFor, unpackBatch } from '../packing';
import type { StageContext, StageHandle } from '../types';
import { CausalQueue } from './causal-queue';
import { startLogFeed } from './log-feed';
import { ChangelogRestore } from './restore';

/**
 * The causal queue stage (decisions in causal-queue.ts). A record is released to the
 * one-partition `released` topic, which the sequencer numbers in order, only once every
 * prerequisite is in the log or was released before it through the same partition's
 * producer: so its LId is larger than theirs (guarantee 1), whatever the partitioning, the
 * number of queue instances, or crashes.
 *
 * State per filtered partition: the deferred records, in the compacted `deferred` changelog
 * (written in the same transaction as the input offset; a tombstone in the same
 * transaction as the release or the dead letter). The log index is global and rebuilt at
 * start from the `logkeys` topic (what each log record provides, written by the sequencer
 * with the log; log-feed.ts); every queue instance follows all of it.
 *
 * `filtered` and `released` messages carry packs of records (src/record/pack.ts): a
 * filtered message is unpacked here, and every transaction (a batch's, or the out-of-band
 * release of woken records) packs what it releases.
 */
export async function start(ctx: StageContext): Promise<StageHandle> {
  const logger = ctx.logger.child({ stage: 'queue' });
  const { deferTimeoutMs, scanIntervalMs, heapGrowthPercent } = ctx.config.queue;
  // V8 reads this flag at every full collection, so setting it now takes effect. Its own
  // choice allows up to 4x the live heap on a large machine; 50 % trades ~50 MB of peak RSS
  // (100 000 deferred records) for ~15 % more queue CPU (docs/performance.md, session 9).
  if (heapGrowthPercent > 0) setFlagsFromString(`--heap-growing-percent=${heapGrowthPercent}`);
  // Assigned once below; `let` because the log follower may wake records before it exists.
  // eslint-disable-next-line prefer-const
  let stage: TransactionalStage | undefined;
  // Counts what a transaction releases and dead-letters, once it committed (metrics).
  const counted = (tx: TxContext): TxContext => {
    let released = 0;
    let dead = 0;
    tx.onCommit(() => {
      metrics().recordsOut.inc({ stage: 'queue' }, released);
      if (dead > 0) metrics().deadLetters.inc({ stage: 'queue' }, dead);
    });
    return {
      onCommit: (f) => tx.onCommit(f),
      send: (...m) => {
        for (const x of m) {
          if (x.topic === ctx.topics.released) released++;
          else if (x.topic === ctx.topics.deadletter && x.value !== null) dead++;
        }
        tx.send(...m);
      },
    };
  };
  const queue = new CausalQueue(
    ctx.topics,
    deferTimeoutMs,
    async (partition, fn) =>
      stage ? stage.transaction(partition, (tx) => fn(counted(tx))) : false,
    logger,
  );

  const indexStarted = Date.now();
  const logFeed = await startLogFeed({
    kafka: ctx.kafka,
    topics: ctx.topics,
    logger,
    lastLid: () => queue.index.lastLid,
    onKeys: (keys) => queue.onLog(keys),
  });
  await logFeed.caughtUp;
  logger.info(
    {
      lastLid: queue.index.lastLid,
      keys: queue.index.size,
      bytes: queue.index.bytes,
      ms: Date.now() - indexStarted,
    },
    'log index built',
  );

  stage = new TransactionalStage({
    stage: 'queue',
    kafka: ctx.kafka,
    groupId: `${ctx.topics.filtered}.queue`,
    topic: ctx.topics.filtered,
    transactionalIdPrefix: `${ctx.topics.released}.queue`,
    sessionTimeoutMs: ctx.config.kafka.sessionTimeoutMs,
    concurrency: ctx.config.kafka.partitionsConcurrency,
    offsetCommitIntervalMs: ctx.config.kafka.offsetCommitIntervalMs,
    stallMs: ctx.config.health.stallMs,
    logger,
    pack: packFor([ctx.topics.released]),
    onAssign: async (partition) => {
      queue.forgetPartition(partition);
      const changelog = new ChangelogRestore();
      await readToEnd(ctx.kafka, {
        topic: ctx.topics.deferred,
        partitions: [partition],
        logger,
        // A release that committed just before the fence must be seen, or its entries
        // would be restored and released again (see stable.ts).
        awaitPending: true,
        onBatch: (b) => {
          for (const m of b.messages) changelog.add(m.key, m.value);
        },
      });
      // In slices: 80 000 entries in one go blocked the event loop for seconds, and with it
      // the heartbeats of this instance's consumers.
      let deferred = 0;
      while (changelog.size > 0) {
        deferred += queue.restore(partition, changelog, 5000);
        await new Promise((r) => setImmediate(r));
      }
      logger.info({ partition, deferred }, 'deferred records restored');
      return changelog.resume;
    },
    onRevoke: (partition) => queue.forgetPartition(partition),
    process: (packed, tx) => {
      const batch = unpackBatch(packed, logger);
      tx.onCommit(() => {
        metrics().recordsIn.inc({ stage: 'queue' }, batch.messages.length);
        recordLag('queue', packed, packed.messages[packed.messages.length - 1].offset);
      });
      queue.processBatch(batch, counted(tx));
    },
  });

  const removeSource = addDeferredSource(() => queue.deferred.size);
  const expiry = setInterval(() => void queue.expire(), scanIntervalMs);
  expiry.unref();
  ctx.health.register('queue', () => stage?.readiness() ?? false);
  await stage.start();
  return {
    close: async () => {
      clearInterval(expiry);
      removeSource();
      await stage?.close();
      await logFeed.close();
    },
  };
}
