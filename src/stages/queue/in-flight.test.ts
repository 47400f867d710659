import fc from 'fast-check';
import type { IngestRecord } from '../../record';
import { InFlight } from './in-flight';

const rec = (id: string) => ({ id }) as IngestRecord;

/**
 * The reference: per key, how many releases not yet logged provide it (what InFlight kept
 * before it remembered only the latest release per key), and the log index as the set of keys
 * of logged records.
 */
class CountingModel {
  readonly counts = new Map<string, number>();
  readonly byId = new Map<string, string[]>();
  readonly index = new Set<string>();
  add(id: string, keys: string[]): void {
    if (this.byId.has(id)) return;
    this.byId.set(id, keys);
    for (const k of keys) this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }
  log(id: string, keys: string[]): void {
    const mine = this.byId.get(id);
    if (mine) {
      this.byId.delete(id);
      for (const k of mine) this.counts.set(k, (this.counts.get(k) ?? 1) - 1);
    }
    for (const k of keys) this.index.add(k);
  }
  inFlight(k: string): boolean {
    return (this.counts.get(k) ?? 0) > 0;
  }
}

const key = fc.constantFrom('h:1:7', 'h:1:8', 'h:2:7', 'p:a', 'p:b', 't:1:3', 't:2:3');
const id = fc.constantFrom('r1', 'r2', 'r3', 'r4', 'r5', 'r6');
const op = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), id, keys: fc.array(key, { maxLength: 4 }) }),
  // The log shows a record: one of ours (in any order, also ones never added) or another's.
  fc.record({ kind: fc.constant('log' as const), id, keys: fc.array(key, { maxLength: 4 }) }),
);

describe('InFlight', () => {
  test('what the queue asks (index OR in flight; in flight for keys the index lacks) is answered as with per-key counts', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.constantFrom(0, 3, 4096), (ops, slack) => {
        const f = new InFlight(slack);
        const m = new CountingModel();
        const provided = new Map<string, string[]>();
        for (const o of ops) {
          if (o.kind === 'add') {
            // A record's keys are what it provides whoever logs it: the same on add and log.
            const keys = provided.get(o.id) ?? o.keys;
            provided.set(o.id, keys);
            f.add(rec(o.id), [...keys]);
            m.add(o.id, keys);
          } else {
            const keys = provided.get(o.id) ?? o.keys;
            provided.set(o.id, keys);
            f.remove(o.id);
            m.log(o.id, keys);
          }
          for (const k of ['h:1:7', 'h:1:8', 'h:2:7', 'p:a', 'p:b', 't:1:3', 't:2:3']) {
            const inIndex = m.index.has(k);
            expect(inIndex || f.has(k)).toBe(inIndex || m.inFlight(k));
            if (!inIndex) expect(f.has(k)).toBe(m.inFlight(k));
          }
          expect(f.size).toBe(m.byId.size);
        }
      }),
      { numRuns: 500 },
    );
  });

  test('add returns the keys it added, nothing for a record already in flight', () => {
    const f = new InFlight();
    expect(f.add(rec('a'), ['p:a', 'h:1:2'])).toEqual(['p:a', 'h:1:2']);
    expect(f.add(rec('a'), ['p:a', 'h:1:2'])).toEqual([]);
    f.remove('a');
    expect(f.has('p:a')).toBe(false);
    expect(f.add(rec('a'), ['p:a'])).toEqual(['p:a']);
    expect(f.has('p:a')).toBe(true);
  });

  test('keys of logged releases are swept: the map stays bounded however long it runs', () => {
    const f = new InFlight();
    for (let i = 0; i < 100_000; i++) {
      f.add(rec(`r${i}`), [`p:r${i}`, `h:${i % 7}:1`]);
      if (i >= 10) f.remove(`r${i - 10}`);
    }
    expect(f.size).toBe(10);
    expect(f.keyEntries).toBeLessThan(2 * 20 + 4096 + 2);
    expect(f.has('p:r99999')).toBe(true);
    expect(f.has('p:r5')).toBe(false);
  });
});
