import { decodeIngest, encodeIngest, type IngestRecord } from '../../record';

/**
 * Values of the queue's `deferred` changelog and of the `deadletter` topic (both keyed by
 * record id), as listed by GET /deferred and GET /deadletter:
 *   deferred:   {"record":<IngestRecord>,"deadline":ISO|null,"missing":[…]}
 *   deadletter: {"record":<IngestRecord>,"reason","code","missing":[…],"deadAt":ISO}
 * The filter dead-letters messages that never were a valid record with `raw` instead of
 * `record`; those are listed with record null (and cannot be re-driven).
 */

export interface DeferredEntry {
  id: string;
  /** Public JSON as is: uint64s are already decimal strings. */
  record: IngestRecord | null;
  missing: string[];
  deadline: string | null;
}

export interface DeadLetterEntry {
  id: string;
  /** Public JSON as is: uint64s are already decimal strings. */
  record: IngestRecord | null;
  reason: string;
  code: string;
  missing: string[];
  deadAt: string | null;
  /** The undecodable original (filter dead letters only), truncated. */
  raw?: string;
}

/**
 * A stored record, checked by the ingest codec (so a re-drive writes exactly what the
 * filter would have), in the codec's field order; undefined when it is not a record.
 */
export function checkedRecord(v: unknown): IngestRecord | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  try {
    return decodeIngest(encodeIngest(v as IngestRecord));
  } catch {
    return undefined;
  }
}

function parseObject(value: Buffer): Record<string, unknown> | undefined {
  try {
    // Internal topics hold no number above 2^53 (uint64s are strings): JSON.parse is exact.
    const v: unknown = JSON.parse(value.toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
const strOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export function parseDeferredEntry(id: string, value: Buffer): DeferredEntry {
  const o = parseObject(value) ?? {};
  return {
    id,
    record: checkedRecord(o.record) ?? null,
    missing: strings(o.missing),
    deadline: strOrNull(o.deadline),
  };
}

export function parseDeadLetterEntry(id: string, value: Buffer): DeadLetterEntry {
  const o = parseObject(value);
  if (!o)
    return {
      id,
      record: null,
      reason: 'undecodable dead-letter value',
      code: 'CHARIOTS_ERR_POISON_MESSAGE',
      missing: [],
      deadAt: null,
    };
  const entry: DeadLetterEntry = {
    id,
    record: checkedRecord(o.record) ?? null,
    reason: typeof o.reason === 'string' ? o.reason : '',
    code: typeof o.code === 'string' ? o.code : '',
    missing: strings(o.missing),
    deadAt: strOrNull(o.deadAt),
  };
  if (typeof o.raw === 'string') entry.raw = o.raw;
  return entry;
}
