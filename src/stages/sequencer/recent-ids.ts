import { DigestSet, idDigest } from '../../digest';

/** Scratch for one id's digest (single-threaded; each call finishes with it). */
const w = new Uint32Array(4);

/**
 * The ids of at least the last `capacity` records the sequencer appended (at most 2 ×
 * capacity): two generations of id digests; when the current one has `capacity` ids it
 * becomes the previous one and the oldest generation is dropped whole.
 *
 * Why the sequencer checks ids at all: it is the log's only writer, so whatever reaches it
 * twice (a queue that released a record a second time after a takeover, see
 * docs/reliability.md) can still be kept out of the log here. Ids are unique within the
 * filter's dedup window, so a second copy inside this (much shorter) window is never a
 * different record: dropping it cannot lose data.
 *
 * Why digests: this runs twice per appended record; a Set of strings with a ring to evict
 * from cost a delete and an add per record (~10 % of the sequencer's profile) and kept
 * 200 000 id strings for the garbage collector to trace. Collisions: see id-digest.ts.
 */
export class RecentIds {
  private current: DigestSet;
  private previous = new DigestSet(8);

  constructor(readonly capacity: number) {
    this.current = this.fresh();
  }

  has(id: string): boolean {
    idDigest(id, 0, w);
    return this.current.has(w[0], w[1], w[2], w[3]) || this.previous.has(w[0], w[1], w[2], w[3]);
  }

  add(id: string): void {
    if (this.capacity <= 0) return;
    idDigest(id, 0, w);
    if (this.previous.has(w[0], w[1], w[2], w[3])) return;
    if (!this.current.add(w[0], w[1], w[2], w[3])) return;
    if (this.current.size >= this.capacity) {
      this.previous = this.current;
      this.current = this.fresh();
    }
  }

  /** Ids remembered (between capacity and 2 × capacity once that many were added). */
  get size(): number {
    return this.current.size + this.previous.size;
  }

  /** Sized for a whole generation up front: no rehash while the sequencer is busy. */
  private fresh(): DigestSet {
    return new DigestSet(Math.ceil((Math.max(0, this.capacity) * 4) / 3) + 1);
  }
}
