/**
 * The ids of the last `capacity` records the sequencer appended, oldest evicted first.
 *
 * Why the sequencer checks ids at all: it is the log's only writer, so whatever reaches it
 * twice (a queue that released a record a second time after a takeover, see
 * docs/reliability.md) can still be kept out of the log here. Ids are unique within the
 * filter's dedup window, so a second copy inside this (much shorter) window is never a
 * different record: dropping it cannot lose data.
 */
export class RecentIds {
  private readonly ring: Array<string | undefined>;
  private readonly set = new Set<string>();
  private next = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array<string | undefined>(Math.max(0, capacity));
  }

  has(id: string): boolean {
    return this.set.has(id);
  }

  add(id: string): void {
    if (this.capacity === 0 || this.set.has(id)) return;
    const old = this.ring[this.next];
    if (old !== undefined) this.set.delete(old);
    this.ring[this.next] = id;
    this.next = (this.next + 1) % this.capacity;
    this.set.add(id);
  }

  get size(): number {
    return this.set.size;
  }
}
