import fc from 'fast-check';
import { decodeIndexFile, encodeIndexFile, type SegmentIndexData } from './index-file';
import { buildSegmentKeys } from './key-table';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map(String);
const data: fc.Arbitrary<SegmentIndexData> = fc
  .array(
    fc.record({
      position: fc.nat({ max: 0xffffffff }),
      keys: fc.record({
        id: fc.string({ unit: 'binary', minLength: 1, maxLength: 128 }),
        seed: u64,
        hashes: fc.uniqueArray(u64, { maxLength: 5 }),
      }),
    }),
    { maxLength: 30 },
  )
  .chain((rs) =>
    fc.record({
      firstLid: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      segmentBytes: fc.nat(),
      lastOffset: fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }).map(String),
      positions: fc.constant(Uint32Array.from(rs.map((r) => r.position))),
      keys: fc.constant(buildSegmentKeys(rs.map((r) => r.keys))),
    }),
  );

describe('segment index file', () => {
  it('round-trips', () => {
    fc.assert(fc.property(data, (d) => expect(decodeIndexFile(encodeIndexFile(d))).toEqual(d)));
  });

  it('is refused (undefined) when truncated or when any byte changes', () => {
    fc.assert(
      fc.property(data, fc.nat(), fc.integer({ min: 1, max: 255 }), (d, pos, x) => {
        const buf = encodeIndexFile(d);
        expect(decodeIndexFile(buf.subarray(0, pos % buf.length))).toBeUndefined();
        const bad = Buffer.from(buf);
        bad[pos % bad.length] ^= x;
        expect(decodeIndexFile(bad)).toBeUndefined();
      }),
    );
  });
});
