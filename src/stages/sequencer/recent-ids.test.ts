import fc from 'fast-check';
import { RecentIds } from './recent-ids';

describe('RecentIds', () => {
  it('remembers exactly the last `capacity` distinct ids added (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20 }),
        fc.array(fc.integer({ min: 0, max: 40 }).map(String), { maxLength: 200 }),
        (capacity, ids) => {
          const r = new RecentIds(capacity);
          // Model: distinct ids in order of first addition, the newest `capacity` kept.
          let model: string[] = [];
          for (const id of ids) {
            r.add(id);
            if (capacity > 0 && !model.includes(id)) model = [...model, id].slice(-capacity);
          }
          expect(r.size).toBe(model.length);
          for (let i = 0; i <= 40; i++) expect(r.has(String(i))).toBe(model.includes(String(i)));
        },
      ),
    );
  });
});
