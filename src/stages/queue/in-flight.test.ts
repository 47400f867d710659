import fc from 'fast-check';
import { InFlight } from './in-flight';
import { digestKey } from './key-digest';

/** A record's provides in digest form: its own `p:<id>` first, then `keys`. */
function provides(id: string, keys: string[]): Uint32Array {
  const all = [`p:${id}`, ...keys];
  const out = new Uint32Array(5 * all.length);
  all.forEach((k, i) => {
    const w = new Uint32Array(4);
    out[5 * i] = digestKey(k, w);
    out.set(w, 5 * i + 1);
  });
  return out;
}

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
    keys = [`p:${id}`, ...keys];
    this.byId.set(id, keys);
    for (const k of keys) this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }
  log(id: string, keys: string[]): void {
    const mine = this.byId.get(id);
    if (mine) {
      this.byId.delete(id);
      for (const k of mine) this.counts.set(k, (this.counts.get(k) ?? 1) - 1);
    }
    for (const k of [`p:${id}`, ...keys]) this.index.add(k);
  }
  inFlight(k: string): boolean {
    return (this.counts.get(k) ?? 0) > 0;
  }
}

const KEYS = ['h:1:7', 'h:1:8', 'h:2:7', 't:1:3', 't:2:3'];
const key = fc.constantFrom(...KEYS);
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
            f.add(provides(o.id, keys));
            m.add(o.id, keys);
          } else {
            const keys = provided.get(o.id) ?? o.keys;
            provided.set(o.id, keys);
            f.remove(o.id);
            m.log(o.id, keys);
          }
          for (const k of [...KEYS, 'p:r1', 'p:r2', 'p:r3', 'p:r4', 'p:r5', 'p:r6']) {
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

  test('add is false for a record already in flight, true again once it is logged', () => {
    const f = new InFlight();
    expect(f.add(provides('a', ['h:1:2']))).toBe(true);
    expect(f.add(provides('a', ['h:1:2']))).toBe(false);
    expect(f.has('p:a')).toBe(true);
    f.remove('a');
    expect(f.has('p:a')).toBe(false);
    expect(f.add(provides('a', []))).toBe(true);
    expect(f.has('p:a')).toBe(true);
  });

  test('logged releases are swept and live ones renumbered: bounded however long it runs', () => {
    const f = new InFlight();
    for (let i = 0; i < 100_000; i++) {
      f.add(provides(`r${i}`, [`h:${i % 7}:1`]));
      if (i >= 10) f.remove(`r${i - 10}`);
    }
    expect(f.size).toBe(10);
    expect(f.keyEntries).toBeLessThan(2 * 20 + 4096 + 2);
    expect(f.has('p:r99999')).toBe(true);
    expect(f.has('p:r5')).toBe(false);
    expect(f.has('h:6:1')).toBe(true);
  });

  test('a release that never reaches the log keeps only itself: the rest is still swept', () => {
    const f = new InFlight(0);
    f.add(provides('stuck', ['h:9:9']));
    for (let i = 0; i < 50_000; i++) {
      f.add(provides(`r${i}`, []));
      f.remove(`r${i}`);
    }
    expect(f.size).toBe(1);
    expect(f.keyEntries).toBeLessThan(10);
    expect(f.has('h:9:9')).toBe(true);
    expect(f.has('p:stuck')).toBe(true);
  });
});
