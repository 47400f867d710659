import { ChariotsError, isChariotsError } from '../../errors';
import { readToEnd, TransactionalStage, type InMessage } from '../../kafka';
import { decodeIngest, encodeIngest, isV1, type IngestRecord } from '../../record';
import { metrics, recordLag } from '../../metrics';
import { packFor } from '../packing';
import type { StageContext, StageHandle } from '../types';
import { applyDedupMessage, dedupInputOffset, dedupMessages } from './dedup-changelog';
import { DedupWindow } from './dedup-window';

/**
 * The filter lets each record id through once per dedup window (default 24 h). Its state,
 * per ingest partition, is the `dedup` changelog (dedup-changelog.ts: the ids admitted by
 * each transaction), written
 * in the same transaction as the forwarded record and the input offset, so after a crash or
 * rebalance the rebuilt window is exactly what was committed. Output keeps the partition:
 * filtered partition N = ingest partition N (so a seed's records stay in one queue
 * partition and in order).
 *
 * Retries must carry the same id AND the same seed (the record is the same record): the
 * window is per partition and the partition follows the seed.
 *
 * Records produced straight to the ingest topic are validated here; an invalid one goes to
 * the dead-letter topic with the reason instead of blocking its partition.
 *
 * A batch's admitted records go to `filtered` as packs (src/record/pack.ts), each record
 * the bytes it arrived with when a batcher wrote it (v1, checked by decoding): only raw
 * application JSON is encoded here.
 */
export async function start(ctx: StageContext): Promise<StageHandle> {
  const logger = ctx.logger.child({ stage: 'filter' });
  const { dcId } = ctx.config;
  const windowMs = ctx.config.filter.dedupWindowMs;
  const windows = new Map<number, DedupWindow>();

  // The external context (a Date and a closure) only for raw application JSON: a batcher's v1
  // record needs none.
  const decode = (m: InMessage): IngestRecord =>
    isV1(m.value as Buffer)
      ? decodeIngest(m.value as Buffer)
      : decodeIngest(m.value as Buffer, {
          limits: ctx.config.record,
          now: new Date(Number(m.timestamp)),
          // Deterministic, so that reprocessing the same message after a crash gives the same id.
          newId: () => `${ctx.topics.ingest}-${m.partition}-${m.offset}`,
          localDcId: dcId,
        });

  const stage = new TransactionalStage({
    stage: 'filter',
    kafka: ctx.kafka,
    groupId: `${ctx.topics.ingest}.filter`,
    topic: ctx.topics.ingest,
    transactionalIdPrefix: `${ctx.topics.filtered}.filter`,
    sessionTimeoutMs: ctx.config.kafka.sessionTimeoutMs,
    concurrency: ctx.config.kafka.partitionsConcurrency,
    offsetCommitIntervalMs: ctx.config.kafka.offsetCommitIntervalMs,
    stallMs: ctx.config.health.stallMs,
    logger,
    pack: packFor([ctx.topics.filtered]),
    onAssign: async (partition) => {
      const w = new DedupWindow(windowMs);
      const now = Date.now();
      let resume: bigint | undefined;
      await readToEnd(ctx.kafka, {
        topic: ctx.topics.dedup,
        partitions: [partition],
        logger,
        // Ids of a transaction that committed just before the fence must be seen, or their
        // second copies would pass (see stable.ts).
        awaitPending: true,
        onBatch: (b) => {
          for (const m of b.messages) {
            applyDedupMessage(w, m.key, m.value);
            const offset = dedupInputOffset(partition, m.key, m.value);
            if (offset !== undefined && (resume === undefined || offset >= resume))
              resume = offset + 1n;
          }
        },
      });
      w.expire(now);
      windows.set(partition, w);
      logger.info({ partition, ids: w.size, resume: resume?.toString() }, 'dedup window restored');
      // Every transaction's changelog message records its input offset: where to resume.
      return resume;
    },
    onRevoke: (partition) => windows.delete(partition),
    process: (batch, tx) => {
      const w = windows.get(batch.partition);
      if (!w) throw new Error(`no dedup window for partition ${batch.partition}`);
      const now = Date.now();
      const admitted = new Map<string, number>();
      let dropped = 0;
      let invalid = 0;
      for (const m of batch.messages) {
        if (!m.value) continue;
        let rec: IngestRecord;
        try {
          rec = decode(m);
        } catch (e) {
          const err = isChariotsError(e)
            ? e
            : new ChariotsError('CHARIOTS_ERR_POISON_MESSAGE', String(e));
          logger.warn(
            { partition: m.partition, offset: m.offset, code: err.code },
            'invalid ingest message dead-lettered',
          );
          invalid++;
          const id = `${ctx.topics.ingest}-${m.partition}-${m.offset}`;
          tx.send({
            topic: ctx.topics.deadletter,
            key: id,
            value: JSON.stringify({
              id,
              reason: err.message,
              code: err.code,
              raw: m.value.toString('utf8').slice(0, 4096),
              deadAt: new Date(now).toISOString(),
            }),
          });
          continue;
        }
        if (admitted.has(rec.id) || w.has(rec.id, now)) {
          dropped++;
          continue;
        }
        admitted.set(rec.id, now);
        tx.send({
          topic: ctx.topics.filtered,
          partition: batch.partition,
          key: rec.seed,
          value: isV1(m.value) ? m.value : encodeIngest(rec),
        });
      }
      tx.send(
        ...dedupMessages(
          ctx.topics.dedup,
          batch.partition,
          batch.messages[batch.messages.length - 1].offset,
          [...admitted.keys()],
          now,
        ),
      );
      if (dropped > 0)
        logger.debug({ partition: batch.partition, dropped }, 'duplicate ids dropped');
      tx.onCommit(() => {
        for (const [id, t] of admitted) w.add(id, t);
        w.expire(now);
        const m = metrics();
        m.recordsIn.inc({ stage: 'filter' }, batch.messages.length);
        m.recordsOut.inc({ stage: 'filter' }, admitted.size);
        if (invalid > 0) m.deadLetters.inc({ stage: 'filter' }, invalid);
        recordLag('filter', batch, batch.messages[batch.messages.length - 1].offset);
      });
    },
  });
  ctx.health.register('filter', () => stage.readiness());
  await stage.start();
  return { close: () => stage.close() };
}
