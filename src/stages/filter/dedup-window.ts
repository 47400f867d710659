/**
 * The ids one ingest partition has let through in the last `windowMs`. A Map keeps insertion
 * order, and ids are inserted in (roughly) time order, so expiry pops from the front in O(1)
 * amortized. A record whose id was seen within the window is a duplicate (a client retry or
 * a producer retry) and is dropped; after the window an id may be used again.
 */
export class DedupWindow {
  private readonly seen = new Map<string, number>();

  constructor(private readonly windowMs: number) {}

  get size(): number {
    return this.seen.size;
  }

  has(id: string, nowMs: number): boolean {
    const t = this.seen.get(id);
    return t !== undefined && nowMs - t < this.windowMs;
  }

  add(id: string, atMs: number): void {
    this.seen.delete(id);
    this.seen.set(id, atMs);
  }

  delete(id: string): void {
    this.seen.delete(id);
  }

  /** Drops ids older than the window; returns how many. */
  expire(nowMs: number): number {
    let n = 0;
    for (const [id, t] of this.seen) {
      if (nowMs - t < this.windowMs) break;
      this.seen.delete(id);
      n++;
    }
    return n;
  }
}
