import fc from 'fast-check';
import { DedupWindow } from './dedup-window';

/** The reference: every id with the time it was last added, exact expiry (what a Map held). */
class Model {
  readonly seen = new Map<string, number>();
  constructor(private readonly windowMs: number) {}
  has(id: string, now: number): boolean {
    const t = this.seen.get(id);
    return t !== undefined && now - t < this.windowMs;
  }
}

const ids = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'ingest-3-17', '');

describe('DedupWindow', () => {
  test('answers has() exactly as a Map of last-seen times, through expiry, deletes and rebuilds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1000, max: 100_000 }),
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('add' as const), id: ids, dt: fc.nat({ max: 30_000 }) }),
            fc.record({ op: fc.constant('delete' as const), id: ids }),
            fc.record({ op: fc.constant('tick' as const), dt: fc.nat({ max: 60_000 }) }),
          ),
          { maxLength: 80 },
        ),
        (windowMs, ops) => {
          const w = new DedupWindow(windowMs);
          const m = new Model(windowMs);
          let now = 1_764_000_000_000;
          for (const o of ops) {
            if (o.op === 'tick') {
              now += o.dt;
              w.expire(now);
            } else if (o.op === 'add') {
              // Adds are stamped at or a little before now (a batch's time, a restore's).
              w.add(o.id, now - o.dt);
              m.seen.set(o.id, now - o.dt);
            } else {
              w.delete(o.id);
              m.seen.delete(o.id);
            }
            for (const id of ['a', 'b', 'c', 'd', 'e', 'ingest-3-17', '', 'never']) {
              for (const at of [now, now + windowMs / 2, now + windowMs - 1, now + windowMs]) {
                expect(w.has(id, at)).toBe(m.has(id, at));
              }
            }
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  test('a rebuild drops expired ids and keeps the rest', () => {
    const w = new DedupWindow(16_000);
    w.add('old', 1_000_000);
    w.add('new', 1_010_000);
    expect(w.expire(1_020_000)).toBe(1);
    expect(w.size).toBe(1);
    expect(w.has('new', 1_020_000)).toBe(true);
    expect(w.has('old', 1_000_001)).toBe(false);
    // within windowMs / 16 of the last rebuild: no second pass
    expect(w.expire(1_020_500)).toBe(0);
  });

  test('the longest window the config allows (30 days) keeps exact times across rebuilds', () => {
    const day = 24 * 3600_000;
    const w = new DedupWindow(30 * day);
    const t0 = 1_764_000_000_000;
    for (let d = 0; d < 90; d++) {
      w.add(`d${d}`, t0 + d * day);
      w.expire(t0 + d * day);
      const now = t0 + d * day;
      expect(w.has(`d${d}`, now)).toBe(true);
      if (d >= 29) expect(w.has(`d${d - 29}`, now)).toBe(true);
      if (d >= 30) expect(w.has(`d${d - 30}`, now)).toBe(false);
    }
  });
});
