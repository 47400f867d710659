/**
 * A set of 128-bit keys (four uint32 words) in one Uint32Array: open addressing, linear
 * probing, doubled and rehashed past a load factor of 0.75. 16 bytes a slot, so 21–43 bytes
 * a key, against ~130 for a short string in a Set<string> (bench/log-index-memory.ts), and
 * nothing for the garbage collector to trace: it is one object whatever its size.
 *
 * All-zero words mark an empty slot, so the all-zero key is kept in a flag of its own.
 * One array rather than chunks: a rehash holds old and new (3x the old) for a moment, which
 * chunks would not avoid, and 2^28 slots (4 GiB, 100 M keys and more) is past what a queue
 * process can hold anyway.
 */
export class DigestSet {
  private words: Uint32Array;
  private mask: number;
  private count = 0;
  private zero = false;

  /** `slots`: the initial capacity, rounded up to a power of two. */
  constructor(slots = 1024) {
    let n = 8;
    while (n < slots) n *= 2;
    this.words = new Uint32Array(n * 4);
    this.mask = n - 1;
  }

  get size(): number {
    return this.count + (this.zero ? 1 : 0);
  }

  /** What the table holds in memory. */
  get bytes(): number {
    return this.words.byteLength;
  }

  has(a: number, b: number, c: number, d: number): boolean {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    if ((a | b | c | d) === 0) return this.zero;
    return this.find(a, b, c, d) < 0;
  }

  /** Adds the key; false when it was there already. */
  add(a: number, b: number, c: number, d: number): boolean {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    if ((a | b | c | d) === 0) {
      const fresh = !this.zero;
      this.zero = true;
      return fresh;
    }
    let at = this.find(a, b, c, d);
    if (at < 0) return false;
    if ((this.count + 1) * 4 > (this.mask + 1) * 3) {
      this.grow();
      at = this.find(a, b, c, d);
    }
    this.put(at, a, b, c, d);
    this.count++;
    return true;
  }

  /** -1 when the key is present, else the word offset of the empty slot where it belongs. */
  private find(a: number, b: number, c: number, d: number): number {
    const w = this.words;
    const mask = this.mask;
    for (let slot = slotOf(a, b, c, d) & mask; ; slot = (slot + 1) & mask) {
      const at = slot * 4;
      const wa = w[at];
      const wb = w[at + 1];
      const wc = w[at + 2];
      const wd = w[at + 3];
      if (wa === a && wb === b && wc === c && wd === d) return -1;
      if ((wa | wb | wc | wd) === 0) return at;
    }
  }

  private put(at: number, a: number, b: number, c: number, d: number): void {
    const w = this.words;
    w[at] = a;
    w[at + 1] = b;
    w[at + 2] = c;
    w[at + 3] = d;
  }

  private grow(): void {
    const old = this.words;
    this.words = new Uint32Array(old.length * 2);
    this.mask = this.mask * 2 + 1;
    for (let at = 0; at < old.length; at += 4) {
      const a = old[at];
      const b = old[at + 1];
      const c = old[at + 2];
      const d = old[at + 3];
      if ((a | b | c | d) !== 0) this.put(this.find(a, b, c, d), a, b, c, d);
    }
  }
}

/**
 * Where a key's probe starts. Every word is mixed in (murmur3's finalizer): the (seed, tag
 * hash) keys have small seeds (high word 0) and FNV hashes whose low bits are the weak ones.
 */
export function slotOf(a: number, b: number, c: number, d: number): number {
  let h = fmix(a);
  h = fmix(h ^ b);
  h = fmix(h ^ c);
  return fmix(h ^ d);
}

function fmix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}
