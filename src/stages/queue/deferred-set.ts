import { decodeIngest, type IngestRecord } from '../../record';
import type { PrereqKey } from '../../record/prerequisites';
import { ArenaChunk, ByteArena, type ArenaSlot } from './byte-arena';
import { WaitingFilter } from './waiting-filter';

const NONE: readonly PrereqKey[] = Object.freeze([]);
const NONE_WAITING: readonly DeferredEntry[] = Object.freeze([]);

/**
 * One deferred record, kept small: 100 000 of them must cost well under 150 MB (issue 8).
 * The record stays encoded, exactly the `released` value it will be sent as, and is decoded
 * only when released or dead-lettered. Its bytes are a copy of their own until a DeferredSet
 * takes the entry, then a slot of the set's ByteArena (off the V8 heap: byte-arena.ts says
 * why). What it still waits for is one key alone in the common case.
 */
export class DeferredEntry {
  /** A release or dead-letter transaction is under way: don't start another. */
  busy = false;
  private wait: PrereqKey | readonly PrereqKey[];
  /** Only DeferredSet moves it (into and within its arena). */
  slot: ArenaSlot;

  constructor(
    readonly id: string,
    readonly partition: number,
    /**
     * encodeIngest form. Held as given until a DeferredSet takes the entry and copies it into
     * its arena (so a slice of a fetch buffer is not kept alive): one copy, not two.
     */
    encoded: Buffer,
    /** ms since epoch, or null = wait forever. */
    readonly deadline: number | null,
    missing: readonly PrereqKey[],
  ) {
    const own = new ArenaChunk(encoded);
    own.live = encoded.length;
    this.slot = { chunk: own, offset: 0, length: encoded.length };
    // Deduplicated: a pretoid and a replicated record's clock may name the same TOId.
    this.wait =
      missing.length === 1 ? missing[0] : missing.length === 0 ? NONE : [...new Set(missing)];
  }

  /** The `released` message value (a view: the bytes are never written again). */
  encoded(): Buffer {
    const { chunk, offset, length } = this.slot;
    return chunk.buf.subarray(offset, offset + length);
  }

  record(): IngestRecord {
    return decodeIngest(this.encoded());
  }

  /** The record and its `released` value, for a release. */
  unpack(): [IngestRecord, Buffer] {
    const value = this.encoded();
    return [decodeIngest(value), value];
  }

  /** What it still waits for. */
  get missing(): readonly PrereqKey[] {
    return typeof this.wait === 'string' ? [this.wait] : this.wait;
  }

  /** True when every key it still waits for passes `satisfied` (so: when it waits for none). */
  ready(satisfied: (k: PrereqKey) => boolean): boolean {
    return typeof this.wait === 'string' ? satisfied(this.wait) : this.wait.every(satisfied);
  }

  /** Only DeferredSet.satisfy calls this: the waiting index must drop the key too. */
  drop(key: PrereqKey): void {
    if (typeof this.wait === 'string') {
      if (this.wait === key) this.wait = NONE;
      return;
    }
    const rest = this.wait.filter((k) => k !== key);
    this.wait = rest.length === 1 ? rest[0] : rest.length === 0 ? NONE : rest;
  }
}

/** Waiters of one key: the entry alone (most keys have one), or a set. */
type Waiters = DeferredEntry | Set<DeferredEntry>;

/**
 * Records waiting for prerequisites, indexed by what they wait for, so that a newly appended
 * record wakes exactly the records that wait for it: the cost of an append is proportional
 * to its waiters, never to the number of deferred records (guarantee 5).
 */
export class DeferredSet {
  /** Insertion order = deadline order (one timeout for all), so expiry scans from the front. */
  private readonly entries = new Map<string, DeferredEntry>();
  private readonly waiting = new Map<PrereqKey, Waiters>();
  /** The waiting index's keys as digests, a superset: who may wait, without key strings. */
  private readonly filter = new WaitingFilter();
  /** The entries' bytes. */
  private readonly arena = new ByteArena();

  /** Bytes of deferred records held, and what their arena's chunks take (for the memory probe). */
  get bytes(): { live: number; held: number } {
    return { live: this.arena.live, held: this.arena.held };
  }

  get size(): number {
    return this.entries.size;
  }

  /** How many distinct keys deferred records wait for. */
  get waitingKeys(): number {
    return this.waiting.size;
  }

  /** False only when no entry waits for the key (kind, words; key-digest.ts). */
  mayWait(kind: number, words: Uint32Array): boolean {
    return this.waiting.size > 0 && this.filter.mayWait(kind, words);
  }

  /** False only when no entry waits for any of `provides` (5 words a key: kind, words). */
  mayWaitForAny(provides: Uint32Array): boolean {
    return this.waiting.size > 0 && this.filter.mayWaitForAny(provides);
  }

  get(id: string): DeferredEntry | undefined {
    return this.entries.get(id);
  }

  values(): IterableIterator<DeferredEntry> {
    return this.entries.values();
  }

  add(entry: DeferredEntry): void {
    this.remove(entry.id);
    this.entries.set(entry.id, entry);
    entry.slot = this.arena.put(entry.encoded());
    for (const k of entry.missing) {
      const w = this.waiting.get(k);
      if (w === undefined) {
        this.waiting.set(k, entry);
        this.filter.add(k);
      } else if (w instanceof Set) w.add(entry);
      else if (w !== entry) this.waiting.set(k, new Set([w, entry]));
    }
  }

  remove(id: string): DeferredEntry | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    this.entries.delete(id);
    this.arena.free(e.slot);
    if (this.arena.wasteful) this.compactBytes();
    for (const k of e.missing) {
      const w = this.waiting.get(k);
      if (w === e) this.waiting.delete(k);
      else if (w instanceof Set) {
        w.delete(e);
        if (w.size === 1) this.waiting.set(k, w.values().next().value as DeferredEntry);
      }
    }
    this.filter.compact(this.waiting.keys(), this.waiting.size);
    return e;
  }

  /** Moves every entry's bytes into fresh chunks; the old ones are dropped as they empty. */
  private compactBytes(): void {
    this.arena.restart();
    for (const e of this.entries.values()) {
      const old = e.slot;
      e.slot = this.arena.put(e.encoded());
      this.arena.free(old);
    }
  }

  /** Marks `key` satisfied; returns every entry that waited for it (callers check `ready`). */
  satisfy(key: PrereqKey): readonly DeferredEntry[] {
    const touched = this.waitersOf(key);
    if (this.waiting.delete(key)) this.filter.compact(this.waiting.keys(), this.waiting.size);
    for (const e of touched) e.drop(key);
    return touched;
  }

  /** Every entry that waits for `key`. */
  waitersOf(key: PrereqKey): readonly DeferredEntry[] {
    const w = this.waiting.get(key);
    // Most keys a release provides have no waiter: no array for those (two per key before).
    if (w === undefined) return NONE_WAITING;
    return w instanceof Set ? [...w] : [w];
  }

  /** The entries of `partition` that wait for `key` (others are left alone). */
  waitersIn(key: PrereqKey, partition: number): readonly DeferredEntry[] {
    const all = this.waitersOf(key);
    return all.length === 0 ? all : all.filter((e) => e.partition === partition);
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
    for (const e of [...this.entries.values()]) if (e.partition === partition) this.remove(e.id);
  }
}
