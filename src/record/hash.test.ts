import fc from 'fast-check';
import fnv from 'fnv-plus';
import {
  fnv1a64,
  fnv1a64Decimal,
  fnv1a64Halves,
  halvesToDecimal,
  hashTag,
  hashTagBigInt,
  hashTagHalves,
} from './hash';

/** Independent reference: FNV-1a 64 with BigInt, one byte at a time, over TextEncoder's UTF-8. */
function reference(s: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(s)) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}

/**
 * Unicode strings (no unpaired surrogates) with code points spread over every UTF-8 length;
 * faster than fc.string({ unit: 'binary' }) and better at hitting 2/3/4-byte sequences.
 */
const unicodeString = (maxLength = 60): fc.Arbitrary<string> =>
  fc
    .array(
      fc.oneof(
        fc.integer({ min: 0, max: 0x7f }),
        fc.integer({ min: 0x80, max: 0x7ff }),
        fc.integer({ min: 0x800, max: 0xffff }).filter((c) => c < 0xd800 || c > 0xdfff),
        fc.integer({ min: 0x10000, max: 0x10ffff }),
      ),
      { maxLength },
    )
    .map((cps) => String.fromCodePoint(...cps));

describe('FNV-1a 64', () => {
  it('matches the published vectors', () => {
    expect(fnv1a64Decimal('')).toBe('14695981039346656037');
    expect(fnv1a64Decimal('a')).toBe('12638187200555641996');
    expect(fnv1a64('foobar')).toBe(0x85944171f73967e8n); // FNV test suite
    expect(hashTag('k1', 'v1')).toBe('9489172654252433228'); // SPEC §1
    expect(hashTagBigInt('k1', 'v1')).toBe(9489172654252433228n);
  });

  it('hashes the UTF-8 bytes of non-ASCII text', () => {
    const s = 'ключ:値';
    expect(Buffer.byteLength(s)).toBe(12);
    expect(hashTag('ключ', '値')).toBe(reference(s).toString());
    expect(hashTag('ключ', '値')).toBe('5339149044005750432'); // computed once with reference()
    expect(hashTag('emoji', '😀')).toBe(reference('emoji:😀').toString());
  });

  it('hashes raw bytes the same as the string they encode', () => {
    expect(fnv1a64(Buffer.from('k1:v1'))).toBe(9489172654252433228n);
  });

  it('equals the BigInt reference on arbitrary Unicode strings (short and long)', () => {
    fc.assert(
      fc.property(unicodeString(20), unicodeString(), (k, v) => {
        expect(hashTagBigInt(k, v)).toBe(reference(`${k}:${v}`));
        expect(hashTag(k, v)).toBe(reference(`${k}:${v}`).toString());
      }),
    );
    const long = 'é'.repeat(22000); // past the scratch buffer
    expect(fnv1a64(long)).toBe(reference(long));
  });

  it('agrees with fnv-plus in its UTF-8 mode; its default mode is not UTF-8', () => {
    // fnv-plus hash(s, 64) is FNV-1a 64, but by default over UTF-16 code units, not UTF-8 bytes.
    expect(fnv.hash('k1:v1', 64).dec()).toBe('9489172654252433228');
    expect(fnv.hash('ключ:値', 64).dec()).not.toBe(hashTag('ключ', '値'));
    fnv.useUTF8(true);
    try {
      fc.assert(
        fc.property(unicodeString(), (s) => {
          expect(fnv.hash(s, 64).dec()).toBe(fnv1a64Decimal(s));
        }),
      );
    } finally {
      fnv.useUTF8(false);
    }
  });

  it('encodes an unpaired surrogate like Buffer/TextEncoder (U+FFFD)', () => {
    expect(fnv1a64('\ud800')).toBe(fnv1a64('\ufffd'));
  });

  it('converts 64-bit halves to decimal exactly (no BigInt)', () => {
    const u32 = fc.integer({ min: 0, max: 0xffffffff });
    const edge = fc.constantFrom(0, 1, 999999, 1000000, 0xffffffff);
    fc.assert(
      fc.property(fc.oneof(u32, edge), fc.oneof(u32, edge), (hi, lo) => {
        expect(halvesToDecimal(hi, lo)).toBe(((BigInt(hi) << 32n) | BigInt(lo)).toString());
      }),
      { numRuns: 2000 },
    );
    expect(halvesToDecimal(0xffffffff, 0xffffffff)).toBe('18446744073709551615');
    expect(halvesToDecimal(0, 0)).toBe('0');
  });

  it('gives the same hash as 32-bit halves, tags hashed without joining key and value', () => {
    const halves = (n: bigint) => [Number(n >> 32n), Number(n & 0xffffffffn)];
    fc.assert(
      fc.property(unicodeString(20), unicodeString(), (k, v) => {
        expect(hashTagHalves(k, v)).toEqual(halves(reference(`${k}:${v}`)));
        expect(fnv1a64Halves(v)).toEqual(halves(reference(v)));
      }),
    );
    // ASCII keys and values take their own path (char codes are the bytes): control
    // characters, DEL (0x7f) and the first non-ASCII code unit (0x80) at any position.
    const ascii = fc.string({ unit: 'binary-ascii', maxLength: 40 });
    const nearAscii = fc.string({
      unit: fc.constantFrom('a', ':', '\u0000', '\u007f', '\u0080', '\u00ff', 'z'),
      maxLength: 12,
    });
    fc.assert(
      fc.property(fc.oneof(ascii, nearAscii), fc.oneof(ascii, nearAscii), (k, v) => {
        expect(hashTagHalves(k, v)).toEqual(halves(reference(`${k}:${v}`)));
      }),
      { numRuns: 2000 },
    );
    // Unpaired surrogates at the join: each becomes U+FFFD alone, as in the joined string.
    expect(hashTagHalves('a\ud800', '\udc00b')).toEqual(halves(fnv1a64('a\ud800:\udc00b')));
    expect(hashTagHalves('', '')).toEqual(halves(reference(':')));
    const long = 'é'.repeat(22000); // past the scratch buffer
    expect(hashTagHalves('k', long)).toEqual(halves(reference(`k:${long}`)));
  });
});
