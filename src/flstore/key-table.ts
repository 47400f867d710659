import { halvesToDecimalCodes } from '../record/hash';
import type { RecordKeys } from './keys';

/**
 * 64-bit hash of an index key (an id, a seed, a tag hash's decimal), as [hi, lo] u32s.
 * Persisted in index files, so it must never change. It need not be collision-free: every
 * lookup re-checks the record it finds (cyrb53's mixing, kept to 64 bits).
 */
export function keyHash(s: string): [number, number] {
  keyHashInto(s, scratch);
  return [scratch[0], scratch[1]];
}

const scratch = new Uint32Array(2);

/** keyHash into out[0] (hi) and out[1] (lo), with no array per key (the maintainer's hot path). */
export function keyHashInto(s: string, out: Uint32Array): void {
  let h1 = 0xdeadbeef ^ s.length;
  let h2 = 0x41c6ce57 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  finish(h1, h2, out);
}

function finish(h1: number, h2: number, out: Uint32Array): void {
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  out[0] = h2;
  out[1] = h1;
}

/** A uint64's decimal char codes (at most 20). */
const digits = new Uint8Array(20);

/**
 * keyHash of the decimal spelling of the uint64 hi·2^32 + lo (a tag hash as record/hash.ts
 * halvesToDecimal spells it), without building the string: the tag keys of every record the
 * maintainer stores.
 */
export function keyHashOfUint64(hi: number, lo: number, out: Uint32Array): void {
  const n = halvesToDecimalCodes(hi, lo, digits);
  let h1 = 0xdeadbeef ^ n;
  let h2 = 0x41c6ce57 ^ n;
  for (let i = 0; i < n; i++) {
    const c = digits[i];
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  finish(h1, h2, out);
}

/** Bits needed for a record's position in a segment of `count` records (1..32). */
export function relBitsFor(count: number): number {
  let b = 1;
  while (b < 32 && 2 ** b < count) b++;
  return b;
}

const maskOf = (relBits: number) => (relBits >= 32 ? 0xffffffff : 2 ** relBits - 1);

/**
 * A sealed segment's key → records table in 8 bytes per (key, record) pair: one u64 per
 * pair, the key hash's top 64-relBits bits followed by the record's position in the segment
 * (relBits), sorted. Stored as u32 words [low, high] (the u64's little-endian halves) so a
 * lookup is a binary search over plain numbers, and a segment's records of one key come
 * out in LId order. Truncating the hash only adds candidates, which lookups re-check.
 */
export class KeyTable {
  private readonly mask: number;

  constructor(
    readonly words: Uint32Array,
    readonly relBits: number,
  ) {
    this.mask = maskOf(relBits);
  }

  get length(): number {
    return this.words.length >>> 1;
  }

  /** Up to `limit` positions (ascending) of records filed under `key`'s hash, from `fromRel`. */
  find([hi, lo]: [number, number], fromRel: number, limit: number): number[] {
    const w = this.words;
    if (fromRel > this.mask) return [];
    const keyLo = (lo & ~this.mask) >>> 0;
    const target = (keyLo | fromRel) >>> 0;
    let a = 0;
    let b = this.length;
    while (a < b) {
      const m = (a + b) >>> 1;
      const mh = w[2 * m + 1];
      if (mh < hi || (mh === hi && w[2 * m] < target)) a = m + 1;
      else b = m;
    }
    const out: number[] = [];
    for (let i = a; i < this.length && out.length < limit; i++) {
      if (w[2 * i + 1] !== hi || (w[2 * i] & ~this.mask) >>> 0 !== keyLo) break;
      out.push((w[2 * i] & this.mask) >>> 0);
    }
    return out;
  }

  /** Packs, sorts (natively, as u64s) and deduplicates `(key, position)` pairs. */
  static build(relBits: number, pairs: Iterable<[string, number]>, maxPairs: number): KeyTable {
    const triples = new Uint32Array(3 * maxPairs);
    let n = 0;
    for (const [key, rel] of pairs) {
      const [hi, lo] = keyHash(key);
      triples[n++] = hi;
      triples[n++] = lo;
      triples[n++] = rel;
    }
    return KeyTable.fromTriples(relBits, triples, n / 3);
  }

  /** The same from `n` (hi, lo, position) triples of already hashed keys. */
  static fromTriples(relBits: number, triples: Uint32Array, n: number): KeyTable {
    const mask = maskOf(relBits);
    const words = new Uint32Array(2 * n);
    for (let i = 0; i < n; i++) {
      words[2 * i] = ((triples[3 * i + 1] & ~mask) | triples[3 * i + 2]) >>> 0;
      words[2 * i + 1] = triples[3 * i];
    }
    new BigUint64Array(words.buffer, 0, n).sort();
    let k = 0;
    for (let i = 0; i < n; i++) {
      if (k > 0 && words[2 * i] === words[2 * k - 2] && words[2 * i + 1] === words[2 * k - 1])
        continue;
      words[2 * k] = words[2 * i];
      words[2 * k + 1] = words[2 * i + 1];
      k++;
    }
    return new KeyTable(words.slice(0, 2 * k), relBits);
  }
}

/** A sealed segment's indexes: its records' ids, seeds and distinct tag hashes. */
export interface SegmentKeys {
  ids: KeyTable;
  seeds: KeyTable;
  tags: KeyTable;
}

export type KeyKind = keyof SegmentKeys;

export function buildSegmentKeys(keys: readonly RecordKeys[]): SegmentKeys {
  const relBits = relBitsFor(keys.length);
  let tagPairs = 0;
  for (const k of keys) tagPairs += k.hashes.length;
  return {
    ids: KeyTable.build(
      relBits,
      pairsOf(keys, (k) => [k.id]),
      keys.length,
    ),
    seeds: KeyTable.build(
      relBits,
      pairsOf(keys, (k) => [k.seed]),
      keys.length,
    ),
    tags: KeyTable.build(
      relBits,
      pairsOf(keys, (k) => k.hashes),
      tagPairs,
    ),
  };
}

function* pairsOf(
  keys: readonly RecordKeys[],
  of: (k: RecordKeys) => readonly string[],
): Iterable<[string, number]> {
  for (let i = 0; i < keys.length; i++) for (const s of of(keys[i])) yield [s, i];
}
