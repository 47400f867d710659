/**
 * The latest value per key of a compacted topic (`deferred`, `deadletter`), as a follower
 * from 'earliest' delivers it: a value replaces, a tombstone deletes. Pages are in key
 * order so that `after=<key>` is a stable cursor even while entries come and go.
 */
export class ChangelogView<T> {
  private readonly entries = new Map<string, T>();
  /** Sorted keys, rebuilt lazily after a change (listing is rare, changes are frequent). */
  private sorted: string[] | undefined;

  get size(): number {
    return this.entries.size;
  }

  get(key: string): T | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: T): void {
    if (!this.entries.has(key)) this.sorted = undefined;
    this.entries.set(key, value);
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
      items: slice.map((k) => this.entries.get(k) as T),
      next: more && slice.length > 0 ? slice[slice.length - 1] : null,
    };
  }
}
