import fc from 'fast-check';
import { LosslessNumber } from 'lossless-json';
import { ValidationError } from '../errors';
import { parseJson } from './json';
import { bigIntToUint64, isCanonicalUint64, parseUint64, uint64Halves, UINT64_MAX } from './uint64';

const num = (text: string): LosslessNumber => new LosslessNumber(text);
const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    if (e instanceof ValidationError) return e.code;
    throw e;
  }
  return undefined;
};

describe('parseUint64', () => {
  it.each([
    ['0', '0'],
    [String(2 ** 53 - 1), '9007199254740991'],
    ['9007199254740992', '9007199254740992'],
    ['9007199254740993', '9007199254740993'],
    ['9489172654252433228', '9489172654252433228'],
    ['18446744073709551615', '18446744073709551615'],
  ])('accepts JSON number %s and the same decimal string', (text, want) => {
    expect(parseUint64(num(text), 'seed', 'CHARIOTS_ERR_BAD_SEED')).toBe(want);
    expect(parseUint64(text, 'seed', 'CHARIOTS_ERR_BAD_SEED')).toBe(want);
  });

  it('reads numbers from the lossless parser exactly', () => {
    const v = parseJson('{"seed":9489172654252433228,"h":18446744073709551615}') as Record<
      string,
      unknown
    >;
    expect(parseUint64(v.seed, 'seed', 'CHARIOTS_ERR_BAD_SEED')).toBe('9489172654252433228');
    expect(parseUint64(v.h, 'prehash', 'CHARIOTS_ERR_BAD_HASH')).toBe(UINT64_MAX);
  });

  it('canonicalizes leading zeros in strings', () => {
    expect(parseUint64('007', 'seed', 'CHARIOTS_ERR_BAD_SEED')).toBe('7');
    expect(parseUint64('0000', 'seed', 'CHARIOTS_ERR_BAD_SEED')).toBe('0');
    expect(parseUint64('00018446744073709551615', 'seed', 'CHARIOTS_ERR_BAD_SEED')).toBe(
      UINT64_MAX,
    );
  });

  it('accepts bigints and safe JS integers (code-built input)', () => {
    expect(parseUint64(2n ** 64n - 1n, 'seed', 'CHARIOTS_ERR_BAD_SEED')).toBe(UINT64_MAX);
    expect(parseUint64(42, 'seed', 'CHARIOTS_ERR_BAD_SEED')).toBe('42');
  });

  const refused: Array<[string, unknown]> = [
    ['2^64 number', num('18446744073709551616')],
    ['2^64 string', '18446744073709551616'],
    ['huge string', '9'.repeat(30)],
    ['-1 number', num('-1')],
    ['-0 number', num('-0')],
    ['-1 string', '-1'],
    ['1.5', num('1.5')],
    ['1.0', num('1.0')],
    ['1e3', num('1e3')],
    ['1E+3', num('1E+3')],
    ['"1.0"', '1.0'],
    ['"1e3"', '1e3'],
    ['"abc"', 'abc'],
    ['""', ''],
    ['"+1"', '+1'],
    ['" 1"', ' 1'],
    ['"1 "', '1 '],
    ['"0x10"', '0x10'],
    ['fullwidth digit', '１'],
    ['null', null],
    ['true', true],
    ['object', {}],
    ['array', ['1']],
    ['unsafe JS number', 2 ** 60],
    ['fractional JS number', 1.5],
    ['negative JS number', -1],
    ['NaN', NaN],
    ['negative bigint', -1n],
    ['2^64 bigint', 2n ** 64n],
  ];
  it.each(refused)('refuses %s with the field code', (_name, value) => {
    expect(codeOf(() => parseUint64(value, 'seed', 'CHARIOTS_ERR_BAD_SEED'))).toBe(
      'CHARIOTS_ERR_BAD_SEED',
    );
    expect(codeOf(() => parseUint64(value, 'strhash', 'CHARIOTS_ERR_BAD_HASH'))).toBe(
      'CHARIOTS_ERR_BAD_HASH',
    );
  });

  it('names the field and a truncated value in the message', () => {
    const long = 'x'.repeat(500);
    try {
      parseUint64(long, 'strseed', 'CHARIOTS_ERR_BAD_SEED');
      throw new Error('not refused');
    } catch (e) {
      const err = e as ValidationError;
      expect(err.message).toMatch(/^strseed must be an unsigned 64-bit integer/);
      expect(err.message).toContain('"xxxx');
      expect(err.message.length).toBeLessThan(300);
      expect(err.details).toMatchObject({ field: 'strseed' });
    }
    expect(() => parseUint64(num('1e3'), 'prehash[2]', 'CHARIOTS_ERR_BAD_HASH')).toThrow(
      /prehash\[2\].*got 1e3.*no fraction or exponent/,
    );
  });

  const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });

  it('round-trips every uint64 through JSON-number text and decimal strings', () => {
    fc.assert(
      fc.property(u64, fc.nat({ max: 5 }), (n, zeros) => {
        const s = n.toString();
        const fromJson = (parseJson(`{"seed":${s}}`) as Record<string, unknown>).seed;
        expect(parseUint64(fromJson, 'seed', 'CHARIOTS_ERR_BAD_SEED')).toBe(s);
        expect(parseUint64('0'.repeat(zeros) + s, 'seed', 'CHARIOTS_ERR_BAD_SEED')).toBe(s);
        expect(isCanonicalUint64(s)).toBe(true);
        expect(bigIntToUint64(n)).toBe(s);
      }),
    );
  });

  it('refuses every value ≥ 2^64', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 2n ** 64n, max: 2n ** 80n }), (n) => {
        expect(codeOf(() => parseUint64(n.toString(), 'seed', 'CHARIOTS_ERR_BAD_SEED'))).toBe(
          'CHARIOTS_ERR_BAD_SEED',
        );
        expect(codeOf(() => parseUint64(num(n.toString()), 'seed', 'CHARIOTS_ERR_BAD_SEED'))).toBe(
          'CHARIOTS_ERR_BAD_SEED',
        );
      }),
    );
  });
});

describe('isCanonicalUint64', () => {
  it.each(['', '01', '-1', '1.0', '18446744073709551616', ' 1'])('rejects %p', (s) => {
    expect(isCanonicalUint64(s)).toBe(false);
  });
  it('rejects non-strings', () => expect(isCanonicalUint64(1)).toBe(false));
});

describe('uint64Halves', () => {
  const halves = (s: string, from = 0, to = s.length): [number, number] | undefined => {
    const out = new Uint32Array(2);
    return uint64Halves(s, from, to, out, 0) ? [out[0], out[1]] : undefined;
  };
  const split = (n: bigint): [number, number] => [Number(n >> 32n), Number(n & 0xffffffffn)];

  it('splits every canonical uint64 exactly', () => {
    for (const n of [0n, 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 64n - 1n])
      expect(halves(n.toString())).toEqual(split(n));
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (n) => {
        expect(halves(n.toString())).toEqual(split(n));
        expect(halves(`h:${n}:x`, 2, 2 + n.toString().length)).toEqual(split(n));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses what is not canonical', () => {
    for (const s of ['', '007', '00', '-1', '1a', ' 1', '18446744073709551616', '1'.repeat(21)])
      expect(halves(s)).toBeUndefined();
    fc.assert(
      fc.property(fc.string({ maxLength: 22 }), (s) => {
        expect(halves(s) !== undefined).toBe(isCanonicalUint64(s));
      }),
      { numRuns: 2000 },
    );
  });
});
