import fc from 'fast-check';
import { DigestSet } from './digest-set';

type Key = [number, number, number, number];
const u32 = fc.oneof(
  fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff),
  fc.integer({ min: 0, max: 0xffffffff }),
);
const flip = ([a, b, c, d]: Key, bit: number): Key => {
  const k: Key = [a, b, c, d];
  k[bit >> 5] = (k[bit >> 5] ^ (1 << (bit & 31))) >>> 0;
  return k;
};

/** Adds and queries over a pool of keys, their one-bit neighbours and the all-zero key. */
const ops: fc.Arbitrary<Array<{ add: boolean; key: Key }>> = fc
  .array(fc.tuple(u32, u32, u32, u32), { minLength: 1, maxLength: 30 })
  .chain((pool) =>
    fc.array(
      fc.record({
        add: fc.boolean(),
        key: fc.oneof(
          fc.constantFrom(...pool),
          fc
            .tuple(fc.constantFrom(...pool), fc.integer({ min: 0, max: 127 }))
            .map(([k, bit]) => flip(k, bit)),
          fc.constant<Key>([0, 0, 0, 0]),
        ),
      }),
      { maxLength: 200 },
    ),
  );

describe('DigestSet', () => {
  it('answers like a Set of the keys, for any adds and queries', () => {
    fc.assert(
      fc.property(ops, (seq) => {
        const set = new DigestSet(8);
        const ref = new Set<string>();
        for (const { add, key } of seq) {
          const s = key.join(',');
          const answer = add ? set.add(...key) : set.has(...key);
          const expected = add ? !ref.has(s) : ref.has(s);
          if (add) ref.add(s);
          if (answer !== expected || set.size !== ref.size) return false;
        }
        return seq.every(({ key }) => set.has(...key) === ref.has(key.join(',')));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps every key across many rehashes, and none it was not given', () => {
    const set = new DigestSet(8);
    const n = 50_000;
    // Keys that differ in one bit of one word, the shape of consecutive seeds and hashes.
    const key = (i: number): Key => [0, i, 0xcbf29ce4, i * 2];
    const wrong: number[] = [];
    for (let i = 0; i < n; i++) if (!set.add(...key(i))) wrong.push(i);
    expect(set.size).toBe(n);
    expect(set.bytes).toBe(131072 * 16); // 2^17 slots: 50 000 / 2^16 > 0.75
    for (let i = 0; i < n; i++) {
      if (!set.has(...key(i)) || set.add(...key(i)) || set.has(...flip(key(i), 127))) wrong.push(i);
    }
    expect(wrong).toEqual([]);
    expect(set.has(...key(n))).toBe(false);
  });

  it('takes words as uint32 whatever their sign', () => {
    const set = new DigestSet();
    set.add(-1, 1, 2, 3);
    expect(set.has(0xffffffff, 1, 2, 3)).toBe(true);
  });
});
