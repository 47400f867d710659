import fc from 'fast-check';
import { DigestMap } from './digest-map';

const word = fc.oneof(fc.constantFrom(0, 1, 0xffffffff), fc.nat({ max: 0xffffffff }));
const keyArb = fc.tuple(word, word, word, word);

describe('DigestMap', () => {
  test('behaves as a Map of the four words, through growth and retain', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('set' as const), k: keyArb, v: fc.nat({ max: 1e6 }) }),
            fc.record({ op: fc.constant('retain' as const), mod: fc.integer({ min: 2, max: 5 }) }),
          ),
          { maxLength: 300 },
        ),
        (ops) => {
          const m = new DigestMap(8);
          const ref = new Map<string, number>();
          for (const o of ops) {
            if (o.op === 'set') {
              expect(m.set(...o.k, o.v)).toBe(ref.get(o.k.join(',')) ?? -1);
              ref.set(o.k.join(','), o.v);
            } else {
              // keep values not divisible by mod, halved
              const f = (v: number) => (v % o.mod === 0 ? -1 : v >> 1);
              m.retain(f);
              for (const [k, v] of [...ref]) {
                if (f(v) < 0) ref.delete(k);
                else ref.set(k, f(v));
              }
            }
            expect(m.size).toBe(ref.size);
          }
          for (const [k, v] of ref) {
            const [a, b, c, d] = k.split(',').map(Number);
            expect(m.get(a, b, c, d)).toBe(v);
          }
          expect(m.get(12345, 1, 2, 3)).toBe(ref.get('12345,1,2,3') ?? -1);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('stores the all-zero key like any other', () => {
    const m = new DigestMap();
    expect(m.get(0, 0, 0, 0)).toBe(-1);
    m.set(0, 0, 0, 0, 7);
    expect(m.get(0, 0, 0, 0)).toBe(7);
    expect(m.size).toBe(1);
  });
});
