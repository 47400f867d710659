import { DigestSet } from '../../digest/digest-set';
import { digestKey, KIND_HASH, KIND_ID, KIND_TOID } from './key-digest';
import type { PrereqKey } from '../../record/prerequisites';

/** One key's four words (single-threaded; each call finishes with it). */
const w = new Uint32Array(4);

/**
 * The keys deferred records wait for, in digest form (key-digest.ts), as a SUPERSET: a key
 * is added when a record starts waiting for it and only dropped by a rebuild. It answers
 * "may anyone wait for this key?" without spelling the key as a string: no means nobody
 * does; yes means look the string up in the waiting index. With 100 000 records deferred,
 * every released and every logged record spelled all its keys for those lookups, which
 * doubled the queue's CPU per record (bench, session 8); almost all of them miss here.
 */
export class WaitingFilter {
  private sets = WaitingFilter.empty();
  private added = 0;

  private static empty(): DigestSet[] {
    const s: DigestSet[] = [];
    s[KIND_ID] = new DigestSet(64);
    s[KIND_HASH] = new DigestSet(64);
    s[KIND_TOID] = new DigestSet(64);
    return s;
  }

  /** A key somebody now waits for. Keys that name nothing a record provides are skipped. */
  add(k: PrereqKey): void {
    const kind = digestKey(k, w);
    if (kind < 0) return;
    if (this.sets[kind].add(w[0], w[1], w[2], w[3])) this.added++;
  }

  /**
   * Starts over from the keys still waited for, once the filter holds more than twice as
   * many (plus slack): so it stays selective while waiters come and go, at O(waiting) now
   * and then.
   */
  compact(waiting: Iterable<PrereqKey>, waitingCount: number): void {
    if (this.added <= 2 * waitingCount + 1024) return;
    this.sets = WaitingFilter.empty();
    this.added = 0;
    for (const k of waiting) this.add(k);
  }

  /** False only when no deferred record waits for the key (kind, words). */
  mayWait(kind: number, words: Uint32Array, at = 0): boolean {
    return this.sets[kind].has(words[at], words[at + 1], words[at + 2], words[at + 3]);
  }

  /** False only when no deferred record waits for any of `provides` (5 words a key: kind, words). */
  mayWaitForAny(provides: Uint32Array): boolean {
    for (let at = 0; at < provides.length; at += 5)
      if (this.mayWait(provides[at], provides, at + 1)) return true;
    return false;
  }
}
