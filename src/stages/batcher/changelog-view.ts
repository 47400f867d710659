/** A value as the topic holds it, parsed when it is read. */
class Raw {
  constructor(readonly bytes: Buffer) {}
}

/**
 * The latest value per key of a compacted topic (`deferred`, `deadletter`), as a follower
 * from 'earliest' delivers it: a value replaces, a tombstone deletes. Pages are in key
 * order so that `after=<key>` is a stable cursor even while entries come and go.
 *
 * Values from the topic are kept as bytes and parsed only when read (`setRaw`): the views
 * change with every deferral and release while they are listed rarely, and parsing (and
 * checking) every change was ~10 % of a batcher's CPU while it answered single-record
 * requests (bench (c), 2026-11-27 profile).
 */
export class ChangelogView<T> {
  private readonly entries = new Map<string, T | Raw>();
  /** Sorted keys, rebuilt lazily after a change (listing is rare, changes are frequent). */
  private sorted: string[] | undefined;

  /** `parse`: how setRaw's bytes become a T (only views fed by setRaw need one). */
  constructor(private readonly parse?: (key: string, value: Buffer) => T) {}

  get size(): number {
    return this.entries.size;
  }

  /** A view filled by its owner is its own ViewSource (lazy-changelog.ts; tests). */
  view(): Promise<ChangelogView<T>> {
    return Promise.resolve(this);
  }

  get(key: string): T | undefined {
    const v = this.entries.get(key);
    return v === undefined ? undefined : this.resolve(key, v);
  }

  set(key: string, value: T): void {
    this.put(key, value);
  }

  /**
   * A value as the topic holds it, parsed on read. Copied: a kafkajs message value is a view
   * into its whole fetch response, which would otherwise stay in memory with it.
   */
  setRaw(key: string, bytes: Buffer): void {
    if (!this.parse) throw new Error('ChangelogView.setRaw needs a parse function');
    this.put(key, new Raw(Buffer.from(bytes)));
  }

  private put(key: string, value: T | Raw): void {
    if (!this.entries.has(key)) this.sorted = undefined;
    this.entries.set(key, value);
  }

  private resolve(key: string, v: T | Raw): T {
    return v instanceof Raw ? (this.parse as (k: string, b: Buffer) => T)(key, v.bytes) : v;
  }

  delete(key: string): void {
    if (this.entries.delete(key)) this.sorted = undefined;
  }

  /** Up to `limit` entries with key > `after`; `next` is the cursor for the following page. */
  page(limit: number, after?: string): { items: T[]; next: string | null } {
    this.sorted ??= [...this.entries.keys()].sort();
    const keys = this.sorted;
    let start = 0;
    if (after !== undefined) {
      // Binary search for the first key > after: the cursor need not exist any more.
      let hi = keys.length;
      while (start < hi) {
        const mid = (start + hi) >>> 1;
        if (keys[mid] <= after) start = mid + 1;
        else hi = mid;
      }
    }
    const slice = keys.slice(start, start + limit);
    const more = start + limit < keys.length;
    return {
      items: slice.map((k) => this.resolve(k, this.entries.get(k) as T | Raw)),
      next: more && slice.length > 0 ? slice[slice.length - 1] : null,
    };
  }
}
