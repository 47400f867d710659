import type { IngestRecord } from '../../record';
import { providedBeforeSequencing, type PrereqKey } from './prerequisites';

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
 */
export class InFlight {
  private readonly keys = new Map<PrereqKey, number>();
  private readonly byId = new Map<string, PrereqKey[]>();

  /** `provides`: r's providedBeforeSequencing keys when the caller has them already. */
  add(r: IngestRecord, provides?: PrereqKey[]): PrereqKey[] {
    if (this.byId.has(r.id)) return [];
    const keys = provides ?? providedBeforeSequencing(r);
    for (const k of keys) this.keys.set(k, (this.keys.get(k) ?? 0) + 1);
    this.byId.set(r.id, keys);
    return keys;
  }

  /** The record reached the log: the log index answers for it from now on (not ours: no-op). */
  remove(id: string): void {
    const keys = this.byId.get(id);
    if (!keys) return;
    this.byId.delete(id);
    for (const k of keys) {
      const n = (this.keys.get(k) ?? 1) - 1;
      if (n <= 0) this.keys.delete(k);
      else this.keys.set(k, n);
    }
  }

  has(k: PrereqKey): boolean {
    return this.keys.has(k);
  }

  get size(): number {
    return this.byId.size;
  }
}
