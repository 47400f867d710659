import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { ChariotsError, ValidationError } from '../../errors';
import { errorResponses } from '../../http/schemas';
import type { ChangelogView } from './changelog-view';
import type { DeadLetterEntry, DeferredEntry } from './entries';
import type { ViewSource } from './lazy-changelog';

export interface AdminRouteDeps {
  deferred: ViewSource<DeferredEntry>;
  deadletter: ViewSource<DeadLetterEntry>;
  /** Re-drives one dead-lettered record (atomically: back into the pipeline + tombstone). */
  redrive(entry: DeadLetterEntry): Promise<void>;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

function pageQuery(query: unknown): { limit: number; after?: string } {
  const q = (query ?? {}) as Record<string, unknown>;
  let limit = DEFAULT_LIMIT;
  if (q.limit !== undefined) {
    const n = typeof q.limit === 'string' && /^\d{1,4}$/.test(q.limit) ? Number(q.limit) : NaN;
    if (!(n >= 1 && n <= MAX_LIMIT))
      throw new ValidationError(
        'CHARIOTS_ERR_BAD_QUERY',
        `limit must be an integer between 1 and ${MAX_LIMIT}; got ${JSON.stringify(q.limit)}`,
      );
    limit = n;
  }
  if (q.after !== undefined && typeof q.after !== 'string')
    throw new ValidationError('CHARIOTS_ERR_BAD_QUERY', 'after must be one record id');
  return { limit, after: q.after as string | undefined };
}

/**
 * Visibility of bounded waiting (SPEC §2.6): what waits for prerequisites, what gave up,
 * and the way back. Lists are this instance's materialized view of the compacted topics
 * (read from the start on the first request after a quiet spell, lazy-changelog.ts), so an
 * entry produced a moment ago may take a fetch interval to show up.
 */
export function registerAdminRoutes(app: FastifyInstance, deps: AdminRouteDeps): void {
  app.get('/deferred', { schema: listSchema('deferred') }, async (req) => {
    const { limit, after } = pageQuery(req.query);
    const view = await deps.deferred.view();
    const { items, next } = view.page(limit, after);
    return { deferred: items, count: view.size, next };
  });

  app.get('/deadletter', { schema: listSchema('deadletter') }, async (req) => {
    const { limit, after } = pageQuery(req.query);
    const view = await deps.deadletter.view();
    const { items, next } = view.page(limit, after);
    return { deadletter: items, count: view.size, next };
  });

  // Concurrent retries of one id share one re-drive, so a double click re-drives once.
  const inFlight = new Map<string, Promise<void>>();
  const startRedrive = (
    view: ChangelogView<DeadLetterEntry>,
    id: string,
    log: FastifyBaseLogger,
  ): Promise<void> => {
    const entry = view.get(id);
    if (!entry)
      throw new ChariotsError('CHARIOTS_ERR_NOT_FOUND', `record ${id} is not dead-lettered`, {
        details: { id },
      });
    if (!entry.record) {
      throw new ValidationError(
        'CHARIOTS_ERR_BAD_RECORD',
        `dead letter ${id} holds no valid record (${entry.reason || entry.code}); it cannot be re-driven, produce a corrected record instead`,
      );
    }
    const running = deps.redrive(entry).then(() => view.delete(id));
    inFlight.set(id, running);
    void running.then(
      () => inFlight.delete(id),
      () => inFlight.delete(id),
    );
    log.info({ id }, 're-driving dead-lettered record');
    return running;
  };
  app.post<{ Params: { id: string } }>('/deadletter/:id/retry', { schema: RETRY }, async (req) => {
    const { id } = req.params;
    let running = inFlight.get(id);
    if (!running) {
      const view = await deps.deadletter.view();
      // A retry of the same id may have started while the view was being read.
      running = inFlight.get(id) ?? startRedrive(view, id, req.log);
    }
    await running;
    return { id, redriven: true };
  });
}

const ingestRecord = {
  type: 'object',
  nullable: true,
  description:
    'The record as taken in (uint64s as decimal strings); null when it never was a valid record',
  additionalProperties: true,
  properties: {
    id: { type: 'string' },
    host: { type: 'integer' },
    seed: { type: 'string' },
    prehash: { type: 'array', items: { type: 'string' } },
    parent: { type: 'array', items: { type: 'string' } },
    tags: { type: 'object', additionalProperties: { type: 'string' } },
    receivedAt: { type: 'string' },
  },
};

const ENTRY = {
  deferred: {
    type: 'object',
    required: ['id', 'record', 'missing', 'deadline'],
    properties: {
      id: { type: 'string' },
      record: ingestRecord,
      missing: { type: 'array', items: { type: 'string' }, description: 'What it waits for' },
      deadline: { type: 'string', nullable: true, description: 'When it is dead-lettered' },
    },
  },
  deadletter: {
    type: 'object',
    required: ['id', 'record', 'reason', 'code', 'missing', 'deadAt'],
    properties: {
      id: { type: 'string' },
      record: ingestRecord,
      reason: { type: 'string' },
      code: { type: 'string' },
      missing: { type: 'array', items: { type: 'string' } },
      deadAt: { type: 'string', nullable: true },
      raw: { type: 'string', description: 'The undecodable original, truncated' },
    },
  },
};

function listSchema(kind: 'deferred' | 'deadletter') {
  return {
    summary:
      kind === 'deferred'
        ? 'Records waiting for their prerequisites'
        : 'Records that gave up waiting or were invalid',
    tags: ['waiting'],
    querystring: {
      type: 'object',
      properties: {
        limit: { type: 'string', pattern: '^[0-9]+$', description: `1..${MAX_LIMIT}` },
        after: { type: 'string', description: 'The id the previous page ended with (`next`)' },
      },
    },
    response: {
      200: {
        type: 'object',
        required: [kind, 'count'],
        properties: {
          [kind]: { type: 'array', items: ENTRY[kind] },
          count: { type: 'integer', description: 'All entries, not only this page' },
          next: { type: 'string', nullable: true, description: 'The `after` of the next page' },
        },
      },
      // 503: the changelog could not be read (lazy-changelog.ts).
      ...errorResponses(400, 503),
    },
  };
}

const RETRY = {
  summary: 'Re-drive a dead-lettered record into the pipeline',
  tags: ['waiting'],
  params: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } },
  response: {
    200: {
      type: 'object',
      required: ['id', 'redriven'],
      properties: { id: { type: 'string' }, redriven: { type: 'boolean', enum: [true] } },
    },
    ...errorResponses(400, 404, 503),
  },
};
