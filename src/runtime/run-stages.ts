import { topicPrefix } from '../config/load';
import type { ChariotsConfig } from '../config/schema';
import { Health } from '../health';
import { BrokerProbe, createKafkaClient, missingTopics, topicNames } from '../kafka';
import { rootLogger, type Logger } from '../logger';
import type { StageContext, StageHandle, StageName } from '../stages/types';
import { ChariotsError } from '../errors';
import { startAdminServer, type AdminServer } from '../http/admin';
import { startStageHeartbeats } from '../http/heartbeats';

type StageModule = { start(ctx: StageContext): Promise<StageHandle> };

/** Stages load lazily: `chariots start filter` does not load fastify, and vice versa. */
const LOADERS: Record<StageName, () => Promise<StageModule>> = {
  batcher: () => import('../stages/batcher'),
  filter: () => import('../stages/filter'),
  queue: () => import('../stages/queue'),
  sequencer: () => import('../stages/sequencer'),
  maintainer: () => import('../stages/maintainer'),
  sender: () => import('../stages/sender'),
};

export interface RunningStages extends StageHandle {
  context: StageContext;
  handles: Partial<Record<StageName, StageHandle>>;
  /** The admin view of this process (when http.adminEnabled). */
  admin?: AdminServer;
}

/**
 * Starts stages in one process, downstream first (so that a record produced by the batcher
 * finds its consumers already joining), and closes them upstream first (so that nothing
 * new enters while the later stages drain).
 */
export async function runStages(
  config: Readonly<ChariotsConfig>,
  names: StageName[],
  logger: Logger = rootLogger,
): Promise<RunningStages> {
  const kafka = createKafkaClient(config.kafka, logger);
  const health = new Health();
  const probe = new BrokerProbe(kafka);
  health.register('kafka', () => probe.reachable());
  const context: StageContext = {
    config,
    kafka,
    topics: topicNames(topicPrefix(config)),
    health,
    logger,
    shared: { stages: names },
  };
  // The maintainer before the batcher: the batcher serves reads from its store.
  const order = (
    ['sequencer', 'maintainer', 'sender', 'queue', 'filter', 'batcher'] as StageName[]
  ).filter((n) => names.includes(n));
  const handles: Partial<Record<StageName, StageHandle>> = {};
  const started: StageName[] = [];
  let admin: AdminServer | undefined;
  let stopBeats: (() => Promise<void>) | undefined;
  const closeAll = async () => {
    await stopBeats?.().catch(() => undefined);
    await admin?.close();
    for (const n of [...started].reverse()) {
      try {
        await handles[n]?.close();
        logger.info({ stage: n }, 'stage stopped');
      } catch (e) {
        logger.error({ err: e, stage: n }, 'stage failed to stop cleanly');
      }
    }
    await probe.close();
  };
  try {
    const missing = await missingTopics(kafka, Object.values(context.topics), logger);
    if (missing.length > 0)
      throw new ChariotsError(
        'CHARIOTS_ERR_TOPIC_MISSING',
        `topic${missing.length > 1 ? 's' : ''} ${missing.join(', ')} missing: run \`chariots topics apply\` (same topic prefix) before starting stages`,
        { details: { missing } },
      );
    for (const n of order) {
      const loader = LOADERS[n];
      if (!loader) throw new ChariotsError('CHARIOTS_ERR_UNKNOWN_STAGE', `unknown stage "${n}"`);
      handles[n] = await (await loader()).start(context);
      started.push(n);
      logger.info({ stage: n }, 'stage started');
    }
    const adminOpts = { config, kafka, topics: context.topics, health, logger };
    stopBeats = await startStageHeartbeats(adminOpts, handles);
    if (config.http.adminEnabled) admin = await startAdminServer(adminOpts);
    if (admin?.url) context.shared!.adminUrl = admin.url;
  } catch (e) {
    await closeAll();
    throw e;
  }
  let closing: Promise<void> | undefined;
  return { context, handles, admin, close: () => (closing ??= closeAll()) };
}
