import { hashTagHalves } from '../record/hash';
import type { LogRecord } from '../record';
import {
  keyHash,
  keyHashInto,
  keyHashOfUint64,
  KeyTable,
  relBitsFor,
  type KeyKind,
  type SegmentKeys,
} from './key-table';
import type { RecordKeys } from './keys';

/** One key hash (hi, lo); single-threaded, each call finishes with it. */
const h = new Uint32Array(2);
/** A record's distinct tag hashes so far (hi, lo pairs), to skip repeats as recordKeys does. */
let seenTags = new Float64Array(64);
import { U32List } from './u32-list';

export const KINDS: readonly KeyKind[] = ['ids', 'seeds', 'tags'];

interface Rels {
  a: Uint32Array;
  n: number;
}

/**
 * The active segment's indexes. Every key is kept as its 64-bit hash (see keyHash) with
 * the record's position in the segment: as (hi, lo, position) triples in record order (what
 * sealing sorts into KeyTables, and what the close-time snapshot stores), and in a map from
 * the hash's high 32 bits (a small integer key, cheap in V8) to the positions. Keys that
 * share those 32 bits share a list; lookups re-check every record they return.
 */
export class ActiveIndex {
  count = 0;
  private readonly triples = {} as Record<KeyKind, U32List>;
  private readonly maps = {} as Record<KeyKind, Map<number, number | Rels>>;

  constructor(readonly firstLid: number) {
    for (const k of KINDS) {
      this.triples[k] = new U32List(3 * 1024);
      this.maps[k] = new Map();
    }
  }

  add(k: RecordKeys): void {
    const rel = this.count++;
    this.put('ids', k.id, rel);
    this.put('seeds', k.seed, rel);
    for (const h of k.hashes) this.put('tags', h, rel);
  }

  /**
   * add(recordKeys(r)) without building RecordKeys: no decimal string per tag hash, no key
   * hash array per key (active-index.test.ts checks both give the same index).
   */
  addRecord(r: LogRecord): void {
    const rel = this.count++;
    keyHashInto(r.id, h);
    this.putHash('ids', h[0], h[1], rel);
    keyHashInto(r.seed, h);
    this.putHash('seeds', h[0], h[1], rel);
    const tags = Object.keys(r.tags);
    if (seenTags.length < 2 * tags.length) seenTags = new Float64Array(2 * tags.length);
    let n = 0;
    next: for (const k of tags) {
      const [hi, lo] = hashTagHalves(k, r.tags[k]);
      // `a` = "b:c" and `a:b` = "c" hash alike: one key, as in recordKeys' Set.
      for (let i = 0; i < n; i += 2)
        if (seenTags[i] === hi && seenTags[i + 1] === lo) continue next;
      seenTags[n++] = hi;
      seenTags[n++] = lo;
      keyHashOfUint64(hi, lo, h);
      this.putHash('tags', h[0], h[1], rel);
    }
  }

  private put(kind: KeyKind, key: string, rel: number): void {
    keyHashInto(key, h);
    this.putHash(kind, h[0], h[1], rel);
  }

  private putHash(kind: KeyKind, hi: number, lo: number, rel: number): void {
    const t = this.triples[kind];
    t.push(hi);
    t.push(lo);
    t.push(rel);
    this.link(kind, hi, rel);
  }

  private link(kind: KeyKind, hi: number, rel: number): void {
    const map = this.maps[kind];
    const key = hi | 0;
    const cur = map.get(key);
    if (cur === undefined) return void map.set(key, rel);
    if (typeof cur === 'number') {
      if (cur === rel) return;
      const a = new Uint32Array(4);
      a[0] = cur;
      a[1] = rel;
      return void map.set(key, { a, n: 2 });
    }
    if (cur.a[cur.n - 1] === rel) return;
    if (cur.n === cur.a.length) {
      const b = new Uint32Array(cur.a.length * 2);
      b.set(cur.a);
      cur.a = b;
    }
    cur.a[cur.n++] = rel;
  }

  /** Up to `limit` LIds > `after` filed under a key with `key`'s hash, ascending. */
  page(kind: KeyKind, key: string, after: number, limit: number): number[] {
    const cur = this.maps[kind].get(keyHash(key)[0] | 0);
    const from = Math.max(0, after + 1 - this.firstLid);
    if (cur === undefined || limit <= 0) return [];
    if (typeof cur === 'number') return cur >= from ? [this.firstLid + cur] : [];
    let lo = 0;
    let hi = cur.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cur.a[mid] < from) lo = mid + 1;
      else hi = mid;
    }
    const out: number[] = [];
    for (let i = lo; i < cur.n && out.length < limit; i++) out.push(this.firstLid + cur.a[i]);
    return out;
  }

  /** The tables the segment is served from once sealed. */
  seal(): SegmentKeys {
    const relBits = relBitsFor(this.count);
    const t = (k: KeyKind) =>
      KeyTable.fromTriples(relBits, this.triples[k].view(), this.triples[k].length / 3);
    return { ids: t('ids'), seeds: t('seeds'), tags: t('tags') };
  }

  /** Per kind, the (hi, lo, position) triples so far (for the close-time snapshot). */
  snapshot(): Record<KeyKind, Uint32Array> {
    return {
      ids: this.triples.ids.view(),
      seeds: this.triples.seeds.view(),
      tags: this.triples.tags.view(),
    };
  }

  /** An index of `count` records from a snapshot's triples (no keys to hash again). */
  static restore(
    firstLid: number,
    count: number,
    triples: Record<KeyKind, Uint32Array>,
  ): ActiveIndex {
    const x = new ActiveIndex(firstLid);
    x.count = count;
    for (const k of KINDS) {
      const t = triples[k];
      for (let i = 0; i < t.length; i += 3) {
        x.triples[k].push(t[i]);
        x.triples[k].push(t[i + 1]);
        x.triples[k].push(t[i + 2]);
        x.link(k, t[i], t[i + 2]);
      }
    }
    return x;
  }

  get entries(): number {
    return this.triples.ids.length / 3;
  }

  get bytes(): number {
    return KINDS.reduce((s, k) => s + 4 * this.triples[k].length, 0);
  }
}
