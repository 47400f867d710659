import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { startHeartbeat, type Heartbeat } from '../kafka';
import type { StageHandle, StageName } from '../stage-names';
import { HEARTBEAT_INTERVAL_MS, heartbeatTopic, type AdminOptions } from './admin';

/**
 * Heartbeats of the stages without a consumer group that run in this process (batcher:
 * its HTTP and TCP addresses; maintainer: its read API and how far it has stored the log).
 */
export async function startStageHeartbeats(
  opts: AdminOptions,
  handles: Partial<Record<StageName, StageHandle>>,
): Promise<() => Promise<void>> {
  const { config, kafka, logger } = opts;
  const host = hostname();
  const advertised = (url: string | undefined, bind: string) =>
    url && bind === '0.0.0.0' ? url.replace('127.0.0.1', host) : url;
  const id = (stage: string) => `${stage}.${host}.${process.pid}.${randomBytes(3).toString('hex')}`;
  const started: Heartbeat[] = [];
  const common = {
    topic: heartbeatTopic(config),
    intervalMs: HEARTBEAT_INTERVAL_MS,
    logger: logger.child({ component: 'heartbeat' }),
  };
  try {
    const batcher = handles.batcher as { httpUrl?: string; tcpPort?: number } | undefined;
    if (batcher) {
      const tcpHost = config.tcp.host === '0.0.0.0' ? host : config.tcp.host;
      started.push(
        await startHeartbeat(kafka, {
          ...common,
          id: id('batcher'),
          value: () => ({
            stage: 'batcher',
            host,
            url: config.http.enabled ? advertised(batcher.httpUrl, config.http.host) : undefined,
            tcp: batcher.tcpPort !== undefined ? `${tcpHost}:${batcher.tcpPort}` : undefined,
          }),
        }),
      );
    }
    const maintainer = handles.maintainer as
      { httpUrl?: string; store?: { lastLid(): number; lastOffset(): string } } | undefined;
    if (maintainer) {
      started.push(
        await startHeartbeat(kafka, {
          ...common,
          id: id('maintainer'),
          value: () => {
            const s = maintainer.store;
            const lid = s?.lastLid() ?? 0;
            return {
              stage: 'maintainer',
              host,
              url: advertised(maintainer.httpUrl, config.http.host),
              lid,
              offset: s && lid > 0 ? String(BigInt(s.lastOffset()) + 1n) : undefined,
            };
          },
        }),
      );
    }
  } catch (e) {
    logger.warn({ err: e }, 'heartbeats not started');
  }
  return async () => {
    await Promise.all(started.map((h) => h.stop()));
  };
}
