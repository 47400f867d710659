import fc from 'fast-check';
import { Postings } from './postings';

describe('Postings', () => {
  it('pages like a sorted array per key', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 200 }),
        fc.nat({ max: 210 }),
        fc.integer({ min: 1, max: 50 }),
        (keys, after, limit) => {
          const p = new Postings();
          const model = new Map<string, number[]>();
          keys.forEach((k, i) => {
            p.add(k, i + 1);
            p.add(k, i + 1); // a record with the same tag twice is listed once
            model.set(k, [...(model.get(k) ?? []), i + 1]);
          });
          for (const k of ['a', 'b', 'c', 'd', 'zz']) {
            const all = model.get(k) ?? [];
            expect(p.count(k)).toBe(all.length);
            expect(p.page(k, after, limit)).toEqual(all.filter((l) => l > after).slice(0, limit));
          }
          expect(p.size.entries).toBe(keys.length);
        },
      ),
    );
  });
});
