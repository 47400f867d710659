import { encodeIngest, type IngestRecord } from '../../record';
import type { DeferredEntry } from './deferred-set';
import type { PrereqKey } from '../../record/prerequisites';

/**
 * Values of the `deferred` changelog and the `deadletter` topic (both compacted, key = id).
 * JSON: every uint64 in `record` is already a decimal string, so JSON.parse is safe.
 *   deferred:   {"deadline":ISO|null,"missing":[PrereqKey…],"record":<ingest value>}
 *   deadletter: {"record":<IngestRecord>,"reason":string,"code":string,"missing":[…],"deadAt":ISO}
 * A deferred value embeds the record's ingest value byte for byte (with its "v":1), last:
 * a restore takes the exact bytes to release without re-encoding, and readers that parse
 * the whole JSON (older queues, the batcher's GET /deferred) see the same record.
 * Older queues wrote {"record":<IngestRecord>,"deadline":…,"missing":…}: still read.
 */
/**
 * Key of the `deferred` changelog entry that holds the last input offset the partition's
 * queue committed (value: the offset, decimal). Record ids never contain control
 * characters, so this key is never an id; readers of the changelog skip it.
 */
export const INPUT_OFFSET_KEY = '\u0001input-offset';

// Inside a JSON string a quote is always escaped, and the record comes last: so the first
// `,"record":` is the key.
const RECORD_KEY = Buffer.from(',"record":');
const OLD_PREFIX = Buffer.from('{"record":');
const CLOSE = Buffer.from('}');

export function deferredValue(
  value: Buffer,
  deadline: number | null,
  missing: readonly PrereqKey[],
): Buffer {
  const head = JSON.stringify({
    deadline: deadline === null ? null : new Date(deadline).toISOString(),
    missing,
  });
  return Buffer.concat([Buffer.from(head.slice(0, -1)), RECORD_KEY, value, CLOSE]);
}

export interface DeferredValue {
  /**
   * Parsed, not validated (as before): the queue wrote it from a decoded record, and a
   * takeover is on the critical path of failover (validation costs half a parse again).
   */
  record: IngestRecord;
  /** The record's ingest value, as `released` gets it. */
  value: Buffer;
  deadline: number | null;
}

export function parseDeferredValue(buf: Buffer): DeferredValue {
  const o = JSON.parse(buf.toString('utf8')) as { record: IngestRecord; deadline: string | null };
  const deadline = o.deadline === null ? null : Date.parse(o.deadline);
  if (buf.subarray(0, OLD_PREFIX.length).equals(OLD_PREFIX))
    return { record: o.record, value: encodeIngest(o.record), deadline };
  const at = buf.indexOf(RECORD_KEY);
  if (at < 0 || buf[buf.length - 1] !== CLOSE[0])
    throw new Error('undecodable deferred changelog value');
  return {
    record: o.record,
    value: buf.subarray(at + RECORD_KEY.length, buf.length - 1),
    deadline,
  };
}

export function deadLetterValue(e: DeferredEntry, timeoutMs: number, deadAt: string): string {
  const missing = [...e.missing];
  return JSON.stringify({
    record: e.record(),
    reason: `prerequisites not in the log after ${timeoutMs} ms: ${missing.map(describeKey).join(', ')}`,
    code: 'CHARIOTS_ERR_DEFERRAL_TIMEOUT',
    missing,
    deadAt,
  });
}

export function describeKey(k: PrereqKey): string {
  const [kind, a, b] = k.split(':');
  if (kind === 'h') return `prehash ${b} (seed ${a})`;
  if (kind === 'p') return `parent ${k.slice(2)}`;
  return `TOId ${b} of datacenter ${a}`;
}
