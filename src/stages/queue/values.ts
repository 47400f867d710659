import type { IngestRecord } from '../../record';
import type { DeferredEntry } from './deferred-set';
import type { PrereqKey } from './prerequisites';

/**
 * Values of the `deferred` changelog and the `deadletter` topic (both compacted, key = id).
 * JSON: every uint64 in `record` is already a decimal string, so JSON.parse is safe.
 *   deferred:   {"record":<IngestRecord>,"deadline":ISO|null,"missing":[PrereqKey…]}
 *   deadletter: {"record":<IngestRecord>,"reason":string,"code":string,"missing":[…],"deadAt":ISO}
 */
/**
 * Key of the `deferred` changelog entry that holds the last input offset the partition's
 * queue committed (value: the offset, decimal). Record ids never contain control
 * characters, so this key is never an id; readers of the changelog skip it.
 */
export const INPUT_OFFSET_KEY = '\u0001input-offset';

export function deferredValue(
  record: IngestRecord,
  deadline: number | null,
  missing: PrereqKey[],
): string {
  return JSON.stringify({
    record,
    deadline: deadline === null ? null : new Date(deadline).toISOString(),
    missing,
  });
}

export function parseDeferredValue(buf: Buffer): { record: IngestRecord; deadline: number | null } {
  const o = JSON.parse(buf.toString('utf8')) as { record: IngestRecord; deadline: string | null };
  return { record: o.record, deadline: o.deadline === null ? null : Date.parse(o.deadline) };
}

export function deadLetterValue(e: DeferredEntry, timeoutMs: number, deadAt: string): string {
  const missing = [...e.missing];
  return JSON.stringify({
    record: e.record,
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
