import { slotOf } from './digest-set';

/**
 * 128-bit keys (four uint32 words) → one uint32 value, in one Uint32Array of five words a
 * slot: open addressing, linear probing, doubled past a load factor of 0.75. The same layout
 * as DigestSet plus the value, for the queue's in-flight releases: nothing for the garbage
 * collector to trace, and no key strings to build or hash. Entries are never deleted one by
 * one (linear probing would need tombstones); `retain` rebuilds the table with the survivors.
 * A slot is empty when its value word is 0 (values are stored plus one), so any key, the
 * all-zero one included, can be stored.
 */
export class DigestMap {
  private words: Uint32Array;
  private mask: number;
  private count = 0;

  /** `slots`: the initial capacity, rounded up to a power of two. */
  constructor(slots = 16) {
    let n = 8;
    while (n < slots) n *= 2;
    this.words = new Uint32Array(n * 5);
    this.mask = n - 1;
  }

  get size(): number {
    return this.count;
  }

  /** What the table holds in memory. */
  get bytes(): number {
    return this.words.byteLength;
  }

  /** The value stored under the key, or -1. */
  get(a: number, b: number, c: number, d: number): number {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    const at = this.find(a, b, c, d);
    return this.words[at + 4] - 1;
  }

  /**
   * Stores `value` (0 ≤ value < 2^32 - 1) under the key, replacing what was there; returns
   * the value replaced, or -1 (one probe where `get` then `set` took two: on a table of
   * millions of ids each probe is a cache miss).
   */
  set(a: number, b: number, c: number, d: number, value: number): number {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let at = this.find(a, b, c, d);
    const previous = this.words[at + 4] - 1;
    if (previous === -1) {
      if ((this.count + 1) * 4 > (this.mask + 1) * 3) {
        this.grow();
        at = this.find(a, b, c, d);
      }
      this.count++;
    }
    this.put(at, a, b, c, d, value + 1);
    return previous;
  }

  /**
   * Keeps the entries whose `map(value)` is ≥ 0, with that as their new value; drops the rest.
   * The table is rebuilt at a size fitting the survivors.
   */
  retain(map: (value: number) => number): void {
    const old = this.words;
    let keep = 0;
    for (let at = 4; at < old.length; at += 5) if (old[at] !== 0 && map(old[at] - 1) >= 0) keep++;
    let n = 8;
    while (n * 3 < keep * 4 + 4) n *= 2;
    this.words = new Uint32Array(n * 5);
    this.mask = n - 1;
    this.count = 0;
    for (let at = 0; at < old.length; at += 5) {
      if (old[at + 4] === 0) continue;
      const v = map(old[at + 4] - 1);
      if (v < 0) continue;
      const a = old[at];
      const b = old[at + 1];
      const c = old[at + 2];
      const d = old[at + 3];
      this.put(this.find(a, b, c, d), a, b, c, d, v + 1);
      this.count++;
    }
  }

  /** The word offset of the key's slot, or of the empty slot where it belongs. */
  private find(a: number, b: number, c: number, d: number): number {
    const w = this.words;
    const mask = this.mask;
    for (let slot = slotOf(a, b, c, d) & mask; ; slot = (slot + 1) & mask) {
      const at = slot * 5;
      if (w[at + 4] === 0) return at;
      if (w[at] === a && w[at + 1] === b && w[at + 2] === c && w[at + 3] === d) return at;
    }
  }

  /** Stores value + 1: a slot's value word is 0 only when the slot is empty. */
  private put(at: number, a: number, b: number, c: number, d: number, stored: number): void {
    const w = this.words;
    w[at] = a;
    w[at + 1] = b;
    w[at + 2] = c;
    w[at + 3] = d;
    w[at + 4] = stored;
  }

  private grow(): void {
    const old = this.words;
    this.words = new Uint32Array(old.length * 2);
    this.mask = this.mask * 2 + 1;
    for (let at = 0; at < old.length; at += 5) {
      if (old[at + 4] === 0) continue;
      this.put(
        this.find(old[at], old[at + 1], old[at + 2], old[at + 3]),
        old[at],
        old[at + 1],
        old[at + 2],
        old[at + 3],
        old[at + 4],
      );
    }
  }
}
