import type { IngestRecord } from '../../record';
import { providedBeforeSequencing, type PrereqKey } from './prerequisites';

/**
 * Records this queue released from partition P that the log does not show yet.
 *
 * Why they count as satisfied for later records of the SAME partition: everything P releases
 * goes through P's one transactional producer into the one-partition `released` topic, in
 * order, and a later release is only written after the earlier transaction committed. The
 * sequencer numbers `released` in offset order, so a record released after its prerequisite
 * by the same partition gets the larger LId — without waiting for the log round trip. This
 * turns a chain within a partition from one log round trip per link into one transaction.
 * Records of other partitions (other producers, no order between them) still wait for the log.
 */
export class InFlight {
  private readonly keys = new Map<number, Map<PrereqKey, number>>();
  private readonly byId = new Map<string, { partition: number; keys: PrereqKey[] }>();

  add(partition: number, r: IngestRecord): void {
    if (this.byId.has(r.id)) return;
    const keys = providedBeforeSequencing(r);
    let m = this.keys.get(partition);
    if (!m) this.keys.set(partition, (m = new Map()));
    for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
    this.byId.set(r.id, { partition, keys });
  }

  /** The record reached the log: the log index answers for it from now on. */
  remove(id: string): void {
    const e = this.byId.get(id);
    if (!e) return;
    this.byId.delete(id);
    const m = this.keys.get(e.partition);
    if (!m) return;
    for (const k of e.keys) {
      const n = (m.get(k) ?? 1) - 1;
      if (n <= 0) m.delete(k);
      else m.set(k, n);
    }
  }

  has(partition: number, k: PrereqKey): boolean {
    return this.keys.get(partition)?.has(k) ?? false;
  }

  get size(): number {
    return this.byId.size;
  }
}
