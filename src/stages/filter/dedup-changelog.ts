import type { OutMessage } from '../../kafka';
import type { DedupWindow } from './dedup-window';

/**
 * The `dedup` changelog: what the filter of one ingest partition admitted, written in the
 * same transaction as the admitted records and the input offset.
 *
 * One message per transaction (not per id: an extra Kafka message per record was a large
 * share of the filter's produce cost), value
 *   {"t":<first-seen ms>,"ids":["<id>",…]}
 * key `<partition>:<last input offset>` (unique, so the topic is delete-only: entries
 * expire by retention, and restore drops what is older than the window anyway).
 * Chunks of IDS_PER_MESSAGE ids keep each message far below the broker's 1 MB limit
 * (ids are at most 128 characters).
 *
 * Restore still reads the earlier format (key = id, value = ms, null = forget) so a
 * topic written by an older filter keeps deduplicating after an upgrade.
 */
export const IDS_PER_MESSAGE = 2000;

export function dedupMessages(
  topic: string,
  partition: number,
  lastOffset: string,
  ids: string[],
  atMs: number,
): OutMessage[] {
  const out: OutMessage[] = [];
  // At least one message, with no ids if none were admitted: its key records the input
  // offset, which a takeover resumes after (dedupInputOffset).
  for (let i = 0; i === 0 || i < ids.length; i += IDS_PER_MESSAGE) {
    out.push({
      topic,
      partition,
      key: `${partition}:${lastOffset}:${i / IDS_PER_MESSAGE}`,
      value: JSON.stringify({ t: atMs, ids: ids.slice(i, i + IDS_PER_MESSAGE) }),
    });
  }
  return out;
}

const OFFSET_KEY = /^(\d+):(\d+):\d+$/;

/**
 * The input offset a changelog message of `partition` records (its key
 * `<partition>:<last input offset>:<chunk>`), or undefined for a message of the earlier
 * format (key = an id, which could look the same: the value tells them apart).
 */
export function dedupInputOffset(
  partition: number,
  key: Buffer | null,
  value: Buffer | null,
): bigint | undefined {
  if (key === null || value === null || value[0] !== 0x7b /* '{' */) return undefined;
  const m = OFFSET_KEY.exec(key.toString());
  return m && Number(m[1]) === partition ? BigInt(m[2]) : undefined;
}

/** Applies one changelog message (either format) to the window; ignores what it cannot read. */
export function applyDedupMessage(w: DedupWindow, key: Buffer | null, value: Buffer | null): void {
  if (value === null) {
    if (key) w.delete(key.toString());
    return;
  }
  if (value[0] === 0x7b /* '{' */) {
    let v: { t?: unknown; ids?: unknown };
    try {
      v = JSON.parse(value.toString()) as typeof v;
    } catch {
      return;
    }
    if (typeof v.t !== 'number' || !Array.isArray(v.ids)) return;
    for (const id of v.ids) if (typeof id === 'string') w.add(id, v.t);
    return;
  }
  if (key) w.add(key.toString(), Number(value.toString()));
}
