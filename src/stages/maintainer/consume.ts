import { ChariotsError } from '../../errors';
import type { AppendEntry } from '../../flstore';
import type { InMessage } from '../../kafka';
import { decodeLog } from '../../record';

export type BatchPlan =
  | { ok: true; entries: AppendEntry[]; skipped: number }
  | { ok: false; entries: AppendEntry[]; error: ChariotsError };

/**
 * What to store of a fetched batch of log messages, given the store's last LId. Records at
 * or below it are skipped (a restart or a re-delivered batch writes nothing twice); the
 * rest must continue densely. A gap or an undecodable message ends the plan with an error
 * and the entries before it (which are still valid to store).
 */
export function planBatch(lastLid: number, messages: readonly InMessage[]): BatchPlan {
  const entries: AppendEntry[] = [];
  let skipped = 0;
  for (const m of messages) {
    if (!m.value) continue;
    let record;
    try {
      record = decodeLog(m.value);
    } catch (e) {
      const error = new ChariotsError(
        'CHARIOTS_ERR_POISON_MESSAGE',
        `undecodable log message at offset ${m.offset}`,
        { cause: e, details: { offset: m.offset } },
      );
      return { ok: false, entries, error };
    }
    const expected = lastLid + entries.length + 1;
    if (record.lid < expected) {
      skipped++;
      continue;
    }
    if (record.lid > expected) {
      const error = new ChariotsError(
        'CHARIOTS_ERR_LOG_GAP',
        `the log topic skips from LId ${expected - 1} to ${record.lid} at offset ${m.offset}`,
        { details: { expected, got: record.lid, offset: m.offset } },
      );
      return { ok: false, entries, error };
    }
    entries.push({ record, value: m.value, offset: m.offset });
  }
  return { ok: true, entries, skipped };
}
