import type { IngestRecord } from '../../record';
import { providedBeforeSequencing, type PrereqKey } from './prerequisites';

/** One release of a record by this process; `logged` once the log shows the record. */
interface Release {
  logged: boolean;
  /** How many keys it added (repeats included). */
  keys: number;
}

/**
 * Records this queue process released that the log does not show yet.
 *
 * Why they count as satisfied: a release is written to the one-partition `released` topic
 * inside a transaction, and this process decides a later release only after that
 * transaction committed, so the later record lands at a larger offset. The sequencer numbers
 * `released` in offset order, so it gets the larger LId — without waiting for the log round
 * trip. (Another queue process does not know these releases and waits for the log: correct,
 * only slower.) This turns a chain from one log round trip per link into one transaction
 * per link (or one for a whole chain within a partition, see cascade.ts).
 *
 * Each key maps to the LATEST release that provides it, and a release reaching the log only
 * flips its flag: no per-key work when the log catches up (that was ~half of this class's
 * cost with per-key counts). has(k) may then answer false while an earlier release providing
 * k is still unlogged — but only when the latest provider is logged, i.e. when the log index
 * holds k. The queue asks `index.has(k) || inFlight.has(k)` (or asks InFlight only for keys
 * the index lacks), so every answer it gets is the same as with counts
 * (in-flight.test.ts checks this against a counting model). Keys of logged releases
 * are swept out in bulk once they outnumber the live ones.
 */
export class InFlight {
  private readonly keys = new Map<PrereqKey, Release>();
  private readonly byId = new Map<string, Release>();
  /** Keys added by releases not yet logged (with repeats): what a sweep would keep at most. */
  private liveKeys = 0;

  /** `sweepSlack`: a sweep runs once the key map holds this many entries more than twice the live keys. */
  constructor(private readonly sweepSlack = 4096) {}

  /**
   * `provides`: r's providedBeforeSequencing keys when the caller has them already. Returns
   * the keys added ([] when r is in flight already).
   */
  add(r: IngestRecord, provides?: PrereqKey[]): PrereqKey[] {
    if (this.byId.has(r.id)) return [];
    const keys = provides ?? providedBeforeSequencing(r);
    const rel: Release = { logged: false, keys: keys.length };
    for (const k of keys) this.keys.set(k, rel);
    this.byId.set(r.id, rel);
    this.liveKeys += keys.length;
    if (this.keys.size > 2 * this.liveKeys + this.sweepSlack) this.sweep();
    return keys;
  }

  /** The record reached the log: the log index answers for it from now on (not ours: no-op). */
  remove(id: string): void {
    const rel = this.byId.get(id);
    if (!rel) return;
    this.byId.delete(id);
    rel.logged = true;
    this.liveKeys -= rel.keys;
  }

  has(k: PrereqKey): boolean {
    const rel = this.keys.get(k);
    return rel !== undefined && !rel.logged;
  }

  get size(): number {
    return this.byId.size;
  }

  /** Entries held in the key map (live and not yet swept), for tests. */
  get keyEntries(): number {
    return this.keys.size;
  }

  private sweep(): void {
    for (const [k, rel] of this.keys) if (rel.logged) this.keys.delete(k);
  }
}
