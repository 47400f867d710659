import { ChariotsError } from '../../errors';
import type { LogRecord } from '../../record';

export type ReplayFrom =
  { kind: 'lid'; lid: number } | { kind: 'offset'; offset: string } | { kind: 'time'; ms: number };

/** Parses exactly one of --from-lid N, --from-offset P:O (P must be 0), --from-time ISO. */
export function parseReplayFrom(opts: Record<string, unknown>): ReplayFrom {
  const given = ['fromLid', 'fromOffset', 'fromTime'].filter((k) => opts[k] !== undefined);
  if (given.length > 1)
    throw new ChariotsError(
      'CHARIOTS_ERR_BAD_QUERY',
      'give one of --from-lid, --from-offset, --from-time',
    );
  const bad = (msg: string) => new ChariotsError('CHARIOTS_ERR_BAD_QUERY', msg);
  if (opts.fromOffset !== undefined) {
    const m = /^(\d+):(\d+)$/.exec(String(opts.fromOffset));
    if (!m) throw bad('--from-offset must be PARTITION:OFFSET, e.g. 0:1234');
    if (m[1] !== '0') throw bad('the log topic has one partition: use 0:OFFSET');
    return { kind: 'offset', offset: String(BigInt(m[2])) };
  }
  if (opts.fromTime !== undefined) {
    const ms = Date.parse(String(opts.fromTime));
    if (Number.isNaN(ms)) throw bad('--from-time must be an ISO-8601 time');
    return { kind: 'time', ms };
  }
  const s = opts.fromLid === undefined ? '1' : String(opts.fromLid);
  const lid = /^\d{1,16}$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(lid) || lid < 1) throw bad('--from-lid must be an LId ≥ 1');
  return { kind: 'lid', lid };
}

/**
 * Whether replay has reached its start: from an LId, the records with that LId and after;
 * from a time, everything from the first record appended at or after it (appendedAt comes
 * from the sequencer's clock, so later records are all kept even if a clock stepped back).
 */
export function replayGate(from: ReplayFrom): (r: LogRecord) => boolean {
  if (from.kind === 'offset') return () => true;
  if (from.kind === 'lid') return (r) => r.lid >= from.lid;
  let open = false;
  return (r) => (open ||= Date.parse(r.appendedAt) >= from.ms);
}
