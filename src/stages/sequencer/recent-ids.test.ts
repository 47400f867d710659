import fc from 'fast-check';
import { RecentIds } from './recent-ids';

describe('RecentIds', () => {
  it('remembers at least the last `capacity` distinct ids added, at most 2 × capacity, never an id not added (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20 }),
        fc.array(fc.integer({ min: 0, max: 60 }).map(String), { maxLength: 300 }),
        (capacity, ids) => {
          const r = new RecentIds(capacity);
          // Model: distinct ids in order of first addition (what has not been forgotten).
          let order: string[] = [];
          for (const id of ids) {
            const known = r.has(id);
            r.add(id);
            if (!known && capacity > 0) order = [...order.filter((x) => x !== id), id];
            const newest = order.slice(-capacity);
            if (capacity === 0) expect(r.size).toBe(0);
            for (const x of newest) expect(r.has(x)).toBe(true);
            expect(r.size).toBeLessThanOrEqual(2 * capacity);
            for (let i = 0; i <= 60; i++) {
              if (r.has(String(i))) expect(ids).toContain(String(i));
            }
          }
        },
      ),
    );
  });
});
