import type { FastifyInstance } from 'fastify';
import { ChariotsError, ValidationError } from '../../errors';
import { rawBody } from '../../http/raw-body';
import { errorBody, errorResponses, recordInput } from '../../http/schemas';
import { normalizeRecord, type IngestRecord, type RecordLimits } from '../../record';
import { admissionHook } from './admission';
import { toIngest } from './assign';
import { parseMany, parseOne } from './body';
import type { RecordSink } from './sink';
import type { AppendWaiters } from './waiters';

export interface AppendRouteDeps {
  sink: RecordSink;
  /** Absent: `?wait=appended` is refused (no log follower, e.g. in unit tests). */
  waiters?: AppendWaiters;
  /** Resolves once the log is being followed (records produced afterwards will be seen). */
  waitReady?: () => Promise<void>;
  dcId: number;
  limits: RecordLimits;
  waitTimeoutMs: number;
  /** Admission control before bodies are read (admission.ts); absent = none (unit tests). */
  maxInflightBodyBytes?: number;
  bodyLimitBytes?: number;
}

const MAX_WAIT_MS = 3_600_000;

/** `?wait=appended&timeout=ms`; anything else than `appended`/`accepted` is a mistake worth a 400. */
function waitQuery(query: unknown, defaultMs: number): { wait: boolean; timeoutMs: number } {
  const q = (query ?? {}) as Record<string, unknown>;
  const wait =
    q.wait === undefined || q.wait === 'accepted'
      ? false
      : q.wait === 'appended'
        ? true
        : undefined;
  if (wait === undefined)
    throw new ValidationError(
      'CHARIOTS_ERR_BAD_QUERY',
      `wait must be "appended" or "accepted"; got ${JSON.stringify(q.wait)}`,
    );
  let timeoutMs = defaultMs;
  if (q.timeout !== undefined) {
    const t =
      typeof q.timeout === 'string' && /^\d{1,10}$/.test(q.timeout) ? Number(q.timeout) : NaN;
    if (!(t >= 1 && t <= MAX_WAIT_MS))
      throw new ValidationError(
        'CHARIOTS_ERR_BAD_QUERY',
        `timeout must be milliseconds between 1 and ${MAX_WAIT_MS}; got ${JSON.stringify(q.timeout)}`,
      );
    timeoutMs = t;
  }
  return { wait, timeoutMs };
}

type Result = { id: string } | ReturnType<ChariotsError['toJSON']>;

export function registerAppendRoutes(app: FastifyInstance, deps: AppendRouteDeps): void {
  const { sink, dcId, limits } = deps;
  const onRequest =
    deps.maxInflightBodyBytes !== undefined
      ? [
          admissionHook({
            sink,
            maxInflightBodyBytes: deps.maxInflightBodyBytes,
            bodyLimitBytes: deps.bodyLimitBytes ?? deps.maxInflightBodyBytes,
          }),
        ]
      : [];

  app.post('/record', { onRequest, schema: POST_RECORD }, async (req) => {
    const { wait, timeoutMs } = waitQuery(req.query, deps.waitTimeoutMs);
    if (wait && !deps.waiters)
      throw new ChariotsError(
        'CHARIOTS_ERR_INTERNAL',
        'wait=appended is not available on this instance',
      );
    const rec = toIngest(normalizeRecord(parseOne(rawBody(req.body)), 'http', limits), dcId);
    if (wait) await deps.waitReady?.();
    // Registered before producing: the append may be seen before the produce call returns.
    const waiter = wait ? deps.waiters?.register(rec.id, timeoutMs) : undefined;
    try {
      const [outcome] = await sink.append([rec]);
      if (outcome) throw outcome;
    } catch (e) {
      waiter?.cancel();
      throw e;
    }
    if (!waiter) return { id: rec.id };
    req.log.debug({ id: rec.id, timeoutMs }, 'accepted; waiting for the append');
    return { id: rec.id, lid: await waiter.appended };
  });

  app.post('/records', { onRequest, schema: POST_RECORDS }, async (req) => {
    const items = parseMany(rawBody(req.body), req.headers['content-type']);
    const results: Result[] = new Array(items.length);
    const valid: IngestRecord[] = [];
    const slots: number[] = [];
    items.forEach((item, i) => {
      try {
        if (!item.ok) throw item.error;
        valid.push(toIngest(normalizeRecord(item.value, 'http', limits), dcId));
        slots.push(i);
      } catch (e) {
        if (!(e instanceof ChariotsError)) throw e;
        results[i] = e.toJSON();
      }
    });
    const outcomes = valid.length > 0 ? await sink.append(valid) : [];
    // Nothing was stored at all because of the broker: that is the request's status, not a per-item one.
    if (outcomes.length > 0 && outcomes.every((o) => o !== null)) throw outcomes[0];
    let accepted = 0;
    outcomes.forEach((o, k) => {
      if (o) results[slots[k]] = o.toJSON();
      else {
        results[slots[k]] = { id: valid[k].id };
        accepted++;
      }
    });
    req.log.debug({ accepted, rejected: items.length - accepted }, 'records batch');
    return { results, accepted, rejected: items.length - accepted };
  });
}

const APPEND_ERRORS = errorResponses(400, 413, 415, 429, 503);

const POST_RECORD = {
  summary: 'Append one record',
  description:
    'Answers once the broker has durably accepted the record; with `wait=appended`, once it is in the log, with its LId.',
  tags: ['append'],
  querystring: {
    type: 'object',
    properties: {
      wait: { type: 'string', enum: ['accepted', 'appended'], default: 'accepted' },
      timeout: { type: 'string', pattern: '^[0-9]+$', description: 'ms, with wait=appended' },
    },
  },
  body: { content: { 'application/json': { schema: recordInput } } },
  response: {
    200: {
      description: 'Accepted (and appended, with `lid`, when wait=appended)',
      type: 'object',
      required: ['id'],
      properties: { id: { type: 'string' }, lid: { type: 'integer', minimum: 1 } },
    },
    ...APPEND_ERRORS,
    ...errorResponses(504),
  },
};

const POST_RECORDS = {
  summary: 'Append many records (JSON array or NDJSON)',
  description:
    'Each item is accepted or refused on its own; `results` is in the order of the items.',
  tags: ['append'],
  body: {
    content: {
      'application/json': { schema: { type: 'array', items: recordInput } },
      'application/x-ndjson': { schema: { type: 'string', description: 'one record per line' } },
    },
  },
  response: {
    200: {
      type: 'object',
      required: ['results', 'accepted', 'rejected'],
      properties: {
        results: {
          type: 'array',
          items: {
            oneOf: [
              { type: 'object', required: ['id'], properties: { id: { type: 'string' } } },
              errorBody,
            ],
          },
        },
        accepted: { type: 'integer' },
        rejected: { type: 'integer' },
      },
    },
    ...APPEND_ERRORS,
  },
};
