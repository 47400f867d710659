import fc from 'fast-check';
import { isLosslessNumber, parse as losslessParse } from 'lossless-json';
import { ValidationError } from '../errors';
import { isJsonObject, parseJson, parseJsonBytes } from './json';

const jsonError = (f: () => unknown): ValidationError => {
  try {
    f();
  } catch (e) {
    if (e instanceof ValidationError) return e;
    throw e;
  }
  throw new Error('no error');
};

describe('parseJson', () => {
  it('keeps big integers exact as their source text', () => {
    const v = parseJson('{"seed":9489172654252433228,"prehash":[18446744073709551615,0]}') as {
      seed: unknown;
      prehash: unknown[];
    };
    expect(isLosslessNumber(v.seed)).toBe(true);
    expect(String(v.seed)).toBe('9489172654252433228');
    expect(v.prehash.map(String)).toEqual(['18446744073709551615', '0']);
  });

  it('reports malformed JSON as CHARIOTS_ERR_BAD_JSON with the position', () => {
    const e = jsonError(() => parseJson('{"tags": {"a": 1,}}'));
    expect(e.code).toBe('CHARIOTS_ERR_BAD_JSON');
    expect(e.details).toEqual({ position: expect.any(Number) });
    expect(e.message).toMatch(/^invalid JSON: .*position \d+/);
    for (const bad of ['', '{', '{"a"}', 'nul', '[1,]', '{"a":01}', '"\u0001"', '{} x']) {
      expect(jsonError(() => parseJson(bad)).code).toBe('CHARIOTS_ERR_BAD_JSON');
    }
  });

  it('refuses very deep nesting cleanly instead of overflowing the stack', () => {
    const deep = '['.repeat(100000) + ']'.repeat(100000);
    const e = jsonError(() => parseJson(deep));
    expect(e.code).toBe('CHARIOTS_ERR_BAD_JSON');
    expect(e.message).toMatch(/nesting deeper than 64/);
    expect(() => parseJson('['.repeat(64) + ']'.repeat(64))).not.toThrow();
    // brackets inside strings do not count
    expect(() => parseJson(JSON.stringify({ a: '['.repeat(1000), b: '\\"[[[[' }))).not.toThrow();
  });

  it('stores __proto__ as an own key without touching prototypes', () => {
    const v = parseJson('{"__proto__":{"polluted":true},"tags":{"__proto__":"x"}}') as Record<
      string,
      unknown
    >;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.hasOwn(v, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(v.tags as object)).toEqual(['__proto__']);
  });

  it('lets the last duplicate key win, as JSON.parse and Go do', () => {
    expect(parseJson('{"a":"x","a":"y"}')).toEqual({ a: 'y' });
  });
});

describe('parseJsonBytes', () => {
  it('decodes UTF-8 (dropping a BOM) and refuses invalid UTF-8', () => {
    expect(parseJsonBytes(Buffer.from('\ufeff{"k":"ключ"}'))).toEqual({ k: 'ключ' });
    const e = jsonError(() => parseJsonBytes(Buffer.from([0x7b, 0xff, 0x7d])));
    expect(e.code).toBe('CHARIOTS_ERR_BAD_JSON');
  });
});

describe('isJsonObject', () => {
  it('is true only for plain objects', () => {
    expect(isJsonObject({})).toBe(true);
    expect(isJsonObject([])).toBe(false);
    expect(isJsonObject(null)).toBe(false);
    expect(isJsonObject(parseJson('1'))).toBe(false);
  });

  it('gives exactly what lossless-json gives, for any JSON text or near-JSON text', () => {
    const reference = (text: string): unknown => {
      try {
        return losslessParse(text, null, { onDuplicateKey: (i) => i.newValue });
      } catch {
        return 'ERROR';
      }
    };
    const ours = (text: string): unknown => {
      try {
        return parseJson(text);
      } catch {
        return 'ERROR';
      }
    };
    const number = fc.oneof(
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }),
      fc.constantFrom(0, -0, 1e21, 9007199254740993n, 999999999999999, 1000000000000000),
    );
    // Strings that could pass for the marker the fast path gives big numbers.
    const markish = fc.constantFrom(
      '"\\u0001"',
      '"\\u00011234567890123456789"',
      '"\\\\u0001"',
      '"\\u0001x"',
    );
    const text = fc.oneof(
      fc.json(),
      // numbers spelled every way JSON allows (and some it does not), inside structures
      fc
        .array(
          fc.tuple(
            fc.oneof(
              number.map((n) => String(n)),
              fc.constantFrom('-0', '0', '-00', '00', '+1', '-', '1.', '.5'),
            ),
            fc.constantFrom('', '.0', 'e2', 'E-1', '0', ' '),
          ),
          { maxLength: 5 },
        )
        .map((ns) => `{"a":[${ns.map(([n, s]) => n + s).join(',')}],"b":{"__proto__":{"x":1}}}`),
      // numbers where keys belong (invalid JSON that quoting must not make valid)
      fc
        .tuple(number, fc.constantFrom('{', '{"a":1,'), fc.constantFrom(':1}', ':{}}', ':"x"}'))
        .map(([n, open, close]) => open + String(n) + close),
      // … also inside a subtree that a later duplicate key throws away
      number.map((n) => `[{"k":{${String(n)}:1},"k":{}}]`),
      // big numbers beside strings that spell the marker
      fc
        .tuple(number, markish, fc.boolean())
        .map(([n, m, keyed]) => (keyed ? `{${m}:${String(n)},"s":${m}}` : `[${String(n)},${m}]`)),
      // malformed: cut or spliced JSON
      fc
        .tuple(fc.json(), fc.nat(), fc.constantFrom('', ',', '01', '-', '}', '"'))
        .map(([t, at, s]) => t.slice(0, at % (t.length + 1)) + s + t.slice(at % (t.length + 1))),
    );
    fc.assert(
      fc.property(text, (t) => {
        expect(ours(t)).toEqual(reference(t));
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses a number where an object key belongs, however the number is spelled', () => {
    // Regression: the fast path quoted big numbers and fractions before JSON.parse, which
    // turned {1.5:"x"} into a valid object with an odd key; a record body went through.
    for (const t of [
      '{1.5:"x"}',
      '{12345678901234567890:1}',
      '{"seed":"5",1.5:0}',
      '{1:2}',
      '{"a":{1.5:0},"a":{}}',
    ])
      expect(() => parseJson(t)).toThrow(
        expect.objectContaining({ code: 'CHARIOTS_ERR_BAD_JSON' }),
      );
  });

  it('reads a record with only small integers through the fast path, numbers still lossless', () => {
    const v = parseJson('{"Id":"a","Host":0,"Seed":12,"Prehash":[-5,123456789012345]}') as Record<
      string,
      unknown
    >;
    expect(isLosslessNumber(v.Host)).toBe(true);
    expect(String(v.Seed)).toBe('12');
    expect((v.Prehash as unknown[]).map(String)).toEqual(['-5', '123456789012345']);
  });
});
