/**
 * key → LIds, for tag hashes and seeds. LIds arrive in increasing order, so every list is
 * sorted and a page "after L" is a binary search. Memory: most keys (unique tag values)
 * hold ONE LId, stored inline as a plain number; only a second LId promotes the entry to a
 * Float64Array (exact up to 2^53, the LId range) that doubles as it grows.
 */
interface List {
  a: Float64Array;
  n: number;
}

export class Postings {
  private readonly map = new Map<string, number | List>();
  private entries = 0;

  /** Appends `lid`, which must be larger than every LId added for `key` before. */
  add(key: string, lid: number): void {
    const cur = this.map.get(key);
    this.entries++;
    if (cur === undefined) {
      this.map.set(key, lid);
    } else if (typeof cur === 'number') {
      if (cur === lid) return void this.entries--;
      const a = new Float64Array(4);
      a[0] = cur;
      a[1] = lid;
      this.map.set(key, { a, n: 2 });
    } else {
      if (cur.a[cur.n - 1] === lid) return void this.entries--;
      if (cur.n === cur.a.length) {
        const b = new Float64Array(cur.a.length * 2);
        b.set(cur.a);
        cur.a = b;
      }
      cur.a[cur.n++] = lid;
    }
  }

  /** Up to `limit` LIds of `key` greater than `after`, ascending. */
  page(key: string, after: number, limit: number): number[] {
    const cur = this.map.get(key);
    if (cur === undefined) return [];
    if (typeof cur === 'number') return cur > after && limit > 0 ? [cur] : [];
    let lo = 0;
    let hi = cur.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cur.a[mid] <= after) lo = mid + 1;
      else hi = mid;
    }
    return Array.from(cur.a.subarray(lo, Math.min(cur.n, lo + limit)));
  }

  count(key: string): number {
    const cur = this.map.get(key);
    return cur === undefined ? 0 : typeof cur === 'number' ? 1 : cur.n;
  }

  get size(): { keys: number; entries: number } {
    return { keys: this.map.size, entries: this.entries };
  }
}
