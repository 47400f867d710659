import fc from 'fast-check';
import { goFields, goFold } from './goKeys';

const NAMES = ['Id', 'Host', 'Tags', 'Pre', 'Seed', 'Parent', 'LId', 'Timestamp'] as const;

/** The matching rule as first written: every name folded on every call. */
function reference(obj: Record<string, unknown>, names: readonly string[]) {
  const byFold = new Map<string, string>();
  for (const n of names) byFold.set(goFold(n), n);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) {
    const field = names.includes(key) ? key : byFold.get(goFold(key));
    if (field !== undefined) out[field] = obj[key];
  }
  return out;
}

/** Keys that fold onto a field name (case changes, ſ for s, Kelvin sign for k), or not. */
const keyArb = fc.oneof(
  fc.constantFrom(...NAMES),
  fc
    .tuple(fc.constantFrom(...NAMES), fc.array(fc.boolean(), { minLength: 9, maxLength: 9 }))
    .map(([name, flips]) =>
      [...name]
        .map((c, i) => (flips[i] ? (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) : c))
        .join('')
        .replace(/s/g, (c) => (flips[8] ? '\u017f' : c))
        .replace(/k/gi, (c) => (flips[7] ? '\u212a' : c)),
    ),
  fc.string({ maxLength: 8 }),
  fc.constantFrom('ıd', 'İd', '__proto__', '0', 'hoſt'),
);

describe('goFields', () => {
  it('picks the same fields as matching every key against freshly folded names', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(keyArb, fc.integer()), { maxLength: 12 }), (pairs) => {
        const obj: Record<string, unknown> = {};
        for (const [k, v] of pairs)
          Object.defineProperty(obj, k, {
            value: v,
            enumerable: true,
            configurable: true,
            writable: true,
          });
        expect(goFields(obj, NAMES)).toEqual(reference(obj, NAMES));
      }),
      { numRuns: 2000 },
    );
  });

  it('lets the last of several matching keys win, as Go does', () => {
    expect(goFields({ Host: 1, host: 2 }, NAMES)).toEqual({ Host: 2 });
    expect(goFields({ ſeed: 5 }, NAMES)).toEqual({ Seed: 5 });
    expect(goFields({ ıd: 'x' }, NAMES)).toEqual({});
  });
});
