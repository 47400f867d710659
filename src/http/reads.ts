import type { Writable } from 'node:stream';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { ChariotsError } from '../errors';
import type { StoreQuery, StoreReader } from '../flstore/types';
import { parseUint64, toPublicJson, type LogRecord } from '../record';
import { errorResponses, limitParam, publicRecord, recordPage } from './schemas';

export interface ReadRoutesOptions {
  store: StoreReader;
}

/** The description of a maintainer's own read API (`/docs`, `/openapi.json` on :8082). */
export const MAINTAINER_OPENAPI = {
  title: 'Chariots read API (maintainer)',
  description:
    "Reads from this maintainer's flstore: by LId, tag, hash, seed, id; ranges; a stream.",
};

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;
/** Records read from the store per step of a stream. */
const STREAM_CHUNK = 256;

type Query = Record<string, string | string[] | undefined>;

function one(q: Query, name: string): string | undefined {
  const v = q[name];
  if (Array.isArray(v))
    throw new ChariotsError('CHARIOTS_ERR_BAD_QUERY', `query parameter ${name} is given twice`);
  return v;
}

/** A positive LId-like integer parameter (`lid`, `from`, `after`, `limit`). */
function intParam(
  v: string | undefined,
  name: string,
  def: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (v === undefined || v === '') return def;
  const n = /^[0-9]{1,16}$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new ChariotsError(
      'CHARIOTS_ERR_BAD_QUERY',
      `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(v.slice(0, 40))}`,
    );
  return n;
}

function selector(q: Query): StoreQuery {
  const given = (['tag', 'hash', 'seed', 'id'] as const).filter((k) => one(q, k) !== undefined);
  if (given.length !== 1)
    throw new ChariotsError(
      'CHARIOTS_ERR_BAD_QUERY',
      'give exactly one of tag=key:value, hash=H, seed=S, id=…',
    );
  const v = one(q, given[0])!;
  switch (given[0]) {
    case 'tag':
      if (!v.includes(':'))
        throw new ChariotsError('CHARIOTS_ERR_BAD_QUERY', 'tag must be key:value');
      return { by: 'tag', tag: v };
    case 'hash':
      return { by: 'hash', hash: parseUint64(v, 'hash', 'CHARIOTS_ERR_BAD_HASH') };
    case 'seed':
      return { by: 'seed', seed: parseUint64(v, 'seed', 'CHARIOTS_ERR_BAD_SEED') };
    default:
      return { by: 'id', id: v };
  }
}

/** A page: the records, and `next` (the `after`/`from` for the next page) when it is full. */
function page(records: LogRecord[], limit: number, next: (last: LogRecord) => number) {
  const last = records[records.length - 1];
  return {
    records: records.map(toPublicJson),
    ...(records.length === limit && last ? { next: next(last) } : {}),
  };
}

/**
 * The read API over a store (SPEC §3.1): by LId, by tag / hash / seed / id, ranges, and an
 * NDJSON stream that replays then follows the tail. Records are the §1 output shape
 * (uint64s as decimal strings).
 */
export const registerReadRoutes: FastifyPluginAsync<ReadRoutesOptions> = async (app, { store }) => {
  const streams = new Set<AbortController>();
  // Streams never end by themselves: end them before the server waits for open requests.
  app.addHook('preClose', async () => {
    for (const s of streams) s.abort();
  });

  app.get<{ Params: { lid: string } }>('/record/:lid', { schema: GET_RECORD }, async (req) => {
    const lid = intParam(req.params.lid, 'lid', 0, 1);
    const r = await store.get(lid);
    if (!r)
      throw new ChariotsError(
        'CHARIOTS_ERR_NOT_FOUND',
        `no record at LId ${lid} yet (the store holds 1..${store.lastLid()})`,
      );
    return toPublicJson(r);
  });

  app.get<{ Querystring: Query }>('/records', { schema: GET_RECORDS }, async (req) => {
    const q = selector(req.query);
    const after = intParam(one(req.query, 'after'), 'after', 0, 0);
    const limit = intParam(one(req.query, 'limit'), 'limit', DEFAULT_PAGE, 1, MAX_PAGE);
    return page(await store.query(q, after, limit), limit, (r) => r.lid);
  });

  app.get<{ Querystring: Query }>('/log', { schema: GET_LOG }, async (req) => {
    const from = intParam(one(req.query, 'from'), 'from', 1, 1);
    const limit = intParam(one(req.query, 'limit'), 'limit', DEFAULT_PAGE, 1, MAX_PAGE);
    return page(await store.range(from, limit), limit, (r) => r.lid + 1);
  });

  // What a reader needs to start at the tail (the dashboard shows the last records).
  app.get('/log/head', { schema: GET_HEAD }, async () => ({ lid: store.lastLid() }));

  app.get<{ Querystring: Query }>('/log/stream', { schema: GET_STREAM }, async (req, reply) => {
    const from = intParam(one(req.query, 'from'), 'from', 1, 1);
    const ac = new AbortController();
    streams.add(ac);
    reply.hijack();
    const res = reply.raw;
    res.on('close', () => ac.abort());
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-cache' });
    try {
      await streamRecords(store, res, from, ac.signal);
    } catch (e) {
      req.log.warn({ err: e }, 'log stream ended by an error');
    } finally {
      streams.delete(ac);
      res.end();
    }
  });
};

/** Writes records from `from` on, forever: waits for the tail, and for the socket to drain. */
export async function streamRecords(
  store: StoreReader,
  res: Writable,
  from: number,
  signal: AbortSignal,
): Promise<void> {
  let next = from;
  while (!signal.aborted) {
    if (next > store.lastLid() && !(await store.waitForLid(next, signal))) return;
    const records = await store.range(next, STREAM_CHUNK);
    for (const r of records) {
      // write() returning false means the socket buffer is full: wait, never pile up.
      if (!res.write(`${JSON.stringify(toPublicJson(r))}\n`) && !(await drained(res, signal)))
        return;
    }
    next += records.length;
  }
}

function drained(res: Writable, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      res.off('drain', onDrain);
      signal.removeEventListener('abort', onAbort);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onAbort = () => done(false);
    if (signal.aborted) return resolve(false);
    res.on('drain', onDrain);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Registers the read routes on `app` (used by the batcher when a store is in-process). */
export async function addReadRoutes(app: FastifyInstance, store: StoreReader): Promise<void> {
  await app.register(registerReadRoutes, { store });
}

const READ_ERRORS = errorResponses(400);
const lidQuery = (description: string) => ({ type: 'string', pattern: '^[0-9]+$', description });

const GET_RECORD = {
  summary: 'The record at an LId',
  tags: ['read'],
  params: { type: 'object', required: ['lid'], properties: { lid: lidQuery('LId, from 1') } },
  response: { 200: publicRecord, ...errorResponses(400, 404) },
};

const GET_RECORDS = {
  summary: 'Records by tag, tag hash, seed or id, in LId order',
  description: 'Give exactly one of tag, hash, seed, id.',
  tags: ['read'],
  querystring: {
    type: 'object',
    properties: {
      tag: { type: 'string', description: 'key:value' },
      hash: { type: 'string', description: 'FNV-1a 64 of key:value (uint64, decimal)' },
      seed: { type: 'string', description: 'uint64, decimal' },
      id: { type: 'string' },
      after: lidQuery('Only LIds above this one (the `next` of the previous page)'),
      limit: limitParam,
    },
  },
  response: { 200: recordPage, ...READ_ERRORS },
};

const GET_LOG = {
  summary: 'A range of the log',
  tags: ['read'],
  querystring: {
    type: 'object',
    properties: { from: lidQuery('First LId (default 1)'), limit: limitParam },
  },
  response: { 200: recordPage, ...READ_ERRORS },
};

const GET_STREAM = {
  summary: 'NDJSON: replays the log from an LId, then follows the tail',
  tags: ['read'],
  querystring: { type: 'object', properties: { from: lidQuery('First LId (default 1)') } },
  response: {
    200: {
      description: 'One record (as GET /record/:lid) per line, never ending',
      content: { 'application/x-ndjson': { schema: publicRecord } },
    },
    ...READ_ERRORS,
  },
};

const GET_HEAD = {
  summary: 'The last LId stored (0 when the log is empty)',
  tags: ['read'],
  response: {
    200: {
      type: 'object',
      required: ['lid'],
      properties: { lid: { type: 'integer', minimum: 0 } },
    },
    ...errorResponses(),
  },
};

/**
 * The read routes and their descriptions, for the batcher's forwarding of them to a
 * maintainer (src/http/read-forward.ts): it serves exactly these URLs, documented alike.
 */
export const READ_ROUTE_SCHEMAS = {
  '/record/:lid': GET_RECORD,
  '/records': GET_RECORDS,
  '/log': GET_LOG,
  '/log/head': GET_HEAD,
  '/log/stream': GET_STREAM,
} as const;
