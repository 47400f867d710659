import type { FastifyInstance } from 'fastify';
import { createApp } from '../../http/app';
import type { StageContext, StageHandle } from '../types';

export interface BatcherHandle extends StageHandle {
  app: FastifyInstance;
  /** The bound HTTP address (useful when port 0 was asked for). */
  httpUrl: string;
}

/**
 * The batcher is what clients talk to (GoChariots' "app" + "batcher"): the HTTP API and the
 * raw TCP ingest, both producing to the ingest topic.
 */
export async function start(ctx: StageContext): Promise<BatcherHandle> {
  const logger = ctx.logger.child({ stage: 'batcher' });
  const app = createApp({ logger, health: ctx.health, bodyLimitBytes: ctx.config.http.bodyLimitBytes });
  await app.listen({ host: ctx.config.http.host, port: ctx.config.http.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : ctx.config.http.port;
  const httpUrl = `http://${ctx.config.http.host === '0.0.0.0' ? '127.0.0.1' : ctx.config.http.host}:${port}`;
  logger.info({ url: httpUrl }, 'HTTP API listening');
  let closed = false;
  return {
    app,
    httpUrl,
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}
