import type { IngestRecord } from '../../record';
import type { DeferredEntry, DeferredSet } from './deferred-set';
import { DigestSet } from '../../digest/digest-set';
import { idDigest } from '../../digest/id-digest';
import { digestKey, KIND_ID, providedDigests } from './key-digest';
import { providedBeforeSequencing, type PrereqKey } from '../../record/prerequisites';

/** Whether a key in digest form (kind, words; key-digest.ts) is satisfied. */
export type SatisfiedDigest = (kind: number, w: Uint32Array) => boolean;

/** Scratch for one key's words (single-threaded; each call finishes with it). */
const w = new Uint32Array(4);

/**
 * The records of one partition released within one transaction, in release order, with
 * what they provide. A deferred record of the same partition whose every missing key is
 * satisfied (by the log, by earlier in-flight releases of the partition, or by a record
 * released earlier in this transaction) is released right after, in the same transaction:
 * a whole chain goes out at once, each link after the one it needs.
 */
export class ReleaseBatch {
  readonly records: IngestRecord[] = [];
  /** values[i]: records[i] as sent to `released`, the bytes it arrived or was deferred with. */
  readonly values: Buffer[] = [];
  /** provides[i]: records[i]'s keys in digest form (providedDigests; hashed once, reused by InFlight). */
  readonly provides: Uint32Array[] = [];
  /** Deferred entries released by this batch (tombstone + removal on commit). */
  readonly woken: DeferredEntry[] = [];
  /** Woken entries only tombstoned because their record is already in the log (see isStale). */
  readonly stale: DeferredEntry[] = [];
  /** What this batch's records provide, per key kind. */
  private readonly provided: DigestSet[];
  private readonly chosen = new Set<string>();

  /** `expected`: how many records the batch will likely release (sizes the key tables). */
  constructor(
    readonly partition: number,
    private readonly deferred: DeferredSet,
    private readonly satisfiedOutside: SatisfiedDigest,
    expected = 8,
  ) {
    // Sized up front: growing from a few slots rehashed every key ~8 times per batch.
    this.provided = [new DigestSet(2 * expected), new DigestSet(8 * expected), new DigestSet(8)];
  }

  satisfied(k: PrereqKey): boolean {
    const kind = digestKey(k, w);
    return kind >= 0 && this.satisfiedDigest(kind, w);
  }

  /** satisfied(`p:${id}`) without building the key. */
  satisfiedId(id: string): boolean {
    idDigest(id, 0, w);
    return this.satisfiedDigest(KIND_ID, w);
  }

  private satisfiedDigest(kind: number, key: Uint32Array): boolean {
    return (
      this.provided[kind].has(key[0], key[1], key[2], key[3]) || this.satisfiedOutside(kind, key)
    );
  }

  /** Prerequisites of `r` not satisfied yet (for a new arrival). */
  missing(keys: PrereqKey[]): PrereqKey[] {
    return keys.filter((k) => !this.satisfied(k));
  }

  /** Releases `r` and, transitively, every deferred record of the partition it unblocks. */
  release(r: IngestRecord, value: Buffer): void {
    const work: Array<[IngestRecord, Buffer]> = [[r, value]];
    while (work.length > 0) {
      const [next, bytes] = work.shift() as [IngestRecord, Buffer];
      this.records.push(next);
      this.values.push(bytes);
      this.chosen.add(next.id);
      const provides = providedDigests(next);
      this.provides.push(provides);
      for (let at = 0; at < provides.length; at += 5) {
        this.provided[provides[at]].add(
          provides[at + 1],
          provides[at + 2],
          provides[at + 3],
          provides[at + 4],
        );
      }
      // Most of the time nobody waits for what it provides: no key strings, no waiter lookups.
      if (!this.deferred.mayWaitForAny(provides)) continue;
      for (const k of providedBeforeSequencing(next)) {
        for (const waiter of this.deferred.waitersIn(k, this.partition)) {
          if (this.chosen.has(waiter.id)) continue;
          if (!waiter.ready((m) => this.satisfied(m))) continue;
          this.chosen.add(waiter.id);
          this.woken.push(waiter);
          if (!this.isStale(waiter)) work.push(waiter.unpack());
        }
      }
    }
  }

  has(id: string): boolean {
    return this.chosen.has(id);
  }

  /**
   * isStale: a deferred entry whose record is already in the log (or was released by this process)
   * is stale: a successor restored it from the changelog without seeing the release that
   * tombstoned it (seen in the chaos runs: 4 456 records released twice). It is only
   * tombstoned, never released again. Ids are unique within the filter's dedup window,
   * and a deferred entry never outlives it, so this cannot drop a different record.
   */
  private isStale(e: DeferredEntry): boolean {
    idDigest(e.id, 0, w);
    if (!this.satisfiedOutside(KIND_ID, w)) return false;
    this.stale.push(e);
    return true;
  }

  /** Releases a woken deferred entry (and its cascade), or only tombstones it when stale. */
  releaseDeferred(e: DeferredEntry): void {
    this.chosen.add(e.id);
    this.woken.push(e);
    if (!this.isStale(e)) this.release(...e.unpack());
  }
}
