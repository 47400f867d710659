import { PoisonMessageError } from '../../errors';
import { awaitStable, TransactionalStage } from '../../kafka';
import {
  decodeIngest,
  decodeLog,
  encodeLogText,
  encodeLogKeys,
  logKeysOf,
  type IngestRecord,
} from '../../record';
import { metrics, observeAppendLatency, recordLag } from '../../metrics';
import { unpackBatch } from '../packing';
import type { StageContext, StageHandle } from '../types';
import { numberRecords, type NumberingState } from './numbering';
import { LogTail } from './log-tail';

/** Log message header: the `released` offset up to which the sequencer had numbered. */
export const RELEASED_OFFSET_HEADER = 'ro';

/**
 * The sequencer numbers released records 1, 2, 3, … into the log topic. The released topic
 * has ONE partition, so the consumer group gives it to exactly one instance; others are hot
 * standbys that get it when the owner's session expires. The transactional id is the same
 * for every instance, so a new owner's InitProducerId fences the old one: two sequencers can
 * never both write. The next LId is recovered from the last committed log message (its `lid`
 * and its `vc` header, the per-origin TOIds), so a crash neither reuses nor skips an LId.
 *
 * A `released` message is a pack of records (src/record/pack.ts) or one plain record; the
 * log stays one record per message. A pack is numbered whole in one transaction, so the
 * `ro` header (a released offset) still marks exactly what was numbered. Each transaction
 * also writes what its records provide to the one-partition `logkeys` topic, which the queues
 * follow instead of the log.
 */
export async function start(ctx: StageContext): Promise<StageHandle> {
  const logger = ctx.logger.child({ stage: 'sequencer' });
  const { dcId } = ctx.config;
  let state: NumberingState | undefined;
  const tail = await LogTail.start(
    ctx.kafka,
    ctx.topics.log,
    ctx.config.sequencer.dedupRecords,
    logger,
  );
  const recent = tail.recent;

  const stage = new TransactionalStage({
    stage: 'sequencer',
    kafka: ctx.kafka,
    groupId: `${ctx.topics.released}.sequencer`,
    topic: ctx.topics.released,
    transactionalIdPrefix: `${ctx.topics.log}.sequencer`,
    sessionTimeoutMs: ctx.config.kafka.sessionTimeoutMs,
    // The last log record's `ro` header records the released offset (onAssign returns it).
    offsetCommitIntervalMs: ctx.config.kafka.offsetCommitIntervalMs,
    stallMs: ctx.config.health.stallMs,
    logger,
    onAssign: async () => {
      // After the fence, the previous sequencer's last transaction may still be completing:
      // its records must be seen before continuing, or their LIds would be reused.
      await awaitStable(ctx.kafka, ctx.topics.log, [0], logger);
      const last = await tail.takeOver(ctx.kafka, ctx.topics.log, logger);
      let resume: bigint | undefined;
      if (!last?.value) state = { lastLid: 0, clock: {} };
      else {
        if (last.headers[RELEASED_OFFSET_HEADER])
          resume = BigInt(last.headers[RELEASED_OFFSET_HEADER]) + 1n;
        const rec = decodeLog(last.value);
        const clock = last.headers.vc
          ? (JSON.parse(last.headers.vc) as Record<string, number>)
          : { [String(rec.host)]: rec.toid };
        state = { lastLid: rec.lid, clock };
      }
      logger.info(
        { lastLid: state.lastLid, clock: state.clock, rememberedIds: recent.size },
        'sequencer active',
      );
      metrics().logHeadLid.set({ stage: 'sequencer' }, state.lastLid);
      return resume;
    },
    onRevoke: () => {
      state = undefined;
      logger.info('sequencer standby');
      void tail
        .follow(ctx.kafka, ctx.topics.log, logger)
        .catch((err: unknown) => logger.error({ err }, 'following the log again failed'));
    },
    process: (packed, tx) => {
      if (!state) throw new Error('sequencer state missing for an assigned partition');
      const batch = unpackBatch(packed, logger);
      const records: IngestRecord[] = [];
      for (const m of batch.messages) {
        if (!m.value) continue;
        try {
          records.push(decodeIngest(m.value));
        } catch (e) {
          // Only Chariots writes `released`; an undecodable message is a bug upstream. It is
          // logged and skipped rather than blocking the log forever.
          logger.error(
            { err: e, partition: m.partition, offset: m.offset },
            'undecodable released message skipped',
          );
          if (!(e instanceof PoisonMessageError)) throw e;
        }
      }
      const { out, next, duplicates } = numberRecords(
        state,
        records,
        dcId,
        new Date().toISOString(),
        (id) => recent.has(id),
      );
      const lastOffset = batch.messages[batch.messages.length - 1].offset;
      out.forEach(({ record, clock }, i) => {
        const headers: Record<string, string> = { lid: String(record.lid), vc: clock };
        // The last record of a transaction says which released offset it covers: on
        // takeover that wins over a committed group offset that lags (see transactional.ts).
        if (i === out.length - 1) headers[RELEASED_OFFSET_HEADER] = lastOffset;
        tx.send({
          topic: ctx.topics.log,
          partition: 0,
          key: record.id,
          value: encodeLogText(record),
          headers,
        });
      });
      // What these records provide to the queues' log index, in the same transaction
      // (src/record/log-keys.ts: the queues read this instead of the log).
      if (out.length > 0) {
        for (const value of encodeLogKeys(out.map((o) => logKeysOf(o.record))))
          tx.send({ topic: ctx.topics.logkeys, partition: 0, key: null, value });
      }
      tx.onCommit(() => {
        state = next;
        for (const o of out) recent.add(o.record.id);
        if (duplicates.length > 0) {
          // Upstream released these twice; the log keeps the first copy. Worth an alarm: it
          // means a queue failover went wrong (docs/reliability.md).
          metrics().duplicatesDropped.inc({ stage: 'sequencer' }, duplicates.length);
          logger.warn(
            {
              topic: batch.topic,
              partition: batch.partition,
              offset: lastOffset,
              records: duplicates.length,
              ids: duplicates.slice(0, 5).map((r) => r.id),
            },
            'released records already in the log dropped',
          );
        }
        const m = metrics();
        m.recordsIn.inc({ stage: 'sequencer' }, batch.messages.length);
        m.recordsOut.inc({ stage: 'sequencer' }, out.length);
        m.logHeadLid.set({ stage: 'sequencer' }, next.lastLid);
        observeAppendLatency(out.map((o) => o.record.receivedAt));
        recordLag('sequencer', batch, batch.messages[batch.messages.length - 1].offset);
      });
    },
  });
  ctx.health.register('sequencer', () => stage.readiness());
  await stage.start();
  return {
    close: async () => {
      await stage.close();
      await tail.close();
    },
  };
}
