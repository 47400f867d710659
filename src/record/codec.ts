import { PoisonMessageError } from '../errors';
import { parseExternalIngest, type ExternalIngestContext } from './external';
import type { IngestRecord, LogRecord, Uint64String } from './types';
import { isCanonicalUint64 } from './uint64';

/**
 * Codec of the internal topics (ingest and ordered log). Values are JSON in which every
 * uint64 is a decimal string and every number (host, prehost, pretoid, lid, toid) is below
 * 2^53, so plain JSON.parse is exact here. The leading `"v":1` marks a message written by
 * Chariots (and is the format version); anything else on the ingest topic is a record an
 * application produced directly (raw §1 JSON) and goes through the lossless validating path.
 * A message that claims `"v":1` but has the wrong shape can never be processed: it raises
 * PoisonMessageError, so the stage dead-letters it instead of stalling.
 */

const V1_PREFIX = Buffer.from('{"v":1,');

/** True when `buf` claims to be a Chariots-written value (decodeIngest/decodeLog check the rest). */
export function isV1(buf: Buffer): boolean {
  // A byte loop: subarray + equals (a view object and a native call) was ~3 % of the filter.
  if (buf.length < V1_PREFIX.length) return false;
  for (let i = 0; i < V1_PREFIX.length; i++) if (buf[i] !== V1_PREFIX[i]) return false;
  return true;
}

/** Same object shape as the encoders below produce, for toPublicJson and the SDK. */
export interface PublicRecord {
  lid: number;
  toid: number;
  host: number;
  id: string;
  seed: Uint64String;
  prehash: Uint64String[];
  parent: string[];
  prehost?: number;
  pretoid?: number;
  tags: Record<string, string>;
  receivedAt: string;
  appendedAt: string;
}

function origin(r: IngestRecord): { prehost?: number; pretoid?: number } {
  return r.pretoid === undefined ? {} : { prehost: r.prehost, pretoid: r.pretoid };
}

/**
 * Ingest value, fields in this order (prehost/pretoid only when set):
 * {"v":1,"id":str,"host":int,"seed":"u64","prehash":["u64"…],"parent":[str…],
 *  "prehost":int,"pretoid":int,"tags":{str:str…},"receivedAt":"ISO-8601",
 *  "remote":{"toid":int,"clock":{"<dcId>":int…}}}     (remote only on replicated records)
 */
export function encodeIngest(r: IngestRecord): Buffer {
  const { id, host, seed, prehash, parent, tags, receivedAt, remote } = r;
  // The common shape as one literal: the spreads below were ~15 % of this function, which
  // runs once per record the filter admits from raw JSON.
  if (r.pretoid === undefined && !remote)
    return Buffer.from(JSON.stringify({ v: 1, id, host, seed, prehash, parent, tags, receivedAt }));
  return Buffer.from(
    JSON.stringify({
      v: 1,
      id,
      host,
      seed,
      prehash,
      parent,
      ...origin(r),
      tags,
      receivedAt,
      ...(remote ? { remote } : {}),
    }),
  );
}

/**
 * Log value: {"v":1,"lid":int,"toid":int,"host":int,"id":str,"seed":"u64",
 *  "prehash":["u64"…],"parent":[str…],"prehost":int,"pretoid":int,"tags":{…},
 *  "receivedAt":"ISO-8601","appendedAt":"ISO-8601"}   (prehost/pretoid only when set)
 */
export function encodeLog(r: LogRecord): Buffer {
  return Buffer.from(encodeLogText(r));
}

/**
 * encodeLog as a string, for a producer: kafkajs writes a string value straight into its
 * request buffer, so the intermediate Buffer (an allocation and a copy per log record in the
 * sequencer) is saved.
 */
export function encodeLogText(r: LogRecord): string {
  // Concatenated rather than JSON.stringify of one object (~0.67 → ~0.45 ms per 1 000 bench
  // records; it runs once per log record). Strings and arrays still go through
  // JSON.stringify, so escaping is JSON's own; the numbers are safe integers (decodeIngest
  // and numberRecords make them), whose String() is their JSON text. Same fields, same order
  // as `{ v: 1, ...toPublicJson(r) }`: codec.test.ts checks the text is identical.
  let s =
    '{"v":1,"lid":' +
    r.lid +
    ',"toid":' +
    r.toid +
    ',"host":' +
    r.host +
    ',"id":' +
    JSON.stringify(r.id) +
    ',"seed":' +
    JSON.stringify(r.seed) +
    ',"prehash":' +
    (r.prehash.length === 0 ? '[]' : JSON.stringify(r.prehash)) +
    ',"parent":' +
    (r.parent.length === 0 ? '[]' : JSON.stringify(r.parent));
  if (r.pretoid !== undefined) {
    if (r.prehost !== undefined) s += ',"prehost":' + r.prehost;
    s += ',"pretoid":' + r.pretoid;
  }
  return (
    s +
    ',"tags":' +
    JSON.stringify(r.tags) +
    ',"receivedAt":' +
    JSON.stringify(r.receivedAt) +
    ',"appendedAt":' +
    JSON.stringify(r.appendedAt) +
    '}'
  );
}

/** The output shape of SPEC §1 (uint64s as decimal strings). */
export function toPublicJson(r: LogRecord): PublicRecord {
  const { lid, toid, host, id, seed, prehash, parent, tags, receivedAt, appendedAt } = r;
  return { lid, toid, host, id, seed, prehash, parent, ...origin(r), tags, receivedAt, appendedAt };
}

function bad(what: string, field: string, value: unknown): never {
  throw new PoisonMessageError(`undecodable ${what} message: field ${field} is invalid`, {
    field,
    value: typeof value === 'string' ? value.slice(0, 80) : typeof value,
  });
}

function parseV1(buf: Buffer, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw new PoisonMessageError(`undecodable ${what} message: not JSON`, undefined, e);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(what, '(root)', v);
  return v as Record<string, unknown>;
}

const isInt = (v: unknown, min: number): v is number =>
  Number.isSafeInteger(v) && (v as number) >= min;
const isStr = (v: unknown): v is string => typeof v === 'string';

/** Checks the fields common to ingest and log values; returns the IngestRecord part. */
function checkIngest(o: Record<string, unknown>, what: string): IngestRecord {
  const { id, host, seed, prehash, parent, prehost, pretoid, tags, receivedAt, remote } = o;
  if (!isStr(id) || id.length === 0) bad(what, 'id', id);
  if (!isInt(host, 0) || host > 0xffff) bad(what, 'host', host);
  if (!isCanonicalUint64(seed)) bad(what, 'seed', seed);
  if (!Array.isArray(prehash) || !prehash.every(isCanonicalUint64)) bad(what, 'prehash', prehash);
  if (!Array.isArray(parent) || !parent.every(isStr)) bad(what, 'parent', parent);
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) bad(what, 'tags', tags);
  // A loop rather than Object.values(tags).every(…): no array per record (every stage
  // decodes every record it reads).
  for (const k in tags) if (!isStr((tags as Record<string, unknown>)[k])) bad(what, 'tags', tags);
  if (!isStr(receivedAt)) bad(what, 'receivedAt', receivedAt);
  const rec: IngestRecord = {
    id,
    host,
    seed,
    prehash,
    parent,
    tags: tags as Record<string, string>,
    receivedAt,
  };
  if (remote !== undefined) {
    const rm = remote as { toid?: unknown; clock?: unknown };
    if (typeof remote !== 'object' || remote === null || !isInt(rm.toid, 1))
      bad(what, 'remote', remote);
    const clock = rm.clock;
    if (typeof clock !== 'object' || clock === null || Array.isArray(clock))
      bad(what, 'remote', remote);
    if (!Object.entries(clock).every(([k, v]) => /^\d+$/.test(k) && isInt(v, 0)))
      bad(what, 'remote', remote);
    rec.remote = { toid: rm.toid as number, clock: clock as Record<string, number> };
  }
  if (prehost !== undefined || pretoid !== undefined) {
    if (!isInt(prehost, 1) || prehost > 0xffff) bad(what, 'prehost', prehost);
    if (!isInt(pretoid, 1)) bad(what, 'pretoid', pretoid);
    rec.prehost = prehost;
    rec.pretoid = pretoid;
  }
  return rec;
}

/**
 * Decodes an ingest-topic value. A Chariots-written (`"v":1`) value is checked and
 * returned; any other value is a record produced directly by an application and needs
 * `external` to be validated and completed (id, host, receivedAt) — without it, or when
 * the value is not a valid record, the error says why (PoisonMessageError /
 * ValidationError) so the filter can dead-letter it with the reason.
 */
export function decodeIngest(buf: Buffer, external?: ExternalIngestContext): IngestRecord {
  if (isV1(buf)) {
    return checkIngest(parseV1(buf, 'ingest'), 'ingest');
  }
  if (external === undefined) {
    throw new PoisonMessageError(
      'ingest message is not a Chariots v1 record and no external context was given',
    );
  }
  return parseExternalIngest(
    buf,
    external.limits,
    external.now,
    external.newId,
    external.localDcId,
  );
}

/** Decodes a log-topic value written by encodeLog; anything else is a PoisonMessageError. */
export function decodeLog(buf: Buffer): LogRecord {
  if (!isV1(buf)) {
    throw new PoisonMessageError('log message is not a Chariots v1 record');
  }
  const o = parseV1(buf, 'log');
  const rec = checkIngest(o, 'log');
  const { lid, toid, appendedAt } = o;
  if (!isInt(lid, 1)) bad('log', 'lid', lid);
  if (!isInt(toid, 1)) bad('log', 'toid', toid);
  if (!isStr(appendedAt)) bad('log', 'appendedAt', appendedAt);
  // `rec` is fresh: completing it in place costs a third of `{ ...rec, lid, toid, appendedAt }`,
  // which took ~60 % of decodeLog (measured 7–11 µs → see bench/codec-speed.ts); the queue
  // and the maintainer decode every log record.
  const log = rec as LogRecord;
  log.lid = lid;
  log.toid = toid;
  log.appendedAt = appendedAt;
  return log;
}
