/**
 * Fuzzes the batcher's HTTP API (SPEC §2.8, issue 5 point 3) without a broker: the real
 * fastify app and routes, an in-memory sink, `app.inject()`. Every answer must carry a
 * documented status; every non-2xx answer must be exactly `{"error":{"code","message"}}`
 * (plus optional `details`) with a catalog code whose status is the answer's; retriable
 * codes carry Retry-After; the app never logs an unhandled error; and every record that
 * reached the sink passes an independent re-validation. Seeded by fast-check (the seed of
 * a failure is printed); FUZZ_RUNS=<n> scales the number of runs.
 */
import fc from 'fast-check';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { loadConfig } from '../../src/config/load';
import { ChariotsError, ERROR_CODES, type ErrorCode } from '../../src/errors';
import { Health } from '../../src/health';
import { createApp } from '../../src/http/app';
import { addReadRoutes } from '../../src/http/reads';
import { makeRecord } from '../../src/flstore/test-records';
import type { StoreReader } from '../../src/flstore/types';
import { hashTag, type LogRecord, type RecordLimits } from '../../src/record';
import { ChangelogView } from '../../src/stages/batcher/changelog-view';
import type { DeadLetterEntry, DeferredEntry } from '../../src/stages/batcher/entries';
import { registerBatcherRoutes } from '../../src/stages/batcher/routes';
import { MemorySink } from '../../src/stages/batcher/test-helpers';
import { AppendWaiters } from '../../src/stages/batcher/waiters';
import {
  capturingLogger,
  deepText,
  prototypeProblem,
  randomBytes,
  recordProblem,
  recordText,
  validRecordText,
  valueText,
  type CapturingLogger,
} from './helpers';

const SCALE = Number(process.env.FUZZ_RUNS ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));

const DOCUMENTED = new Set([200, 400, 404, 413, 415, 429, 503, 504]);
const RETRIABLE_STATUSES = new Set([429, 503, 504]);
const BODY_LIMIT = 256 * 1024;

interface Harness {
  app: FastifyInstance;
  deferred: ChangelogView<DeferredEntry>;
  deadletter: ChangelogView<DeadLetterEntry>;
  sink: MemorySink;
  limits: RecordLimits;
  log: CapturingLogger;
}

/** The read routes as the batcher serves them, over a small in-memory log. */
function memoryStore(n: number): StoreReader {
  const log: LogRecord[] = Array.from({ length: n }, (_, i) => makeRecord(i + 1));
  return {
    lastLid: () => log.length,
    get: async (lid) => log[lid - 1],
    range: async (from, limit) => log.slice(from - 1, from - 1 + limit),
    query: async (q, after, limit) =>
      log
        .filter((r) => r.lid > after)
        .filter((r) =>
          q.by === 'id'
            ? r.id === q.id
            : q.by === 'seed'
              ? r.seed === q.seed
              : q.by === 'tag'
                ? Object.entries(r.tags).some(([k, v]) => `${k}:${v}` === q.tag)
                : Object.entries(r.tags).some(([k, v]) => hashTag(k, v) === q.hash),
        )
        .slice(0, limit),
    waitForLid: async () => false,
  };
}

async function harness(bodyLimitBytes = BODY_LIMIT): Promise<Harness> {
  const config = loadConfig({ env: {}, overrides: { dcId: 3 } });
  const log = capturingLogger();
  const sink = new MemorySink();
  sink.capacity = 100_000;
  const app = createApp({ logger: log.logger, health: new Health(), bodyLimitBytes });
  const deferred = new ChangelogView<DeferredEntry>();
  const deadletter = new ChangelogView<DeadLetterEntry>();
  for (let i = 1; i <= 5; i++) {
    const record = { ...makeRecord(i), id: `dl-${i}` };
    deferred.set(record.id, { id: record.id, record, missing: ['x'], deadline: null });
  }
  await registerBatcherRoutes(app, {
    sink,
    waiters: new AppendWaiters(),
    dcId: config.dcId,
    limits: config.record,
    waitTimeoutMs: 5,
    deferred,
    deadletter,
    redrive: async () => undefined,
  });
  await addReadRoutes(app, memoryStore(50));
  await app.ready();
  const h = { app, sink, limits: config.record, log, deferred, deadletter };
  refillDeadLetters(h);
  return h;
}

/** Dead letters to retry (a retry removes one): with a record, and without (undecodable). */
function refillDeadLetters(h: Pick<Harness, 'deadletter'>): void {
  for (let i = 1; i <= 3; i++) {
    const id = `dl-${i}`;
    if (h.deadletter.get(id)) continue;
    const base = { id, reason: 'timeout', code: 'CHARIOTS_ERR_TIMEOUT', missing: [], deadAt: null };
    h.deadletter.set(id, { ...base, record: i === 3 ? null : { ...makeRecord(i), id } });
  }
}

// ---------------------------------------------------------------------------------------
// What a broker behind the sink may do to a request.

type SinkMode = 'ok' | 'overloaded' | 'shutting-down' | 'too-many' | 'broker-down' | 'some-fail';
const sinkMode: fc.Arbitrary<SinkMode> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<SinkMode>('ok') },
  {
    weight: 1,
    arbitrary: fc.constantFrom<SinkMode>(
      'overloaded',
      'shutting-down',
      'too-many',
      'broker-down',
      'some-fail',
    ),
  },
);

function applySinkMode(sink: MemorySink, mode: SinkMode): void {
  sink.refuse = undefined;
  sink.fail = undefined;
  if (mode === 'overloaded')
    sink.refuse = new ChariotsError('CHARIOTS_ERR_OVERLOADED', 'too many records waiting');
  else if (mode === 'shutting-down')
    sink.refuse = new ChariotsError('CHARIOTS_ERR_SHUTTING_DOWN', 'shutting down');
  else if (mode === 'too-many')
    sink.refuse = new ChariotsError('CHARIOTS_ERR_BODY_TOO_LARGE', 'too many records');
  else if (mode === 'broker-down')
    sink.fail = () => new ChariotsError('CHARIOTS_ERR_BROKER_UNAVAILABLE', 'broker down');
  else if (mode === 'some-fail')
    sink.fail = (r) =>
      r.id.charCodeAt(0) % 2 === 0
        ? new ChariotsError('CHARIOTS_ERR_BROKER_UNAVAILABLE', 'broker down')
        : null;
}

// ---------------------------------------------------------------------------------------
// Request pieces.

const headerValue = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 40,
});

const contentType: fc.Arbitrary<string | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=utf-16',
    'APPLICATION/JSON',
    'application/x-ndjson',
    'application/ndjson',
    'text/plain',
    'application/octet-stream',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/json;;',
    '',
    ' ',
    ';',
    '*/*',
    'x/y; a="b',
  ),
  headerValue,
);

const queryValue = fc.oneof(
  fc.constantFrom(
    'appended',
    'accepted',
    '',
    '0',
    '1',
    '5',
    '-1',
    '1.5',
    'abc',
    '3600001',
    '99999999999',
    '9007199254740993',
    '18446744073709551615',
    '18446744073709551616',
    'k:v1',
    'n:7',
    'id-3',
    ':',
  ),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
  fc.constantFrom('%', '%ZZ', '%00', '%E0%A4%A', '%ff'),
);
const queryString: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom(
          'wait',
          'timeout',
          'limit',
          'after',
          'from',
          'tag',
          'hash',
          'seed',
          'id',
          '__proto__',
        ),
        fc.string({ maxLength: 6 }).map(encodeURIComponent),
      ),
      queryValue,
    ),
    { maxLength: 3 },
  )
  .map((kv) => (kv.length === 0 ? '' : `?${kv.map(([k, v]) => `${k}=${v}`).join('&')}`));

type Body = string | Buffer;

/** POST /record bodies. */
const oneBody: fc.Arbitrary<Body> = fc.oneof(
  { weight: 6, arbitrary: recordText() },
  { weight: 2, arbitrary: valueText },
  { weight: 1, arbitrary: randomBytes },
  { weight: 1, arbitrary: deepText },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', ' ', '\n', '\uFEFF{}', '{}', '{"tags":{}}{"tags":{}}', 'null'),
  },
);

/** POST /records bodies: arrays, NDJSON (with bad lines), anything. */
const manyBody: fc.Arbitrary<Body> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .array(
        fc.oneof({ weight: 4, arbitrary: recordText() }, { weight: 1, arbitrary: valueText }),
        {
          maxLength: 6,
        },
      )
      .map((xs) => `[${xs.join(',')}]`),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.array(
          fc.oneof({ weight: 4, arbitrary: recordText() }, { weight: 1, arbitrary: valueText }),
          {
            maxLength: 6,
          },
        ),
        fc.constantFrom('\n', '\r\n', '\n\n'),
        fc.boolean(),
      )
      .map(([xs, sep, bom]) => (bom ? '\uFEFF' : '') + xs.join(sep)),
  },
  { weight: 2, arbitrary: oneBody },
);

/** Bodies around the body limit and the record limit. */
const bigBody: fc.Arbitrary<Body> = fc
  .tuple(
    fc.constantFrom(16384, 16385, 65536, 70_000, BODY_LIMIT - 20, BODY_LIMIT, BODY_LIMIT + 1),
    fc.constantFrom('value', 'key', 'many-tags', 'garbage', 'array'),
  )
  .map(([n, kind]) => {
    if (kind === 'value') return `{"tags":{"k":"${'v'.repeat(n)}"}}`;
    if (kind === 'key') return `{"tags":{"${'k'.repeat(n)}":"v"}}`;
    if (kind === 'many-tags') {
      const count = Math.max(1, Math.floor(n / 12));
      const tags = Array.from({ length: count }, (_, i) => `"k${i}":"v"`).join(',');
      return `{"tags":{${tags}}}`;
    }
    if (kind === 'array')
      return `[${Array(Math.min(2000, Math.floor(n / 3)))
        .fill('{}')
        .join(',')}]`;
    return 'x'.repeat(n);
  });

const GET_PATHS = fc.oneof(
  fc.constantFrom(
    '/deferred',
    '/deadletter',
    '/healthz',
    '/readyz',
    '/record',
    '/records',
    '/record/1',
    '/record/50',
    '/record/51',
    '/record/0',
    '/record/-1',
    '/record/1.5',
    '/record/99999999999999999999',
    '/log',
    '/',
    '/metrics',
  ),
  fc.string({ maxLength: 20 }).map((s) => `/${encodeURIComponent(s)}`),
);

const request: fc.Arbitrary<InjectOptions> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc
      .tuple(oneBody, contentType, queryString)
      .map(([payload, ct, qs]) => post(`/record${qs}`, payload, ct)),
  },
  {
    weight: 8,
    arbitrary: fc
      .tuple(manyBody, contentType, queryString)
      .map(([payload, ct, qs]) => post(`/records${qs}`, payload, ct)),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom<InjectOptions['method']>(
          'GET',
          'HEAD',
          'DELETE',
          'PUT',
          'OPTIONS',
          'PATCH',
        ),
        GET_PATHS,
        queryString,
      )
      .map(([method, path, qs]) => ({ method, url: `${path}${qs}` })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.oneof(
          fc.string({ maxLength: 30 }),
          fc.constantFrom('dl-1', 'dl-2', 'dl-3', '__proto__', 'constructor'),
        ),
        oneBody,
      )
      .map(([id, payload]) => post(`/deadletter/${encodeURIComponent(id)}/retry`, payload)),
  },
);

function post(url: string, payload: Body, ct?: string): InjectOptions {
  return { method: 'POST', url, payload, headers: ct === undefined ? {} : { 'content-type': ct } };
}

// ---------------------------------------------------------------------------------------
// The oracle.

let requests = 0;
let stored = 0;

async function check(h: Harness, req: InjectOptions, mode: SinkMode = 'ok'): Promise<void> {
  applySinkMode(h.sink, mode);
  refillDeadLetters(h);
  const before = h.sink.records.length;
  requests++;
  const res = await h.app.inject(req);
  const what = `${req.method} ${req.url} → ${res.statusCode} ${res.body.slice(0, 300)}`;
  if (!DOCUMENTED.has(res.statusCode)) throw new Error(`undocumented status: ${what}`);
  if (h.log.errors.length > 0) throw new Error(`error logged: ${h.log.errors[0]} for ${what}`);

  if (res.statusCode !== 200 && req.method !== 'HEAD') {
    let body: unknown;
    try {
      body = JSON.parse(res.body);
    } catch {
      throw new Error(`non-JSON error body: ${what}`);
    }
    const b = body as { error?: Record<string, unknown> };
    if (typeof b !== 'object' || b === null || Object.keys(b).join() !== 'error')
      throw new Error(`error body is not {"error":…}: ${what}`);
    const e = b.error;
    if (typeof e !== 'object' || e === null) throw new Error(`error is not an object: ${what}`);
    const keys = Object.keys(e).sort();
    if (!(keys.join() === 'code,message' || keys.join() === 'code,details,message'))
      throw new Error(`error has keys ${keys.join()}: ${what}`);
    if (typeof e.message !== 'string' || e.message.length === 0)
      throw new Error(`error message is not a string: ${what}`);
    if (keys.includes('details') && (typeof e.details !== 'object' || e.details === null))
      throw new Error(`error details is not an object: ${what}`);
    const code = e.code as ErrorCode;
    if (!Object.hasOwn(ERROR_CODES, code)) throw new Error(`unknown code: ${what}`);
    if (ERROR_CODES[code].httpStatus !== res.statusCode)
      throw new Error(`code ${code} is documented as ${ERROR_CODES[code].httpStatus}: ${what}`);
    if (RETRIABLE_STATUSES.has(res.statusCode) && res.headers['retry-after'] === undefined)
      throw new Error(`retriable answer without Retry-After: ${what}`);
  }

  const added = h.sink.records.slice(before);
  for (const r of added) {
    const problem = recordProblem(r, h.limits);
    if (problem) throw new Error(`invalid record reached the sink (${problem}): ${what}`);
  }
  stored += added.length;
  if (h.sink.records.length > 10_000) h.sink.records.length = 0;
  const pp = prototypeProblem();
  if (pp) throw new Error(`${pp}: ${what}`);

  // Answers agree with what was stored.
  const path = String(req.url ?? '').split('?')[0];
  if (req.method === 'POST' && path === '/record' && res.statusCode === 200) {
    const { id } = res.json() as { id: string };
    if (added.length !== 1 || added[0].id !== id)
      throw new Error(`200 for ${id} but the sink got ${added.map((r) => r.id)}: ${what}`);
  } else if (req.method === 'POST' && path === '/records' && res.statusCode === 200) {
    const out = res.json() as { results: Array<{ id?: string }>; accepted: number };
    const ids = out.results.filter((r) => r.id !== undefined).map((r) => r.id);
    if (out.accepted !== added.length || ids.join() !== added.map((r) => r.id).join())
      throw new Error(`answer ids ${ids} but the sink got ${added.map((r) => r.id)}: ${what}`);
    for (const r of out.results)
      if (
        r.id === undefined &&
        !Object.hasOwn(ERROR_CODES, (r as { error?: { code?: string } }).error?.code ?? '')
      )
        throw new Error(`per-item result is neither an id nor a catalog error: ${what}`);
  } else if (added.length > 0 && res.statusCode !== 504) {
    throw new Error(`${added.length} records stored for a non-200 answer: ${what}`);
  }
}

const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);
let h: Harness;
let small: Harness;

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
  h = await harness();
  small = await harness(4096);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  process.off('uncaughtException', onUnhandled);
  await h.app.close();
  await small.app.close();
  console.log(`http fuzz: ${requests} requests, ${stored} records stored`);
});
afterEach(() => expect(unhandled).toEqual([]));

describe('HTTP fuzz (no broker)', () => {
  it('answers arbitrary requests with a documented status and error shape; stores only valid records', async () => {
    await fc.assert(
      fc.asyncProperty(request, sinkMode, (req, mode) => check(h, req, mode)),
      { numRuns: runs(6000) },
    );
  });

  it('mutated records: wrong types, huge/negative/fractional numbers, duplicate and evil keys', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(recordText(), { minLength: 1, maxLength: 3 }),
        contentType,
        async (texts, ct) => {
          // The same mutations through both routes.
          await check(h, post('/record', texts[0], ct));
          await check(h, post('/records', `[${texts.join(',')}]`, ct));
          await check(h, post('/records', texts.join('\n'), 'application/x-ndjson'));
        },
      ),
      { numRuns: runs(1500) },
    );
  });

  it('accepts every valid record, exactly as sent, through both routes', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 4 })
          .chain((k) =>
            fc.tuple(...Array.from({ length: k }, () => validRecordText(`valid-${n++}`))),
          ),
        fc.constantFrom(undefined, 'application/json', 'text/plain', 'application/octet-stream'),
        async (texts, ct) => {
          const res1 = await h.app.inject(post('/record', texts[0], ct));
          requests++;
          expect(res1.statusCode).toBe(200);
          const res2 = await h.app.inject(post('/records', `[${texts.join(',')}]`, ct));
          requests++;
          expect(res2.statusCode).toBe(200);
          expect(res2.json()).toMatchObject({ accepted: texts.length, rejected: 0 });
          const stored = h.sink.records.slice(-texts.length - 1);
          for (const r of stored) expect(recordProblem(r, h.limits)).toBeUndefined();
        },
      ),
      { numRuns: runs(500) },
    );
  });

  it('bodies around the body, record, tag and batch limits', async () => {
    await fc.assert(
      fc.asyncProperty(
        bigBody,
        fc.constantFrom('/record', '/records'),
        contentType,
        (body, url, ct) => check(h, post(url, body, ct)),
      ),
      { numRuns: runs(300) },
    );
    await fc.assert(
      fc.asyncProperty(request, (req) => check(small, req)),
      { numRuns: runs(1000) },
    );
  });

  it('a valid request still works after all of that', async () => {
    const res = await h.app.inject(
      post('/record', '{"tags":{"after":"fuzz"},"seed":18446744073709551615}'),
    );
    expect(res.statusCode).toBe(200);
    expect(h.sink.records.at(-1)).toMatchObject({
      seed: '18446744073709551615',
      tags: { after: 'fuzz' },
    });
  });
});
