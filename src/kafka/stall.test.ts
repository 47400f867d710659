import fc from 'fast-check';
import { StallDetector } from './stall';

const STALL_MS = 10_000;

function detector() {
  let t = 1_000_000;
  const d = new StallDetector(STALL_MS, () => t);
  return { d, advance: (ms: number) => (t += ms) };
}
const ends = (...e: number[]) => new Map(e.map((v, p) => [p, BigInt(v)]));
const at = (...pos: number[]) => pos.map((v, partition) => ({ partition, position: BigInt(v) }));

describe('StallDetector', () => {
  it('turns not ready once records wait and no position moved for stallMs, ready again on progress', () => {
    const { d, advance } = detector();
    d.observe(ends(100, 50), at(40, 50));
    advance(STALL_MS - 1);
    d.observe(ends(120, 50), at(40, 50));
    expect(d.verdict().ready).toBe(true);
    advance(1);
    const v = d.verdict();
    expect(v.ready).toBe(false);
    expect(v.reason).toMatch(/79 records waiting on partition\(s\) 0 .*no progress for 10000 ms/);
    advance(60_000);
    expect(d.verdict().ready).toBe(false);
    d.observe(ends(120, 50), at(41, 50));
    expect(d.verdict()).toEqual({ ready: true });
  });

  it('an idle stage (nothing waiting, or only a transaction marker per partition) is never stuck', () => {
    const { d, advance } = detector();
    d.observe(ends(10, 20), at(10, 19));
    advance(10 * STALL_MS);
    d.observe(ends(10, 20), at(10, 19));
    expect(d.verdict().ready).toBe(true);
  });

  it('a stage without partitions (a standby) is ready', () => {
    const { d, advance } = detector();
    d.observe(ends(100), []);
    advance(10 * STALL_MS);
    expect(d.verdict().ready).toBe(true);
  });

  it('property: never stuck while some position moves at least every stallMs', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: STALL_MS - 1 }), fc.boolean()), {
          minLength: 1,
          maxLength: 60,
        }),
        (steps) => {
          const { d, advance } = detector();
          let pos = 0;
          let sinceMove = 0;
          for (const [ms, moves] of steps) {
            advance(ms);
            sinceMove += ms;
            if (moves || sinceMove + STALL_MS / 2 >= STALL_MS) {
              pos++;
              sinceMove = 0;
            }
            d.observe(ends(pos + 1000), at(pos));
            if (!d.verdict().ready) return false;
          }
          return true;
        },
      ),
    );
  });
});
