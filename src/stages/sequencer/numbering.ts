import type { IngestRecord, LogRecord } from '../../record';

/** Per-origin highest TOId in the log: the log's vector clock at its tail. */
export type VectorClock = Record<string, number>;

export interface NumberingState {
  lastLid: number;
  clock: VectorClock;
}

/**
 * Gives each released record the next LId, and a TOId: local records (host = this dc) take
 * the next local TOId; records from another origin keep the TOId their origin gave them.
 * A replicated record whose TOId the log already holds is dropped (see below), and so is a
 * record whose id the log holds (`appended`) or that came earlier in the same batch.
 * Returns the records and the state after them, and changes no state: the caller adopts the
 * new state only once the transaction that writes the records has committed. The records
 * are completed into LogRecords IN PLACE (they are the caller's fresh decodes, used once: a
 * copy per record was a measurable share of the sequencer's time, like decodeLog's was).
 */
export function numberRecords(
  state: NumberingState,
  records: IngestRecord[],
  dcId: number,
  appendedAt: string,
  /** True for an id the log already holds (see recent-ids.ts): such a copy is dropped. */
  appended: (id: string) => boolean = () => false,
): {
  out: Array<{ record: LogRecord; clock: string }>;
  next: NumberingState;
  duplicates: IngestRecord[];
} {
  let lastLid = state.lastLid;
  const clock: VectorClock = { ...state.clock };
  const out: Array<{ record: LogRecord; clock: string }> = [];
  const duplicates: IngestRecord[] = [];
  const inBatch = new Set<string>();
  const clockText = new ClockText();
  for (const r of records) {
    if (appended(r.id) || inBatch.has(r.id)) {
      duplicates.push(r);
      continue;
    }
    inBatch.add(r.id);
    const origin = String(r.host);
    // The log already holds this TOId of that origin: a second copy of a replicated record
    // that travelled another way (another ingest partition, so another dedup window and
    // another queue partition). Only this single writer sees every copy, so it drops it.
    if (r.remote && r.remote.toid <= (clock[origin] ?? 0)) continue;
    let toid: number;
    // A replicated record keeps the TOId its origin gave it; a local one takes the next.
    if (r.host !== dcId && r.remote) toid = r.remote.toid;
    else toid = (clock[origin] ?? 0) + 1;
    clock[origin] = Math.max(clock[origin] ?? 0, toid);
    lastLid += 1;
    // The clock AFTER this record travels with it (header `vc`): the log's state at its LId.
    const record = r as LogRecord;
    record.lid = lastLid;
    record.toid = toid;
    record.appendedAt = appendedAt;
    out.push({ record, clock: clockText.after(clock, origin) });
  }
  return { out, next: { lastLid, clock }, duplicates };
}

/**
 * JSON.stringify(clock) right after clock[origin] changed, without stringifying the whole
 * clock for every record (it was ~160 ns a record in the sequencer): a run of records from
 * one origin, the usual batch, changes only that origin's value, so the text around it is
 * kept from the first record of the run and the value spliced in. Any other origin starts a
 * new run (it may have added a key or changed another value). The clock's keys are origins'
 * decimal numbers and its values safe integers, so `"<origin>":` occurs once in the text and
 * the value ends at the next `,` or `}`.
 */
class ClockText {
  private origin: string | undefined;
  private before = '';
  private afterValue = '';

  after(clock: VectorClock, origin: string): string {
    if (origin !== this.origin) {
      const text = JSON.stringify(clock);
      const at = text.indexOf(`"${origin}":`) + origin.length + 3;
      let end = at;
      while (end < text.length && text[end] !== ',' && text[end] !== '}') end++;
      this.origin = origin;
      this.before = text.slice(0, at);
      this.afterValue = text.slice(end);
      return text;
    }
    return this.before + clock[origin] + this.afterValue;
  }
}
