import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { ChariotsError, isChariotsError } from '../errors';
import type { Health } from '../health';
import type { Logger } from '../logger';
import { renderMetrics } from '../metrics';
import { installAuth, type Authenticator, type AuthScope } from './auth';
import { registerOpenApi, type OpenApiOptions } from './openapi';
import { errorResponses } from './schemas';

export interface AppOptions {
  logger: Logger;
  health: Health;
  bodyLimitBytes: number;
  /** Bearer-token checks (src/http/auth.ts, `authFromConfig`); absent = open. */
  auth?: Authenticator;
  /** 'admin' on the admin port: every route but /healthz and /readyz needs the admin role. */
  authScope?: AuthScope;
  /** Slow or too many clients (http.headersTimeoutMs, requestTimeoutMs, maxConnections). */
  clients?: ClientLimits;
  /** Serve `/openapi.json` and `/docs` describing every route of this app. */
  openapi?: OpenApiOptions;
}

export interface ClientLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnections: number;
}

const DEFAULT_CLIENT_LIMITS: ClientLimits = {
  headersTimeoutMs: 10000,
  requestTimeoutMs: 30000,
  maxConnections: 1024,
};

/** The same three options for every HTTP port of a process. */
export const clientLimits = (http: ClientLimits): ClientLimits => ({
  headersTimeoutMs: http.headersTimeoutMs,
  requestTimeoutMs: http.requestTimeoutMs,
  maxConnections: http.maxConnections,
});

/**
 * A fastify instance with Chariots' conventions: request ids, errors always as
 * `{"error":{"code","message"}}` with the status from the error catalog, and the
 * liveness/readiness routes every process serves.
 */
export function createApp(opts: AppOptions): FastifyInstance {
  const limits = opts.clients ?? DEFAULT_CLIENT_LIMITS;
  const app = Fastify({
    loggerInstance: opts.logger as FastifyServerOptions['loggerInstance'],
    // Per-request lines would dominate the log at load; routes log what matters, bound to {reqId}.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    bodyLimit: opts.bodyLimitBytes,
    genReqId: () => randomUUID(),
    // Slow-loris defence: Node answers 408 and closes a connection whose headers (or whole
    // request) arrive too slowly. It checks every connectionsCheckingInterval, so that must be
    // well below the timeouts or they would be honoured up to 30 s (Node's default) late.
    requestTimeout: limits.requestTimeoutMs,
    http: {
      headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
      connectionsCheckingInterval: Math.max(
        50,
        Math.min(1000, Math.floor(limits.headersTimeoutMs / 4)),
      ),
    },
    // No idle timeout on an active request: ?wait=appended answers may take minutes.
    connectionTimeout: 0,
    keepAliveTimeout: 65000,
  });
  // Node closes connections beyond this at once, before reading anything.
  app.server.maxConnections = limits.maxConnections;
  if (opts.auth) installAuth(app, opts.auth, opts.authScope ?? 'api');
  // Route schemas document the API (src/http/schemas.ts): no ajv checks, no field filtering.
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  if (opts.openapi) registerOpenApi(app, opts.openapi);

  app.setErrorHandler((err, req, reply) => {
    if (isChariotsError(err)) {
      if (err.retriable) reply.header('retry-after', '1');
      return reply.status(err.httpStatus).send(err.toJSON());
    }
    const e = err as { statusCode?: number; code?: string; message: string };
    const status = e.statusCode ?? 500;
    let mapped: ChariotsError;
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      mapped = new ChariotsError(
        'CHARIOTS_ERR_BODY_TOO_LARGE',
        `request body is larger than ${opts.bodyLimitBytes} bytes`,
      );
    else if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      mapped = new ChariotsError('CHARIOTS_ERR_UNSUPPORTED_MEDIA_TYPE', e.message);
    else if (e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || e.code === 'FST_ERR_CTP_INVALID_JSON_BODY')
      mapped = new ChariotsError('CHARIOTS_ERR_BAD_JSON', e.message);
    else if (status >= 400 && status < 500)
      mapped = new ChariotsError('CHARIOTS_ERR_BAD_RECORD', e.message);
    else {
      req.log.error({ err }, 'unhandled error');
      mapped = new ChariotsError('CHARIOTS_ERR_INTERNAL', 'internal error');
    }
    return reply.status(mapped.httpStatus).send(mapped.toJSON());
  });

  app.setNotFoundHandler((req, reply) => {
    const e = new ChariotsError('CHARIOTS_ERR_NOT_FOUND', `no route ${req.method} ${req.url}`);
    return reply.status(404).send(e.toJSON());
  });

  // In a plugin so that the OpenAPI hook, loaded first, sees these routes too.
  void app.register(async (core) => {
    core.get('/healthz', { schema: HEALTHZ }, async () => ({ status: 'ok' }));
    core.get('/readyz', { schema: READYZ }, async (_req, reply) => {
      const r = await opts.health.readiness();
      return reply.status(r.ready ? 200 : 503).send(r);
    });
    core.get('/metrics', { schema: METRICS }, async (_req, reply) => {
      const m = await renderMetrics();
      return reply.header('content-type', m.contentType).send(m.body);
    });
  });
  return app;
}

const HEALTHZ = {
  summary: 'Liveness: the process answers',
  tags: ['operations'],
  security: [],
  response: {
    200: {
      type: 'object',
      required: ['status'],
      properties: { status: { type: 'string', enum: ['ok'] } },
    },
  },
};

const readiness = {
  type: 'object',
  required: ['ready', 'checks'],
  properties: {
    ready: { type: 'boolean' },
    checks: {
      type: 'object',
      description: 'One entry per check (kafka, each stage of this process): true when ready',
      additionalProperties: { type: 'boolean' },
    },
  },
};

const READYZ = {
  summary: 'Readiness: broker reachable and every stage of this process ready',
  tags: ['operations'],
  security: [],
  response: { 200: readiness, 503: { description: 'Not ready', ...readiness } },
};

const METRICS = {
  summary: 'Prometheus metrics (text exposition format)',
  tags: ['operations'],
  response: {
    200: {
      description: 'Prometheus text exposition format',
      content: { 'text/plain': { schema: { type: 'string' } } },
    },
    ...errorResponses(),
  },
};
