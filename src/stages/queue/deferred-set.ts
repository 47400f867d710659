import type { IngestRecord } from '../../record';
import type { PrereqKey } from './prerequisites';

export interface DeferredEntry {
  record: IngestRecord;
  partition: number;
  missing: Set<PrereqKey>;
  /** ms since epoch, or null = wait forever. */
  deadline: number | null;
  /** A release or dead-letter transaction is under way: don't start another. */
  busy: boolean;
}

/**
 * Records waiting for prerequisites, indexed by what they wait for, so that a newly appended
 * record wakes exactly the records that wait for it: the cost of an append is proportional
 * to its waiters, never to the number of deferred records (guarantee 5).
 */
export class DeferredSet {
  /** Insertion order = deadline order (one timeout for all), so expiry scans from the front. */
  private readonly entries = new Map<string, DeferredEntry>();
  private readonly waiting = new Map<PrereqKey, Set<string>>();

  get size(): number {
    return this.entries.size;
  }

  get(id: string): DeferredEntry | undefined {
    return this.entries.get(id);
  }

  values(): IterableIterator<DeferredEntry> {
    return this.entries.values();
  }

  add(entry: DeferredEntry): void {
    this.remove(entry.record.id);
    this.entries.set(entry.record.id, entry);
    for (const k of entry.missing) {
      let s = this.waiting.get(k);
      if (!s) this.waiting.set(k, (s = new Set()));
      s.add(entry.record.id);
    }
  }

  remove(id: string): DeferredEntry | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    this.entries.delete(id);
    for (const k of e.missing) {
      const s = this.waiting.get(k);
      s?.delete(id);
      if (s?.size === 0) this.waiting.delete(k);
    }
    return e;
  }

  /** Marks `key` satisfied; returns every entry that waited for it (callers check `missing`). */
  satisfy(key: PrereqKey): DeferredEntry[] {
    const ids = this.waiting.get(key);
    if (!ids) return [];
    this.waiting.delete(key);
    const touched: DeferredEntry[] = [];
    for (const id of ids) {
      const e = this.entries.get(id);
      if (!e) continue;
      e.missing.delete(key);
      touched.push(e);
    }
    return touched;
  }

  /** Every entry that waits for `key`. */
  waitersOf(key: PrereqKey): DeferredEntry[] {
    const ids = this.waiting.get(key);
    if (!ids) return [];
    const out: DeferredEntry[] = [];
    for (const id of ids) {
      const e = this.entries.get(id);
      if (e) out.push(e);
    }
    return out;
  }

  /** The entries of `partition` that wait for `key` (others are left alone). */
  waitersIn(key: PrereqKey, partition: number): DeferredEntry[] {
    const ids = this.waiting.get(key);
    if (!ids) return [];
    const out: DeferredEntry[] = [];
    for (const id of ids) {
      const e = this.entries.get(id);
      if (e && e.partition === partition) out.push(e);
    }
    return out;
  }

  /** Entries whose deadline passed, oldest first. */
  expired(nowMs: number, limit = 10000): DeferredEntry[] {
    const out: DeferredEntry[] = [];
    for (const e of this.entries.values()) {
      if (e.deadline === null) continue;
      if (e.deadline > nowMs || out.length >= limit) break;
      out.push(e);
    }
    return out;
  }

  removePartition(partition: number): void {
    for (const e of [...this.entries.values()])
      if (e.partition === partition) this.remove(e.record.id);
  }
}
