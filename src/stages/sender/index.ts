import {
  BatchingProducer,
  createKafkaClient,
  startAtLeastOnce,
  type OutMessage,
} from '../../kafka';
import { decodeLog, encodeIngest, type IngestRecord } from '../../record';
import type { StageContext, StageHandle } from '../types';
import { encodeProgress, parsePeer, progressAfter, type Peer } from '../../replication';

/**
 * The sender forwards this datacenter's OWN records (host = dcId; never what it received
 * from peers: each origin sends its records itself) from the log topic to every peer's
 * ingest topic, each with its TOId and the log's vector clock at it (`vc` header), so the
 * peer can append it only after everything that preceded it here (guarantee 7).
 *
 * One consumer group per peer over the log: a peer that is down for an hour just leaves its
 * group behind; it resumes from its committed offset. Offsets are committed after the peer
 * acknowledged (at-least-once across clusters, where no transaction spans both); the peer
 * drops what it already has (by id in its filter, by origin TOId in its queue).
 */
export async function start(ctx: StageContext): Promise<StageHandle> {
  const logger = ctx.logger.child({ stage: 'sender' });
  const { dcId } = ctx.config;
  const peers = ctx.config.replication.peers.map((p) => parsePeer(p, dcId));
  const closers: Array<() => Promise<void>> = [];
  for (const peer of peers)
    closers.push(await startPeer(ctx, peer, logger.child({ peer: peer.dcId })));
  if (peers.length === 0) logger.info('no replication peers configured');
  ctx.health.register('sender', () => true);
  return {
    close: async () => {
      for (const c of closers) await c();
    },
  };
}

async function startPeer(
  ctx: StageContext,
  peer: Peer,
  logger: StageContext['logger'],
): Promise<() => Promise<void>> {
  const kafka =
    peer.brokers.length > 0
      ? createKafkaClient({ ...ctx.config.kafka, brokers: peer.brokers }, logger, `dc${peer.dcId}`)
      : ctx.kafka;
  const producer = new BatchingProducer(kafka, {
    lingerMs: 1,
    maxBatchMessages: ctx.config.replication.maxBatchRecords,
    maxPending: Number.MAX_SAFE_INTEGER,
    logger,
  });
  await producer.connect();
  const peerIngest = `${peer.topicPrefix}ingest`;
  const consumer = await startAtLeastOnce({
    kafka: ctx.kafka,
    groupId: `${ctx.topics.log}.sender.dc${peer.dcId}`,
    topic: ctx.topics.log,
    sessionTimeoutMs: ctx.config.kafka.sessionTimeoutMs,
    logger,
    // What the admin view and /metrics read back as this peer's replication lag.
    commitMetadata: (batch) => {
      const p = progressAfter(batch.messages[batch.messages.length - 1], ctx.config.dcId);
      return p && encodeProgress(p);
    },
    handle: async (batch) => {
      const out: OutMessage[] = [];
      for (const m of batch.messages) {
        if (!m.value) continue;
        const r = decodeLog(m.value);
        if (r.host !== ctx.config.dcId) continue;
        const clock = m.headers.vc
          ? (JSON.parse(m.headers.vc) as Record<string, number>)
          : { [String(r.host)]: r.toid };
        const { lid: _lid, toid, appendedAt: _at, ...rest } = r;
        const forwarded: IngestRecord = { ...rest, remote: { toid, clock } };
        out.push({
          topic: peerIngest,
          key: r.seed,
          value: encodeIngest(forwarded),
          headers: { origin: String(r.host), toid: String(toid) },
        });
      }
      // Retried until the peer takes them: an unreachable peer holds this consumer (and
      // only it) at its offset, so nothing is skipped; it catches up when the peer returns.
      for (let attempt = 0; ; attempt++) {
        try {
          await producer.sendMany(out);
          return;
        } catch (e) {
          logger.warn(
            { err: e, attempt, records: out.length },
            'peer did not take the records; retrying',
          );
          await new Promise((r) => setTimeout(r, Math.min(10000, 200 * 2 ** attempt)));
        }
      }
    },
  });
  logger.info({ peer: peer.dcId, topic: peerIngest }, 'replicating to peer');
  return async () => {
    await consumer.close();
    await producer.close();
  };
}
