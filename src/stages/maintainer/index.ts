import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { topicPrefix } from '../../config/load';
import { FlStore } from '../../flstore';
import { clientLimits, createApp } from '../../http/app';
import { authFromConfig } from '../../http/auth';
import { MAINTAINER_OPENAPI, registerReadRoutes } from '../../http/reads';
import { followTopic, type Follower } from '../../kafka';
import { metrics } from '../../metrics';
import type { StageContext, StageHandle } from '../types';
import { planBatch } from './consume';

export interface MaintainerHandle extends StageHandle {
  store: FlStore;
  /** Where this maintainer serves reads itself (no batcher in its process). */
  httpUrl?: string;
}

/**
 * The maintainer keeps flstore: it follows the ONE partition of the log topic from the
 * offset after the last stored record and appends every record, in LId order. Every
 * maintainer holds the whole log (a replica; see docs/flstore.md), so it reads the topic
 * outside any consumer group. Resume is exact because each stored frame carries its Kafka
 * offset; records at or below the stored LId are skipped, and a gap stops the maintainer.
 */
export async function start(ctx: StageContext): Promise<MaintainerHandle> {
  const logger = ctx.logger.child({ stage: 'maintainer' });
  const { config } = ctx;
  const m = config.maintainer;
  const dir = join(config.dataDir, `${topicPrefix(config)}flstore`);
  const store = await FlStore.open({
    dir,
    segmentBytes: m.segmentBytes,
    fsync: m.fsync,
    fsyncIntervalMs: m.fsyncIntervalMs,
    logger,
  });
  const from = store.lastLid() > 0 ? { 0: String(BigInt(store.lastOffset()) + 1n) } : 'earliest';
  logger.info({ dir, lastLid: store.lastLid(), from }, 'flstore opened; following the log');

  let caughtUp = false;
  let failed = false;
  let follower: Follower | undefined;
  ctx.health.register('maintainer', () => caughtUp && !failed);
  const fail = (err: unknown, msg: string) => {
    failed = true;
    logger.error({ err, lastLid: store.lastLid() }, msg);
    void follower?.close().catch(() => undefined);
  };

  let app: FastifyInstance | undefined;
  let httpUrl: string | undefined;
  try {
    follower = await followTopic(ctx.kafka, {
      topic: ctx.topics.log,
      partitions: [0],
      from,
      logger,
      onBatch: async (batch) => {
        if (failed) return;
        const plan = planBatch(store.lastLid(), batch.messages);
        try {
          await store.append(plan.entries);
          const m = metrics();
          m.recordsIn.inc({ stage: 'maintainer' }, batch.messages.length);
          m.recordsOut.inc({ stage: 'maintainer' }, plan.entries.length);
          m.logHeadLid.set({ stage: 'maintainer' }, store.lastLid());
        } catch (e) {
          return fail(e, 'flstore append failed; maintainer stopped (restart it to recover)');
        }
        if (!plan.ok) fail(plan.error, 'refusing the log topic; maintainer stopped');
      },
    });
    void follower.caughtUp.then(() => {
      caughtUp = true;
      logger.info({ lastLid: store.lastLid() }, 'maintainer caught up with the log');
    });
    if (ctx.shared) ctx.shared.flstore = store;
    // A batcher in this process serves the reads; alone, the maintainer serves them itself.
    if (config.http.enabled && !ctx.shared?.stages?.includes('batcher')) {
      app = createApp({
        logger,
        health: ctx.health,
        bodyLimitBytes: config.http.bodyLimitBytes,
        auth: authFromConfig(config, logger),
        clients: clientLimits(config.http),
        openapi: MAINTAINER_OPENAPI,
      });
      await app.register(registerReadRoutes, { store });
      await app.listen({ host: config.http.host, port: m.port });
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : m.port;
      httpUrl = `http://${config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host}:${port}`;
      logger.info({ url: httpUrl }, 'maintainer read API listening');
    }
  } catch (e) {
    await follower?.close().catch(() => undefined);
    await app?.close().catch(() => undefined);
    await store.close();
    ctx.health.unregister('maintainer');
    throw e;
  }

  let closing: Promise<void> | undefined;
  return {
    store,
    httpUrl,
    close: () =>
      (closing ??= (async () => {
        ctx.health.unregister('maintainer');
        await app?.close();
        await follower?.close();
        await store.close();
        if (ctx.shared?.flstore === store) ctx.shared.flstore = undefined;
      })()),
  };
}
