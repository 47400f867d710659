import fc from 'fast-check';
import { completeIngest, isoAt } from './ingest';
import type { RecordInput } from './types';

describe('completeIngest', () => {
  it('is the input with id, host and receive time assigned (the spread it replaced)', () => {
    const input = fc.record(
      {
        id: fc.string({ minLength: 1, maxLength: 10 }),
        host: fc.integer({ min: 0, max: 0xffff }),
        seed: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String),
        prehash: fc.array(fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }).map(String)),
        parent: fc.array(fc.string()),
        prehost: fc.integer({ min: 1, max: 0xffff }),
        pretoid: fc.integer({ min: 1 }),
        tags: fc.dictionary(fc.string(), fc.string()),
      },
      { requiredKeys: ['host', 'seed', 'prehash', 'parent', 'tags'] },
    );
    fc.assert(
      fc.property(input, fc.integer({ min: 0, max: 4e12 }), (i, ms) => {
        const r = i as RecordInput;
        if (r.pretoid === undefined) delete r.prehost;
        const got = completeIngest(r, 7, ms, () => 'fresh');
        expect(got).toEqual({
          ...r,
          id: r.id ?? 'fresh',
          host: r.host === 0 ? 7 : r.host,
          receivedAt: new Date(ms).toISOString(),
        });
      }),
    );
  });
});

describe('isoAt', () => {
  it('answers each millisecond with its own ISO time, remembered or not', () => {
    expect(isoAt(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(isoAt(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(isoAt(1)).toBe('1970-01-01T00:00:00.001Z');
    expect(isoAt(0)).toBe('1970-01-01T00:00:00.000Z');
  });

  it('throws for an invalid time, as toISOString does', () => {
    expect(() => isoAt(NaN)).toThrow(RangeError);
  });
});
