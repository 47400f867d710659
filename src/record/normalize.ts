import { ValidationError } from '../errors';
import { isJsonObject } from './json';
import { checkId, readInt, readParents, readTags, readUint64List, refuse } from './fields';
import { goFields } from './goKeys';
import type { RecordInput, RecordLimits, Uint64String } from './types';
import { parseUint64, showValue } from './uint64';

/**
 * One validation path for every way a record comes in. `http`/`kafka` read the §1 field
 * names (exact, lower case); `tcp` reads GoChariots' Go struct (§3.2) with Go's
 * case-insensitive key matching. Unknown fields are ignored (GoChariots sent `trace`).
 * Input values come from json.ts (numbers as LosslessNumber); code-built objects with
 * safe JS integers, bigints and strings are accepted too.
 */

export type RecordForm = 'http' | 'kafka' | 'tcp';

const MAX_HOST = 0xffff;
const MAX_TOID = Number.MAX_SAFE_INTEGER;

/** The fields both forms feed into, before the cross-field rules. */
interface Raw {
  id?: unknown;
  host?: unknown;
  seeds: Array<[field: string, value: unknown]>;
  hashes: Array<[field: string, value: unknown]>;
  parent?: unknown;
  prehost?: unknown;
  pretoid?: unknown;
  tags?: unknown;
  names: {
    id: string;
    host: string;
    parent: string;
    prehost: string;
    pretoid: string;
    tags: string;
  };
}

function fromSpecFields(o: Record<string, unknown>): Raw {
  const get = (k: string): unknown => (Object.hasOwn(o, k) ? o[k] : undefined);
  return {
    id: get('id'),
    host: get('host'),
    seeds: [
      ['seed', get('seed')],
      ['strseed', get('strseed')],
    ],
    hashes: [
      ['prehash', get('prehash')],
      ['strhash', get('strhash')],
    ],
    parent: get('parent'),
    prehost: get('prehost'),
    pretoid: get('pretoid'),
    tags: get('tags'),
    names: {
      id: 'id',
      host: 'host',
      parent: 'parent',
      prehost: 'prehost',
      pretoid: 'pretoid',
      tags: 'tags',
    },
  };
}

const GO_RECORD = ['Id', 'Host', 'Tags', 'Pre', 'Seed', 'Parent', 'LId', 'Timestamp'] as const;
const GO_PRE = ['Hash', 'Host', 'TOId'] as const;

/** Go's Record: Pre.Hash (hash mode) or Pre.Host/Pre.TOId (TOId mode); LId/Timestamp ignored. */
function fromGoFields(o: Record<string, unknown>): Raw {
  const f = goFields(o, GO_RECORD);
  let pre: Partial<Record<(typeof GO_PRE)[number], unknown>> = {};
  if (f.Pre !== undefined && f.Pre !== null) {
    if (!isJsonObject(f.Pre))
      refuse('CHARIOTS_ERR_BAD_RECORD', 'Pre', `must be an object; got ${showValue(f.Pre)}`, f.Pre);
    pre = goFields(f.Pre, GO_PRE);
  }
  return {
    id: f.Id,
    host: f.Host,
    seeds: [['Seed', f.Seed]],
    hashes: [['Pre.Hash', pre.Hash]],
    parent: f.Parent,
    prehost: pre.Host,
    pretoid: pre.TOId,
    tags: f.Tags,
    names: {
      id: 'Id',
      host: 'Host',
      parent: 'Parent',
      prehost: 'Pre.Host',
      pretoid: 'Pre.TOId',
      tags: 'Tags',
    },
  };
}

/** `seed` and `strseed` mean the same; when both are given they must agree. */
function readSeed(seeds: Raw['seeds']): Uint64String {
  let seed: Uint64String | undefined;
  let from = '';
  for (const [field, value] of seeds) {
    if (value === undefined || value === null) continue;
    const s = parseUint64(value, field, 'CHARIOTS_ERR_BAD_SEED');
    if (seed !== undefined && s !== seed) {
      refuse(
        'CHARIOTS_ERR_BAD_SEED',
        field,
        `${s} contradicts ${from} ${seed}; send one of them`,
        value,
      );
    }
    seed = s;
    from = field;
  }
  return seed ?? '0';
}

/**
 * prehost/pretoid name one prerequisite together. TOIds start at 1, so pretoid 0 (what
 * GoChariots' TOId variant sent when there was none) means no prerequisite, as does
 * prehost 0 without a pretoid. A pretoid ≥ 1 needs a prehost ≥ 1 (datacenter ids start at 1).
 */
function readOrigin(raw: Raw): { prehost?: number; pretoid?: number } {
  const given = (v: unknown): boolean => v !== undefined && v !== null;
  const host = given(raw.prehost)
    ? readInt(raw.prehost, raw.names.prehost, 'CHARIOTS_ERR_BAD_HOST', 0, MAX_HOST)
    : undefined;
  const toid = given(raw.pretoid)
    ? readInt(raw.pretoid, raw.names.pretoid, 'CHARIOTS_ERR_BAD_RECORD', 0, MAX_TOID)
    : undefined;
  if (toid === undefined || toid === 0) {
    if (host !== undefined && host !== 0 && toid === undefined) {
      refuse(
        'CHARIOTS_ERR_BAD_RECORD',
        raw.names.pretoid,
        `is missing; ${raw.names.prehost} ${host} needs it`,
      );
    }
    return {};
  }
  if (host === undefined || host === 0) {
    refuse(
      'CHARIOTS_ERR_BAD_RECORD',
      raw.names.prehost,
      `must be ≥ 1 when ${raw.names.pretoid} is set (datacenter ids start at 1)`,
    );
  }
  return { prehost: host, pretoid: toid };
}

function buildRecord(raw: Raw, limits: RecordLimits): RecordInput {
  const rec: RecordInput = { host: 0, seed: '0', prehash: [], parent: [], tags: {} };
  // An empty id gets a generated one, as GoChariots' HEAD did.
  if (raw.id !== undefined && raw.id !== null && raw.id !== '') {
    rec.id = checkId(raw.id, raw.names.id, 'CHARIOTS_ERR_BAD_ID', limits.maxIdLength);
  }
  if (raw.host !== undefined && raw.host !== null) {
    rec.host = readInt(raw.host, raw.names.host, 'CHARIOTS_ERR_BAD_HOST', 0, MAX_HOST);
  }
  rec.tags = readTags(raw.tags, raw.names.tags, limits);
  rec.seed = readSeed(raw.seeds);
  const hashes = new Set<Uint64String>();
  for (const [field, value] of raw.hashes)
    readUint64List(value, field, 'CHARIOTS_ERR_BAD_HASH', hashes);
  rec.prehash = [...hashes];
  const parents = new Set<string>();
  readParents(raw.parent, raw.names.parent, limits.maxIdLength, parents);
  rec.parent = [...parents];
  const origin = readOrigin(raw);
  if (origin.pretoid !== undefined) {
    rec.prehost = origin.prehost;
    rec.pretoid = origin.pretoid;
  }
  const prereqs = rec.prehash.length + rec.parent.length + (rec.pretoid === undefined ? 0 : 1);
  if (prereqs > limits.maxPrerequisites) {
    throw new ValidationError(
      'CHARIOTS_ERR_TOO_MANY_PREREQUISITES',
      `record has ${prereqs} prerequisites (prehash + parent + prehost/pretoid); the limit is ${limits.maxPrerequisites}`,
      { details: { count: prereqs, limit: limits.maxPrerequisites } },
    );
  }
  return rec;
}

/** Size of the record as it is stored: its canonical JSON in UTF-8. */
export function recordByteSize(rec: RecordInput): number {
  return Buffer.byteLength(JSON.stringify(rec), 'utf8');
}

/**
 * An upper bound of recordByteSize without building the JSON (that was ~0.6 µs a record, and
 * the record is stringified once more when encoded): JSON spells a UTF-16 unit in at most 6
 * bytes (`\u0001`), each string adds at most 4 of quotes, colon and comma, and the field
 * names, brackets and the three integers (≤ 16 digits each) stay under 200.
 */
export function recordByteBound(rec: RecordInput): number {
  let units = (rec.id?.length ?? 0) + rec.seed.length;
  let strings = 2;
  for (const h of rec.prehash) units += h.length;
  for (const p of rec.parent) units += p.length;
  strings += rec.prehash.length + rec.parent.length;
  for (const k in rec.tags) {
    units += k.length + rec.tags[k].length;
    strings += 2;
  }
  return 6 * units + 4 * strings + 200;
}

/** Validates and normalizes one decoded record of the given input form (see above). */
export function normalizeRecord(
  input: unknown,
  form: RecordForm,
  limits: RecordLimits,
): RecordInput {
  if (!isJsonObject(input)) {
    throw new ValidationError(
      'CHARIOTS_ERR_BAD_RECORD',
      `a record must be a JSON object; got ${showValue(input)}`,
      {
        details: { form },
      },
    );
  }
  const rec = buildRecord(form === 'tcp' ? fromGoFields(input) : fromSpecFields(input), limits);
  const size = recordByteBound(rec) > limits.maxRecordBytes ? recordByteSize(rec) : 0;
  if (size > limits.maxRecordBytes) {
    throw new ValidationError(
      'CHARIOTS_ERR_RECORD_TOO_LARGE',
      `record is ${size} bytes as JSON; the limit is ${limits.maxRecordBytes}`,
      { details: { size, limit: limits.maxRecordBytes } },
    );
  }
  return rec;
}
