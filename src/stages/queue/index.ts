import {
  followTopic,
  readToEnd,
  TransactionalStage,
  type OutMessage,
  type TxContext,
} from '../../kafka';
import { decodeIngest, decodeLog, encodeIngest, type IngestRecord } from '../../record';
import type { StageContext, StageHandle } from '../types';
import { DeferredSet, type DeferredEntry } from './deferred-set';
import { LogIndex } from './prerequisites';
import { deadLetterValue, deferredValue, parseDeferredValue } from './values';

/**
 * The causal queue. A record is released (to the one-partition `released` topic, which the
 * sequencer numbers in order) only once every prerequisite is IN THE LOG, as read back from
 * the log topic: so its LId is necessarily larger than theirs (guarantee 1), whatever the
 * partitioning, the number of queue instances, or crashes.
 *
 * State per filtered partition: the deferred records, in the compacted `deferred` changelog
 * (written in the same transaction as the input offset; a tombstone in the same
 * transaction as the release or the dead letter). The log index is global and rebuilt
 * from the log topic at start; every queue instance follows the whole log.
 */
export async function start(ctx: StageContext): Promise<StageHandle> {
  const logger = ctx.logger.child({ stage: 'queue' });
  const { deferTimeoutMs, scanIntervalMs } = ctx.config.queue;
  const index = new LogIndex();
  const deferred = new DeferredSet();
  const pendingRelease = new Map<number, DeferredEntry[]>();
  let flushScheduled = false;
  // Assigned once below; `let` because the log follower may wake records before it exists.
  // eslint-disable-next-line prefer-const
  let stage: TransactionalStage | undefined;

  const released = (r: IngestRecord): OutMessage => ({
    topic: ctx.topics.released,
    partition: 0,
    key: r.id,
    value: encodeIngest(r),
  });
  const tombstone = (e: DeferredEntry): OutMessage => ({
    topic: ctx.topics.deferred,
    partition: e.partition,
    key: e.record.id,
    value: null,
  });

  // Releases of woken records are gathered and written one transaction per partition.
  const scheduleRelease = (entries: DeferredEntry[]) => {
    for (const e of entries) {
      if (e.busy) continue;
      e.busy = true;
      let list = pendingRelease.get(e.partition);
      if (!list) pendingRelease.set(e.partition, (list = []));
      list.push(e);
    }
    if (!flushScheduled && pendingRelease.size > 0) {
      flushScheduled = true;
      setImmediate(() => void flushReleases());
    }
  };

  const flushReleases = async () => {
    flushScheduled = false;
    const work = [...pendingRelease.entries()];
    pendingRelease.clear();
    await Promise.all(
      work.map(async ([partition, entries]) => {
        try {
          const ok = await stage?.transaction(partition, (tx: TxContext) => {
            // Only entries still current: a rebalance may have restored the partition from
            // the changelog meanwhile, replacing these objects with fresh ones that are
            // scheduled on their own. Releasing a stale one too would append it twice.
            const live = entries.filter((e) => deferred.get(e.record.id) === e);
            for (const e of live) tx.send(released(e.record), tombstone(e));
            tx.onCommit(() => {
              for (const e of live) deferred.remove(e.record.id);
            });
          });
          if (!ok) for (const e of entries) e.busy = false;
        } catch (err) {
          logger.warn({ err, partition, records: entries.length }, 'release failed; will retry');
          for (const e of entries) e.busy = false;
          setTimeout(
            () => scheduleRelease(entries.filter((x) => deferred.get(x.record.id) === x)),
            500,
          ).unref();
        }
      }),
    );
  };

  const logFollower = await followTopic(ctx.kafka, {
    topic: ctx.topics.log,
    from: 'earliest',
    logger,
    onBatch: (b) => {
      const ready: DeferredEntry[] = [];
      for (const m of b.messages) {
        if (!m.value) continue;
        for (const k of index.add(decodeLog(m.value))) ready.push(...deferred.satisfy(k));
      }
      if (ready.length > 0) scheduleRelease(ready);
    },
  });
  await logFollower.caughtUp;
  logger.info({ lastLid: index.lastLid, keys: index.size }, 'log index built');

  const deferEntry = (record: IngestRecord, partition: number, deadline: number | null) => {
    const entry: DeferredEntry = {
      record,
      partition,
      deadline,
      missing: new Set(index.missing(record)),
      busy: false,
    };
    // Between the check in process() and this commit the log may have moved on: re-check.
    if (entry.missing.size === 0) {
      deferred.add(entry);
      scheduleRelease([entry]);
    } else deferred.add(entry);
  };

  stage = new TransactionalStage({
    kafka: ctx.kafka,
    groupId: `${ctx.topics.filtered}.queue`,
    topic: ctx.topics.filtered,
    transactionalIdPrefix: `${ctx.topics.released}.queue`,
    sessionTimeoutMs: ctx.config.kafka.sessionTimeoutMs,
    logger,
    onAssign: async (partition) => {
      deferred.removePartition(partition);
      const restored = new Map<string, { record: IngestRecord; deadline: number | null }>();
      await readToEnd(ctx.kafka, {
        topic: ctx.topics.deferred,
        partitions: [partition],
        logger,
        onBatch: (b) => {
          for (const m of b.messages) {
            if (!m.key) continue;
            if (m.value === null) restored.delete(m.key.toString());
            else restored.set(m.key.toString(), parseDeferredValue(m.value));
          }
        },
      });
      for (const { record, deadline } of restored.values()) deferEntry(record, partition, deadline);
      logger.info({ partition, deferred: restored.size }, 'deferred records restored');
    },
    onRevoke: (partition) => {
      deferred.removePartition(partition);
      pendingRelease.delete(partition);
    },
    process: (batch, tx) => {
      const now = Date.now();
      const toDefer: Array<{ record: IngestRecord; deadline: number | null }> = [];
      for (const m of batch.messages) {
        if (!m.value) continue;
        let record: IngestRecord;
        try {
          record = decodeIngest(m.value);
        } catch (err) {
          // Only Chariots writes `filtered`; an undecodable value is skipped, not allowed to block the partition.
          logger.error(
            { err, partition: m.partition, offset: m.offset },
            'undecodable filtered message skipped',
          );
          continue;
        }
        const missing = index.missing(record);
        if (missing.length === 0) {
          tx.send(released(record));
        } else {
          const deadline = deferTimeoutMs > 0 ? now + deferTimeoutMs : null;
          toDefer.push({ record, deadline });
          tx.send({
            topic: ctx.topics.deferred,
            partition: batch.partition,
            key: record.id,
            value: deferredValue(record, deadline, missing),
          });
        }
      }
      tx.onCommit(() => {
        for (const d of toDefer) deferEntry(d.record, batch.partition, d.deadline);
      });
    },
  });

  const expiry = setInterval(() => void expire(), scanIntervalMs);
  expiry.unref();
  const expire = async () => {
    const byPartition = new Map<number, DeferredEntry[]>();
    for (const e of deferred.expired(Date.now())) {
      if (e.busy) continue;
      e.busy = true;
      let l = byPartition.get(e.partition);
      if (!l) byPartition.set(e.partition, (l = []));
      l.push(e);
    }
    for (const [partition, entries] of byPartition) {
      try {
        await stage?.transaction(partition, (tx) => {
          const deadAt = new Date().toISOString();
          const live = entries.filter((e) => deferred.get(e.record.id) === e);
          for (const e of live) {
            tx.send(
              {
                topic: ctx.topics.deadletter,
                key: e.record.id,
                value: deadLetterValue(e, deferTimeoutMs, deadAt),
              },
              tombstone(e),
            );
          }
          tx.onCommit(() => {
            for (const e of entries) deferred.remove(e.record.id);
            logger.warn(
              { partition, records: entries.length },
              'deferred records dead-lettered after timeout',
            );
          });
        });
      } catch (err) {
        logger.warn({ err, partition }, 'dead-lettering failed; will retry');
      } finally {
        for (const e of entries) e.busy = false;
      }
    }
  };

  ctx.health.register('queue', () => true);
  await stage.start();
  return {
    close: async () => {
      clearInterval(expiry);
      await stage?.close();
      await logFollower.close();
    },
  };
}
