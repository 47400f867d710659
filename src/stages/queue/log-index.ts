import type { IngestRecord, LogKeys } from '../../record';
import { halvesToDecimal } from '../../record/hash';
import { DigestSet } from '../../digest/digest-set';
import { idDigest } from '../../digest/id-digest';
import { digestKey, KIND_HASH, KIND_ID, KIND_TOID, toidWords } from './key-digest';
import { prerequisitesOf, type PrereqKey } from '../../record/prerequisites';

/** Whether someone may wait for a key, given in digest form (kind, four words). */
export type WantedDigest = (kind: number, words: Uint32Array) => boolean;

/** One key's four words. The index runs on one thread and finishes with a key before the next. */
const key = new Uint32Array(4);
const TWO_32 = 4294967296;

/**
 * What is in this datacenter's log, as far as prerequisites go: every record ever appended,
 * so it must stay small (issue 8: the Set of string keys it replaces cost ~130 bytes a
 * record, forever). Hash keys and id keys are kept as 128-bit digests in typed-array tables,
 * one per kind, so a key of one kind can never be mistaken for one of the other:
 *   `h:<seed>:<hash>`  the pair (seed, tag hash) is exactly 128 bits: stored whole, exact;
 *   `p:<id>`           a 128-bit digest of the id (id-digest.ts says why that is enough).
 * TOIds are dense per origin (guarantee 2/7), so a per-origin maximum suffices.
 * Keys that are not canonical (a seed "007") name nothing a record provides: never present.
 */
export class LogIndex {
  private readonly hashes = new DigestSet();
  private readonly ids = new DigestSet();
  private readonly maxToid = new Map<number, number>();
  lastLid = 0;

  /**
   * Adds a log record's keys (src/record/log-keys.ts: its tag hashes come computed by the
   * sequencer); returns, spelled out, the keys it newly satisfies that `wanted` (given the
   * key in digest form) says someone may wait for. Without `wanted` nobody waits: none is
   * spelled out (returns []).
   */
  add(r: LogKeys, wanted?: WantedDigest): PrereqKey[] {
    if (r.lid <= this.lastLid) return [];
    this.lastLid = r.lid;
    const fresh: PrereqKey[] = [];
    // In providedBy's order: the order in which waiters are woken stays as it was.
    idDigest(r.id, 0, key);
    if (this.ids.add(key[0], key[1], key[2], key[3]) && wanted?.(KIND_ID, key))
      fresh.push(`p:${r.id}`);
    if (r.remoteToid !== undefined) {
      this.raise(r);
      if (wanted && this.wantedToid(wanted, r.host, r.remoteToid))
        fresh.push(`t:${r.host}:${r.remoteToid}`);
    }
    this.addTags(r, wanted, fresh);
    if (r.remoteToid === undefined) {
      this.raise(r);
      if (wanted && this.wantedToid(wanted, r.host, r.toid)) fresh.push(`t:${r.host}:${r.toid}`);
    }
    return fresh;
  }

  private wantedToid(wanted: WantedDigest, host: number, toid: number): boolean {
    toidWords(host, toid, key, 0);
    return wanted(KIND_TOID, key);
  }

  has(k: PrereqKey): boolean {
    const kind = digestKey(k, key);
    return kind >= 0 && this.hasDigest(kind, key);
  }

  /** has() of a key already in digest form (key-digest.ts). */
  hasDigest(kind: number, w: Uint32Array): boolean {
    switch (kind) {
      case KIND_HASH:
        return this.hashes.has(w[0], w[1], w[2], w[3]);
      case KIND_ID:
        return this.ids.has(w[0], w[1], w[2], w[3]);
      case KIND_TOID:
        return this.hasToid(w[0], w[1] * TWO_32 + w[2]);
      default:
        return false;
    }
  }

  /** has(`p:${id}`) without building the key. */
  hasId(id: string): boolean {
    idDigest(id, 0, key);
    return this.ids.has(key[0], key[1], key[2], key[3]);
  }

  /** has(`t:${host}:${toid}`) without building the key. */
  hasToid(host: number, toid: number): boolean {
    return (this.maxToid.get(host) ?? 0) >= toid;
  }

  missing(r: IngestRecord): PrereqKey[] {
    return prerequisitesOf(r).filter((k) => !this.has(k));
  }

  /** Hash and id keys held (TOIds are a maximum per origin). */
  get size(): number {
    return this.hashes.size + this.ids.size;
  }

  /** The tables' memory. */
  get bytes(): number {
    return this.hashes.bytes + this.ids.bytes;
  }

  /** Adds r's (seed, tag hash) pairs, and spells out into `fresh` the new keys `wanted`. */
  private addTags(r: LogKeys, wanted: WantedDigest | undefined, fresh: PrereqKey[]): void {
    if (!r.seedOk) return;
    const h = r.tagHashes;
    let seed: string | undefined;
    for (let i = 0; i < h.length; i += 2) {
      if (!this.hashes.add(r.seedHi, r.seedLo, h[i], h[i + 1]) || !wanted) continue;
      key[0] = r.seedHi;
      key[1] = r.seedLo;
      key[2] = h[i];
      key[3] = h[i + 1];
      if (wanted(KIND_HASH, key)) {
        seed ??= halvesToDecimal(r.seedHi, r.seedLo);
        fresh.push(`h:${seed}:${halvesToDecimal(h[i], h[i + 1])}`);
      }
    }
  }

  private raise(r: LogKeys): void {
    if ((this.maxToid.get(r.host) ?? 0) < r.toid) this.maxToid.set(r.host, r.toid);
  }
}
