import fc from 'fast-check';
import { halvesToDecimal } from '../record/hash';
import { KeyTable, keyHash, keyHashOfUint64, relBitsFor } from './key-table';

describe('KeyTable', () => {
  it('finds every position of a key from any start, ascending, without repeats', () => {
    fc.assert(
      fc.property(
        // Few distinct keys so that keys repeat; 1..3 keys per record, possibly the same twice.
        fc.array(
          fc.array(fc.constantFrom<string>('a', 'b', 'c', 'd', 'e'), {
            minLength: 1,
            maxLength: 3,
          }),
          {
            minLength: 1,
            maxLength: 300,
          },
        ),
        fc.nat({ max: 310 }),
        fc.integer({ min: 1, max: 50 }),
        (recs, from, limit) => {
          const relBits = relBitsFor(recs.length);
          const pairs = recs.flatMap((ks, i) => ks.map((k): [string, number] => [k, i]));
          const t = KeyTable.build(relBits, pairs, pairs.length);
          for (const k of ['a', 'b', 'c', 'd', 'e', 'zz']) {
            const model = recs.flatMap((ks, i) => (ks.includes(k) && i >= from ? [i] : []));
            const got = t.find(keyHash(k), Math.min(from, 2 ** relBits - 1), limit);
            // Truncated hashes may add other keys' positions (the store re-checks them), but
            // never drop one of this key's.
            const exact = got.filter((i) => recs[i].includes(k));
            expect(got).toEqual([...got].sort((x, y) => x - y));
            expect(new Set(got).size).toBe(got.length);
            if (from < 2 ** relBits) expect(exact).toEqual(model.slice(0, exact.length));
            if (got.length < limit && from < 2 ** relBits) expect(exact).toEqual(model);
          }
        },
      ),
    );
  });

  it('sizes positions to the segment', () => {
    expect([1, 2, 3, 4, 5, 1024, 1025, 2 ** 20].map(relBitsFor)).toEqual([
      1, 1, 2, 2, 3, 10, 11, 20,
    ]);
    expect(keyHash('k:v')).toEqual(keyHash('k:v'));
    expect(keyHash('k:v')).not.toEqual(keyHash('k:w'));
  });

  it('hashes a uint64 spelled in decimal the same as its string (keyHashOfUint64)', () => {
    const word = fc.oneof(
      fc.constantFrom(0, 1, 999999, 1000000, 0xffffffff),
      fc.nat({ max: 0xffffffff }),
    );
    fc.assert(
      fc.property(word, word, (hi, lo) => {
        const out = new Uint32Array(2);
        keyHashOfUint64(hi, lo, out);
        expect([...out]).toEqual(keyHash(halvesToDecimal(hi, lo)));
      }),
      { numRuns: 5000 },
    );
  });
});
