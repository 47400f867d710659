import type { FastifyInstance } from 'fastify';
import { topicPrefix } from '../config/load';
import type { ChariotsConfig } from '../config/schema';
import type { Health } from '../health';
import {
  GroupInspector,
  HeartbeatView,
  type GroupState,
  type HeartbeatEntry,
  type KafkaClient,
  type TopicRole,
} from '../kafka';
import type { Logger } from '../logger';
import type { StageName } from '../stage-names';
import { addReplicationLagSource } from '../metrics';
import { parsePeer, ReplicationLagView, type ReplicationPeerLag } from '../replication';
import { clientLimits, createApp } from './app';
import { authFromConfig } from './auth';

/** A heartbeat older than this drops the instance from the admin view. */
export const HEARTBEAT_MAX_AGE_MS = 10000;
export const HEARTBEAT_INTERVAL_MS = 2000;

export interface StageInstance {
  clientId: string;
  host: string;
  url?: string;
  partitions: number[];
}

export interface StageView {
  instances: StageInstance[];
  lag: number;
  /** Consumer groups behind the stage (the sender has one per peer). */
  groups?: Array<Pick<GroupState, 'groupId' | 'topic' | 'state' | 'lag' | 'partitions'>>;
}

/** GoChariots' controller shape, plus per-stage detail. */
export interface AdminView {
  apps: string[];
  batchers: string[];
  filters: string[];
  queues: string[];
  maintainers: string[];
  indexers: string[];
  remoteBatchers: string[];
  /** Per peer named in remoteBatchers: own records not yet forwarded, and the oldest one's age. */
  replication: Record<string, { records: number; seconds: number; state: string }>;
  stages: Partial<Record<StageName, StageView>>;
}

export const heartbeatTopic = (config: Readonly<ChariotsConfig>) =>
  `${topicPrefix(config)}heartbeat`;

const hostPort = (url: string) => url.replace(/^[a-z]+:\/\//, '');

/** The consumer groups of the stages, as the stages name them (see src/stages/*). */
export function stageGroups(topics: Readonly<Record<TopicRole, string>>) {
  return [
    { stage: 'filter', groupId: `${topics.ingest}.filter`, topic: topics.ingest },
    { stage: 'queue', groupId: `${topics.filtered}.queue`, topic: topics.filtered },
    { stage: 'sequencer', groupId: `${topics.released}.sequencer`, topic: topics.released },
  ] as const;
}

/** Builds the view from group states and live heartbeats (pure; unit-tested). */
export function buildAdminView(input: {
  groups: Array<GroupState & { stage: StageName }>;
  beats: HeartbeatEntry[];
  /** End offset of the log partition: the maintainers' lag is measured against it. */
  logEnd?: string;
  senderGroupPrefix: string;
  replication?: ReplicationPeerLag[];
}): AdminView {
  const stages: Partial<Record<StageName, StageView>> = {};
  for (const g of input.groups) {
    const view = (stages[g.stage] ??= { instances: [], lag: 0, groups: [] });
    view.lag += g.lag;
    view.groups!.push({
      groupId: g.groupId,
      topic: g.topic,
      state: g.state,
      lag: g.lag,
      partitions: g.partitions,
    });
    for (const i of g.instances)
      view.instances.push({ clientId: i.clientId, host: i.host, partitions: i.partitions });
  }
  const beatsOf = (stage: string) => input.beats.filter((b) => b.stage === stage);
  const batchers = beatsOf('batcher');
  stages.batcher = {
    instances: batchers.map((b) => ({
      clientId: b.id,
      host: b.host ?? '',
      url: b.url,
      partitions: [],
    })),
    lag: 0,
  };
  const maintainers = beatsOf('maintainer');
  const lagOf = (b: HeartbeatEntry) =>
    input.logEnd !== undefined && b.offset !== undefined
      ? Math.max(0, Number(BigInt(input.logEnd) - BigInt(b.offset)))
      : 0;
  stages.maintainer = {
    instances: maintainers.map((b) => ({
      clientId: b.id,
      host: b.host ?? '',
      url: b.url,
      partitions: [0],
    })),
    lag: maintainers.reduce((m, b) => Math.max(m, lagOf(b)), 0),
  };
  const hostsOf = (stage: StageName) => (stages[stage]?.instances ?? []).map((i) => i.host);
  return {
    apps: batchers.filter((b) => b.url).map((b) => hostPort(b.url!)),
    batchers: batchers.filter((b) => b.tcp).map((b) => b.tcp!),
    filters: hostsOf('filter'),
    queues: hostsOf('queue'),
    maintainers: maintainers.map((b) => (b.url ? hostPort(b.url) : (b.host ?? b.id))),
    indexers: [],
    remoteBatchers: [
      ...new Set([
        ...input.groups
          .filter((g) => g.stage === 'sender')
          .map((g) => g.groupId.slice(input.senderGroupPrefix.length)),
        ...(input.replication ?? []).map((r) => `dc${r.peer}`),
      ]),
    ],
    replication: Object.fromEntries(
      (input.replication ?? []).map((r) => [
        `dc${r.peer}`,
        { records: r.records, seconds: r.seconds, state: r.state },
      ]),
    ),
    stages,
  };
}

export interface AdminOptions {
  config: Readonly<ChariotsConfig>;
  kafka: KafkaClient;
  topics: Readonly<Record<TopicRole, string>>;
  health: Health;
  logger: Logger;
}

export interface AdminServer {
  app: FastifyInstance;
  /** Where it listens (undefined when the port could not be bound). */
  url?: string;
  view(): Promise<AdminView>;
  close(): Promise<void>;
}

/**
 * The admin server (default :8081): `GET /` = the live components, `GET /metrics`,
 * `/healthz`, `/readyz`. Every process may run one; each shows the whole datacenter, since
 * the view comes from Kafka (consumer groups, offsets, the heartbeat topic), not from this
 * process. A port already taken (several processes on one host) is logged, not fatal.
 */
export async function startAdminServer(opts: AdminOptions): Promise<AdminServer> {
  const { config, kafka, topics, logger } = opts;
  const log = logger.child({ component: 'admin' });
  const inspector = new GroupInspector(kafka);
  const beats = new HeartbeatView(kafka, heartbeatTopic(config), log);
  const beatsStarted = beats.start().catch((e: unknown) => {
    log.warn({ err: e, topic: heartbeatTopic(config) }, 'heartbeat topic not readable');
  });
  const senderPrefix = `${topics.log}.sender.`;
  const peers = config.replication.peers.map((p) => parsePeer(p, config.dcId).dcId);
  // Only a replicating datacenter follows its log for the lag (see lag-view.ts).
  const lagView =
    peers.length > 0
      ? new ReplicationLagView({
          kafka,
          inspector,
          logTopic: topics.log,
          dcId: config.dcId,
          peers,
          logger: log,
        })
      : undefined;
  const removeLagSource = lagView
    ? addReplicationLagSource(async () =>
        (await lagView.lag()).map((l) => ({ ...l, dc: config.dcId })),
      )
    : undefined;

  const view = async (): Promise<AdminView> => {
    const senderGroups = await inspector.listGroups(senderPrefix).catch(() => []);
    const queries = [
      ...stageGroups(topics),
      ...senderGroups.map((groupId) => ({ stage: 'sender' as const, groupId, topic: topics.log })),
    ];
    const states = await inspector.describe(queries);
    const groups = states.map((s, i) => ({ ...s, stage: queries[i].stage as StageName }));
    const logEnd = (await inspector.endOffsets(topics.log).catch(() => []))[0]?.high;
    const replication = await lagView?.lag().catch((e: unknown) => {
      log.warn({ err: e }, 'replication lag not available');
      return [];
    });
    return buildAdminView({
      groups,
      beats: beats.live(HEARTBEAT_MAX_AGE_MS),
      logEnd,
      senderGroupPrefix: senderPrefix,
      replication,
    });
  };

  const app = createApp({
    logger: log,
    health: opts.health,
    bodyLimitBytes: 1024 * 1024,
    auth: authFromConfig(config, logger),
    authScope: 'admin',
    clients: clientLimits(config.http),
  });
  app.get('/', async () => view());
  let url: string | undefined;
  try {
    await app.listen({ host: config.http.adminHost, port: config.http.adminPort });
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.http.adminPort;
    const host = config.http.adminHost === '0.0.0.0' ? '127.0.0.1' : config.http.adminHost;
    url = `http://${host}:${port}`;
    log.info({ url }, 'admin view listening');
  } catch (e) {
    log.warn({ err: e }, 'admin view not started (port taken?)');
  }
  let closing: Promise<void> | undefined;
  return {
    app,
    url,
    view,
    close: () =>
      (closing ??= (async () => {
        await app.close().catch(() => undefined);
        removeLagSource?.();
        await lagView?.close().catch(() => undefined);
        await beatsStarted;
        await beats.close().catch(() => undefined);
        await inspector.close();
      })()),
  };
}
