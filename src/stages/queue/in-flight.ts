import { DigestMap } from '../../digest/digest-map';
import { idDigest } from '../../digest/id-digest';
import { digestKey, KIND_ID } from './key-digest';
import type { PrereqKey } from '../../record/prerequisites';

/** Scratch for one key's words (single-threaded; each call finishes with it). */
const w = new Uint32Array(4);

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
 * Layout (this runs for every key of every record, and the log may lag by many batches):
 * each release gets a number; per key kind, a DigestMap (key-digest.ts) maps the key to the
 * LATEST release that provides it; `state[release]` is -1 once the log shows the record.
 * So the log catching up costs one lookup per record, not per key. has(k) may answer false
 * while an earlier release providing k is unlogged — but only when the latest provider is
 * logged, i.e. when the log index holds k. The queue asks `index OR in flight` (or in
 * flight only for keys the index lacks), so every answer it gets is the one per-key counts
 * gave (in-flight.test.ts checks this against such a model). Logged releases are swept out
 * in bulk, and the live ones renumbered, once they outnumber the live ones.
 */
export class InFlight {
  private readonly tables = [new DigestMap(1024), new DigestMap(1024), new DigestMap(16)];
  /** Per release number: -1 once logged, else how many keys it provides. */
  private state = new Int32Array(1024);
  private next = 0;
  private live = 0;
  private liveKeys = 0;

  /** `sweepSlack`: a sweep runs once dead entries exceed the live ones by this many. */
  constructor(private readonly sweepSlack = 4096) {}

  /**
   * Adds a released record by what it provides (key-digest.ts providedDigests: five words a
   * key, the id first). False when the record is in flight already.
   */
  add(provides: Uint32Array): boolean {
    const ids = this.tables[KIND_ID];
    const seq = ids.get(provides[1], provides[2], provides[3], provides[4]);
    if (seq >= 0 && this.state[seq] >= 0) return false;
    const keys = provides.length / 5;
    if (this.next === this.state.length) {
      const grown = new Int32Array(this.state.length * 2);
      grown.set(this.state);
      this.state = grown;
    }
    const rel = this.next++;
    this.state[rel] = keys;
    this.live++;
    this.liveKeys += keys;
    for (let at = 0; at < provides.length; at += 5) {
      this.tables[provides[at]].set(
        provides[at + 1],
        provides[at + 2],
        provides[at + 3],
        provides[at + 4],
        rel,
      );
    }
    if (
      this.next > 2 * this.live + this.sweepSlack ||
      this.keyEntries > 2 * this.liveKeys + this.sweepSlack
    )
      this.sweep();
    return true;
  }

  /** The record reached the log: the log index answers for it from now on (not ours: no-op). */
  remove(id: string): void {
    idDigest(id, 0, w);
    const rel = this.tables[KIND_ID].get(w[0], w[1], w[2], w[3]);
    if (rel < 0 || this.state[rel] < 0) return;
    this.liveKeys -= this.state[rel];
    this.live--;
    this.state[rel] = -1;
  }

  has(k: PrereqKey): boolean {
    const kind = digestKey(k, w);
    return kind >= 0 && this.hasDigest(kind, w);
  }

  /** has() of a key in digest form (key-digest.ts). */
  hasDigest(kind: number, key: Uint32Array): boolean {
    const rel = this.tables[kind].get(key[0], key[1], key[2], key[3]);
    return rel >= 0 && this.state[rel] >= 0;
  }

  get size(): number {
    return this.live;
  }

  /** Entries held in the key tables (live and not yet swept). */
  get keyEntries(): number {
    return this.tables[0].size + this.tables[1].size + this.tables[2].size;
  }

  /** Drops keys of logged releases and renumbers the live releases 0, 1, …. */
  private sweep(): void {
    const remap = new Int32Array(this.next);
    let n = 0;
    for (let rel = 0; rel < this.next; rel++) remap[rel] = this.state[rel] >= 0 ? n++ : -1;
    const state = new Int32Array(Math.max(1024, 2 * n));
    for (let rel = 0; rel < this.next; rel++)
      if (remap[rel] >= 0) state[remap[rel]] = this.state[rel];
    for (const t of this.tables) t.retain((rel) => remap[rel]);
    this.state = state;
    this.next = n;
  }
}
