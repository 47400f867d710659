import { INPUT_OFFSET_KEY, parseDeferredValue, type DeferredValue } from './values';

/**
 * One partition's `deferred` changelog, read back at takeover (on the critical path of
 * failover). Until the end of the partition only the latest value of each id is kept, as
 * read, one char per byte (latin1: compact, and no slice of a fetch buffer kept alive);
 * only the ids still deferred at the end are parsed, one at a time, so neither the
 * superseded values nor a whole partition of decoded records are ever held.
 */
export class ChangelogRestore {
  private readonly latest = new Map<string, string>();
  /** Where the partition's input resumes: after the offset the last transaction recorded. */
  resume: bigint | undefined;

  add(key: Buffer | null, value: Buffer | null): void {
    if (!key) return;
    const id = key.toString();
    if (id === INPUT_OFFSET_KEY) {
      if (value) this.resume = BigInt(value.toString()) + 1n;
    } else if (value === null) this.latest.delete(id);
    else this.latest.set(id, value.toString('latin1'));
  }

  get size(): number {
    return this.latest.size;
  }

  /** The entries still deferred, in changelog order (= deadline order); empties the restore. */
  *drain(): Generator<DeferredValue> {
    for (const [id, raw] of this.latest) {
      this.latest.delete(id);
      yield parseDeferredValue(Buffer.from(raw, 'latin1'));
    }
  }
}
