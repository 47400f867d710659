import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { pipeline } from 'node:stream/promises';
import { ChariotsError } from '../errors';
import type { Logger } from '../logger';
import { READ_ROUTE_SCHEMAS } from './reads';
import { errorResponses } from './schemas';
import { MaintainerUpstreams, type Answer } from './upstreams';

export interface ReadForwardOptions {
  /** Base URLs of maintainers' read APIs, tried in turn (batcher.readUrls). */
  urls: readonly string[];
  /** One attempt: connecting and the headers, then again the body (batcher.readTimeoutMs). */
  timeoutMs: number;
}

/** What the caller sends that the maintainer needs: its token (same roles) and what it accepts. */
const FORWARDED_REQUEST_HEADERS = ['authorization', 'accept'] as const;

/**
 * The batcher's read routes when no maintainer runs in its process (the deployed shape: each
 * stage its own process): every read route of src/http/reads.ts, same URLs and schemas,
 * forwarded to a maintainer's read API. Answers are passed through byte for byte, never
 * re-parsed, so uint64s stay exact and errors keep the maintainer's code; only "no
 * maintainer answered" is ours (503 CHARIOTS_ERR_MAINTAINER_UNAVAILABLE, retriable).
 */
export const registerReadForwarding: FastifyPluginAsync<ReadForwardOptions> = async (app, opts) => {
  const upstreams = new MaintainerUpstreams(opts.urls, opts.timeoutMs, app.log as Logger);
  const streams = new Set<{ destroy(): void }>();
  let closing = false;
  // Forwarded streams never end by themselves: end them before the server waits for requests.
  app.addHook('preClose', async () => {
    closing = true;
    for (const s of streams) s.destroy();
  });
  app.addHook('onClose', async () => upstreams.close());

  for (const [url, schema] of Object.entries(READ_ROUTE_SCHEMAS)) {
    const stream = url === '/log/stream';
    app.get(
      url,
      { schema: { ...schema, response: { ...schema.response, ...errorResponses(503) } } },
      async (req: FastifyRequest, reply: FastifyReply) => {
        const headers: Record<string, string> = {};
        for (const h of FORWARDED_REQUEST_HEADERS) {
          const v = req.headers[h];
          if (typeof v === 'string') headers[h] = v;
        }
        // req.url is the path and query string exactly as the caller wrote them.
        const answer = await upstreams.get(req.url, headers, stream && req.method === 'GET');
        if (answer.kind === 'buffered') return send(reply, answer);
        // Its headers came after preClose ended the others: it would hold the close forever.
        if (closing) {
          answer.body.destroy();
          // And the server's close would wait for this kept-alive connection to go idle.
          reply.header('connection', 'close');
          throw new ChariotsError('CHARIOTS_ERR_SHUTTING_DOWN', 'the batcher is shutting down');
        }
        reply.hijack();
        const res = reply.raw;
        streams.add(answer.body);
        res.writeHead(answer.status, answer.headers);
        try {
          // Backpressure both ways; a caller that leaves destroys the maintainer's stream.
          await pipeline(answer.body, res);
        } catch (e) {
          req.log.debug({ err: e, from: answer.base }, 'forwarded log stream ended');
        } finally {
          streams.delete(answer.body);
          if (!res.writableEnded) res.end();
        }
      },
    );
  }
};

function send(reply: FastifyReply, a: Extract<Answer, { kind: 'buffered' }>): FastifyReply {
  reply.status(a.status);
  for (const [k, v] of Object.entries(a.headers)) reply.header(k, v);
  return reply.send(a.body);
}
