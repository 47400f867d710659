import fc from 'fast-check';
import { ActiveIndex, KINDS } from './active-index';
import { keyHash } from './key-table';
import { recordKeys as keysOfRecord, type RecordKeys } from './keys';
import type { LogRecord } from '../record';

const key = fc.constantFrom('a', 'b', 'c', '18446744073709551615', '7');
const recordKeys: fc.Arbitrary<RecordKeys> = fc.record({
  id: fc.string({ maxLength: 6 }),
  seed: key,
  hashes: fc.uniqueArray(key, { maxLength: 3 }),
});

describe('ActiveIndex', () => {
  it('pages like a model, restores from its snapshot, and seals into equivalent tables', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.array(recordKeys, { maxLength: 120 }),
        fc.nat({ max: 130 }),
        fc.integer({ min: 1, max: 40 }),
        (firstLid, recs, skip, limit) => {
          const x = new ActiveIndex(firstLid);
          recs.forEach((r) => x.add(r));
          const restored = ActiveIndex.restore(firstLid, recs.length, x.snapshot());
          const sealed = x.seal();
          const after = firstLid - 1 + skip;
          const keysOf = (r: RecordKeys, k: (typeof KINDS)[number]) =>
            k === 'ids' ? [r.id] : k === 'seeds' ? [r.seed] : r.hashes;
          for (const kind of KINDS)
            for (const k of ['a', 'b', 'c', '7', '18446744073709551615', '', 'zz']) {
              const model = recs.flatMap((r, i) =>
                keysOf(r, kind).includes(k) && firstLid + i > after ? [firstLid + i] : [],
              );
              const got = x.page(kind, k, after, limit);
              // Candidates may include other keys' records (hash prefixes), never miss one.
              const exact = got.filter((l) => keysOf(recs[l - firstLid], kind).includes(k));
              expect(exact).toEqual(model.slice(0, exact.length));
              if (got.length < limit) expect(exact).toEqual(model);
              expect(restored.page(kind, k, after, limit)).toEqual(got);
              const fromSealed = sealed[kind]
                .find(keyHash(k), Math.max(0, after + 1 - firstLid), 1000)
                .map((r) => firstLid + r)
                .filter((l) => keysOf(recs[l - firstLid], kind).includes(k));
              expect(fromSealed).toEqual(model);
            }
        },
      ),
    );
  });

  it('indexes a record by addRecord exactly as by add(recordKeys(record))', () => {
    const text = fc.oneof(fc.constantFrom('a', 'b:c', 'a:b', 'c', ''), fc.string({ maxLength: 8 }));
    const rec = fc.record({
      id: fc.string({ minLength: 1, maxLength: 12 }),
      seed: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String),
      tags: fc.dictionary(text, text, { maxKeys: 6 }),
    });
    fc.assert(
      fc.property(fc.array(rec, { maxLength: 40 }), (recs) => {
        const a = new ActiveIndex(1);
        const b = new ActiveIndex(1);
        for (const r of recs) {
          a.add(keysOfRecord(r as unknown as LogRecord));
          b.addRecord(r as unknown as LogRecord);
        }
        expect(b.count).toBe(a.count);
        const sa = a.snapshot();
        const sb = b.snapshot();
        for (const kind of KINDS) expect([...sb[kind]]).toEqual([...sa[kind]]);
      }),
      { numRuns: 300 },
    );
  });
});
