import { DigestMap, idDigest } from '../../digest';

/** Scratch for one id's digest (single-threaded; each call finishes with it). */
const w = new Uint32Array(4);

/** Stored for a deleted id (an old-format tombstone): never a time. */
const DELETED = 0xfffffffd;
/** Times are kept as ms after `base`, below DELETED. */
const MAX_REL = DELETED - 1;

/**
 * The ids one ingest partition has let through in the last `windowMs`. A record whose id
 * was seen within the window is a duplicate (a client retry or a producer retry) and is
 * dropped; after the window an id may be used again.
 *
 * Why digests in a typed array (DigestMap: id's 128-bit digest → ms after `base`) and not a
 * Map<string, number>: a V8 Map holds at most 2^24 entries (16.7 M) — a 24 h window of a
 * partition taking more than 194 records/s overflowed it (RangeError, the filter crash-looped
 * on restore) — and each entry with its id string cost ~100 bytes of traced heap; here an id
 * costs 27–53 bytes and nothing for the garbage collector. Digest collisions: see
 * id-digest.ts (two ids that collide act as one id, which a client could do anyway).
 *
 * Entries are never removed one by one: `expire` rebuilds the table without the expired ids
 * once every windowMs / 16, so the table holds up to 1 + 1/16 windows; `has` checks each
 * entry's time, so an expired id that is still stored is never reported as seen.
 */
export class DedupWindow {
  private seen = new DigestMap(1024);
  private base = NaN;
  private lastRebuild = NaN;
  private deleted = 0;

  constructor(private readonly windowMs: number) {}

  /** Ids held (expired ones count until the next rebuild). */
  get size(): number {
    return this.seen.size - this.deleted;
  }

  /** The table's memory. */
  get bytes(): number {
    return this.seen.bytes;
  }

  has(id: string, nowMs: number): boolean {
    idDigest(id, 0, w);
    const rel = this.seen.get(w[0], w[1], w[2], w[3]);
    return rel >= 0 && rel !== DELETED && nowMs - (this.base + rel) < this.windowMs;
  }

  add(id: string, atMs: number): void {
    if (!Number.isFinite(atMs)) return;
    if (Number.isNaN(this.base)) this.base = atMs - this.windowMs;
    else if (atMs - this.base > MAX_REL) this.rebuild(atMs);
    idDigest(id, 0, w);
    const prev = this.seen.set(w[0], w[1], w[2], w[3], Math.max(0, atMs - this.base));
    if (prev === DELETED) this.deleted--;
  }

  delete(id: string): void {
    idDigest(id, 0, w);
    const prev = this.seen.get(w[0], w[1], w[2], w[3]);
    if (prev < 0 || prev === DELETED) return;
    this.seen.set(w[0], w[1], w[2], w[3], DELETED);
    this.deleted++;
  }

  /**
   * Drops ids older than the window — at most once per windowMs / 16 (a rebuild is linear in
   * the ids held); returns how many were dropped.
   */
  expire(nowMs: number): number {
    if (nowMs - this.lastRebuild < this.windowMs / 16) return 0;
    return this.rebuild(nowMs);
  }

  /** Keeps the ids seen within the window before nowMs, with times rebased to it. */
  private rebuild(nowMs: number): number {
    const before = this.size;
    const oldBase = this.base;
    const newBase = nowMs - this.windowMs;
    if (Number.isNaN(oldBase)) {
      this.lastRebuild = nowMs;
      return 0;
    }
    this.seen.retain((rel) => {
      if (rel === DELETED) return -1;
      const t = oldBase + rel;
      return nowMs - t < this.windowMs ? Math.min(MAX_REL, Math.max(0, t - newBase)) : -1;
    });
    this.deleted = 0;
    this.base = newBase;
    this.lastRebuild = nowMs;
    return before - this.size;
  }
}
