import type { IngestRecord } from '../../record';
import type { DeferredEntry, DeferredSet } from './deferred-set';
import { providedBeforeSequencing, type PrereqKey } from './prerequisites';

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
  /** provides[i]: records[i]'s providedBeforeSequencing keys (hashed once, reused by InFlight). */
  readonly provides: PrereqKey[][] = [];
  /** Deferred entries released by this batch (tombstone + removal on commit). */
  readonly woken: DeferredEntry[] = [];
  /** Woken entries only tombstoned because their record is already in the log (see isStale). */
  readonly stale: DeferredEntry[] = [];
  private readonly provided = new Set<PrereqKey>();
  private readonly chosen = new Set<string>();

  constructor(
    readonly partition: number,
    private readonly deferred: DeferredSet,
    private readonly satisfiedOutside: (k: PrereqKey) => boolean,
  ) {}

  satisfied(k: PrereqKey): boolean {
    return this.provided.has(k) || this.satisfiedOutside(k);
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
      const provides = providedBeforeSequencing(next);
      this.provides.push(provides);
      // Most of the time nothing is deferred: no waiter lookups (and their arrays) per key.
      const anyWaiting = this.deferred.waitingKeys > 0;
      for (const k of provides) {
        this.provided.add(k);
        if (!anyWaiting) continue;
        for (const w of this.deferred.waitersIn(k, this.partition)) {
          if (this.chosen.has(w.id)) continue;
          if (!w.ready((m) => this.satisfied(m))) continue;
          this.chosen.add(w.id);
          this.woken.push(w);
          if (!this.isStale(w)) work.push(w.unpack());
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
    if (!this.satisfiedOutside(`p:${e.id}`)) return false;
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
