import fc from 'fast-check';
import { ValidationError } from '../errors';
import { hashTag } from './hash';
import { parseJson } from './json';
import { normalizeRecord, recordByteBound, recordByteSize, type RecordForm } from './normalize';
import { DEFAULT_RECORD_LIMITS, type RecordLimits } from './types';

const L = DEFAULT_RECORD_LIMITS;
const norm = (body: string, form: RecordForm = 'http', limits: RecordLimits = L) =>
  normalizeRecord(parseJson(body), form, limits);
const codeOf = (body: string, form: RecordForm = 'http', limits: RecordLimits = L): string => {
  try {
    norm(body, form, limits);
  } catch (e) {
    if (e instanceof ValidationError) return e.code;
    throw e;
  }
  return 'accepted';
};

describe('normalizeRecord, §1 fields (http/kafka)', () => {
  it("takes GoChariots' body unchanged", () => {
    expect(norm('{"tags":{"key":"value"},"prehash":0,"seed":0}')).toEqual({
      host: 0,
      seed: '0',
      prehash: [],
      parent: [],
      tags: { key: 'value' },
    });
  });

  it('defaults everything for an empty object, and ignores unknown fields', () => {
    expect(norm('{"trace":{"a":1},"whatever":[1]}', 'kafka')).toEqual({
      host: 0,
      seed: '0',
      prehash: [],
      parent: [],
      tags: {},
    });
  });

  it('keeps big seeds and hashes exact; drops zeros; dedups in order', () => {
    const h = hashTag('k1', 'v1');
    const r = norm(`{"seed":18446744073709551615,"prehash":[${h},0,5,${h},"5","007"]}`);
    expect(r.seed).toBe('18446744073709551615');
    expect(r.prehash).toEqual([h, '5', '7']);
    expect(norm('{"prehash":[]}').prehash).toEqual([]);
  });

  it("accepts the Node library's strseed/strhash (string or array), merged with prehash", () => {
    const r = norm('{"strseed":"9489172654252433228","strhash":["1","2"],"prehash":3}');
    expect(r.seed).toBe('9489172654252433228');
    expect(r.prehash).toEqual(['3', '1', '2']);
    expect(norm('{"strhash":"42"}').prehash).toEqual(['42']);
    expect(norm('{"seed":7,"strseed":"007"}').seed).toBe('7');
    expect(codeOf('{"seed":7,"strseed":"8"}')).toBe('CHARIOTS_ERR_BAD_SEED');
  });

  it('takes the TOId variant, with 0s meaning none', () => {
    expect(norm('{"tags":{"a":"b"},"prehost":1,"pretoid":3}')).toMatchObject({
      prehost: 1,
      pretoid: 3,
    });
    for (const body of [
      '{"prehost":0,"pretoid":0}',
      '{"pretoid":0}',
      '{"prehost":0}',
      '{"prehost":2,"pretoid":0}',
    ]) {
      const r = norm(body);
      expect(r.prehost).toBeUndefined();
      expect(r.pretoid).toBeUndefined();
    }
    expect(codeOf('{"prehost":1}')).toBe('CHARIOTS_ERR_BAD_RECORD');
    expect(codeOf('{"pretoid":3}')).toBe('CHARIOTS_ERR_BAD_RECORD');
    expect(codeOf('{"prehost":0,"pretoid":3}')).toBe('CHARIOTS_ERR_BAD_RECORD');
    expect(codeOf('{"prehost":1,"pretoid":-1}')).toBe('CHARIOTS_ERR_BAD_RECORD');
    expect(codeOf('{"prehost":1,"pretoid":1.5}')).toBe('CHARIOTS_ERR_BAD_RECORD');
    expect(codeOf('{"prehost":70000,"pretoid":1}')).toBe('CHARIOTS_ERR_BAD_HOST');
  });

  it('takes the HEAD variant {id, parent, tags, trace}; an empty id means "assign one"', () => {
    const r = norm('{"id":"r-2","parent":["r-1","r-0","r-1"],"tags":{"k":"v"},"trace":"x"}');
    expect(r).toMatchObject({ id: 'r-2', parent: ['r-1', 'r-0'], tags: { k: 'v' } });
    expect(norm('{"parent":"r-1"}').parent).toEqual(['r-1']);
    expect(norm('{"id":""}').id).toBeUndefined();
  });

  it('validates host', () => {
    expect(norm('{"host":2}').host).toBe(2);
    for (const h of ['-1', '65536', '1.5', '"1"', 'true']) {
      expect(codeOf(`{"host":${h}}`)).toBe('CHARIOTS_ERR_BAD_HOST');
    }
  });

  it('accepts code-built objects with JS numbers', () => {
    expect(normalizeRecord({ seed: 5, prehash: [1n, '2'], host: 1 }, 'http', L)).toMatchObject({
      seed: '5',
      prehash: ['1', '2'],
      host: 1,
    });
  });

  it('keeps a __proto__ tag as an ordinary key', () => {
    const r = norm('{"tags":{"__proto__":"x","a":"b"}}');
    expect(Object.getPrototypeOf(r.tags)).toBe(Object.prototype);
    expect(Object.keys(r.tags)).toEqual(['__proto__', 'a']);
    expect(JSON.stringify(r.tags)).toBe('{"__proto__":"x","a":"b"}');
  });

  it('reads only own fields (no inherited "constructor" etc.)', () => {
    expect(norm('{}').id).toBeUndefined();
  });
});

describe('normalizeRecord errors, each with its code', () => {
  const small: RecordLimits = {
    ...L,
    maxTags: 2,
    maxKeyLength: 3,
    maxValueLength: 4,
    maxPrerequisites: 2,
    maxIdLength: 5,
    maxRecordBytes: 200,
  };
  it.each([
    ['[]', 'CHARIOTS_ERR_BAD_RECORD'],
    ['"x"', 'CHARIOTS_ERR_BAD_RECORD'],
    ['null', 'CHARIOTS_ERR_BAD_RECORD'],
    ['{"tags":[]}', 'CHARIOTS_ERR_BAD_TAGS'],
    ['{"tags":"k:v"}', 'CHARIOTS_ERR_BAD_TAGS'],
    ['{"tags":{"k":1}}', 'CHARIOTS_ERR_BAD_TAGS'],
    ['{"tags":{"k":null}}', 'CHARIOTS_ERR_BAD_TAGS'],
    ['{"tags":{"":"v"}}', 'CHARIOTS_ERR_BAD_TAGS'],
    ['{"tags":{"kkkk":"v"}}', 'CHARIOTS_ERR_BAD_TAGS'],
    ['{"tags":{"k":"vvvvv"}}', 'CHARIOTS_ERR_BAD_TAGS'],
    ['{"tags":{"k":"\\ud800"}}', 'CHARIOTS_ERR_BAD_TAGS'],
    ['{"tags":{"a":"","b":"","c":""}}', 'CHARIOTS_ERR_TOO_MANY_TAGS'],
    ['{"seed":-1}', 'CHARIOTS_ERR_BAD_SEED'],
    ['{"seed":1e3}', 'CHARIOTS_ERR_BAD_SEED'],
    ['{"strseed":"abc"}', 'CHARIOTS_ERR_BAD_SEED'],
    ['{"seed":18446744073709551616}', 'CHARIOTS_ERR_BAD_SEED'],
    ['{"prehash":1.5}', 'CHARIOTS_ERR_BAD_HASH'],
    ['{"prehash":[1,"x"]}', 'CHARIOTS_ERR_BAD_HASH'],
    ['{"strhash":[""]}', 'CHARIOTS_ERR_BAD_HASH'],
    ['{"prehash":{}}', 'CHARIOTS_ERR_BAD_HASH'],
    ['{"prehash":[1,2,3]}', 'CHARIOTS_ERR_TOO_MANY_PREREQUISITES'],
    ['{"prehash":[1,2],"parent":"p"}', 'CHARIOTS_ERR_TOO_MANY_PREREQUISITES'],
    ['{"prehash":1,"prehost":1,"pretoid":1,"parent":"p"}', 'CHARIOTS_ERR_TOO_MANY_PREREQUISITES'],
    ['{"id":"toolong"}', 'CHARIOTS_ERR_BAD_ID'],
    ['{"id":"a\\nb"}', 'CHARIOTS_ERR_BAD_ID'],
    ['{"id":"a\\u0000"}', 'CHARIOTS_ERR_BAD_ID'],
    ['{"id":7}', 'CHARIOTS_ERR_BAD_ID'],
    ['{"parent":""}', 'CHARIOTS_ERR_BAD_PARENT'],
    ['{"parent":[1]}', 'CHARIOTS_ERR_BAD_PARENT'],
    ['{"parent":"toolong"}', 'CHARIOTS_ERR_BAD_PARENT'],
    ['{"parent":{}}', 'CHARIOTS_ERR_BAD_PARENT'],
  ])('%s → %s', (body, code) => {
    expect(codeOf(body, 'http', small)).toBe(code);
  });

  it('measures the serialized size for CHARIOTS_ERR_RECORD_TOO_LARGE', () => {
    const body = JSON.stringify({ tags: { k: 'é'.repeat(100) } });
    const size = Buffer.byteLength(JSON.stringify(norm(body)));
    expect(codeOf(body, 'http', { ...L, maxRecordBytes: size })).toBe('accepted');
    expect(codeOf(body, 'http', { ...L, maxRecordBytes: size - 1 })).toBe(
      'CHARIOTS_ERR_RECORD_TOO_LARGE',
    );
    expect(() => norm(body, 'http', { ...L, maxRecordBytes: 100 })).toThrow(
      `record is ${size} bytes`,
    );
  });

  it('bounds the serialized size from above without serializing (any strings, any counts)', () => {
    const str = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'grapheme' }),
      // the longest spellings: \u0001 is 6 bytes for one unit
      fc.string({ unit: fc.constantFrom('\u0001', '\ud800', '"', '\u20ac'), minLength: 40 }),
    );
    const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String);
    const toid = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
    fc.assert(
      fc.property(
        fc.record(
          {
            id: str,
            host: toid,
            seed: u64,
            prehash: fc.array(u64),
            parent: fc.array(str),
            prehost: toid,
            pretoid: toid,
            tags: fc.dictionary(str, str),
          },
          { requiredKeys: ['host', 'seed', 'prehash', 'parent', 'tags'] },
        ),
        (rec) => {
          expect(recordByteBound(rec)).toBeGreaterThanOrEqual(recordByteSize(rec));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('names the field in the message', () => {
    expect(() => norm('{"prehash":[1,"x"]}')).toThrow(/prehash\[1\]/);
    expect(() => norm('{"tags":{"k":1}}')).toThrow(/tags\["k"\].*string/);
    expect(() => norm('{"seed":1,"strseed":"2"}')).toThrow(/strseed.*contradicts seed/);
  });
});

describe('normalizeRecord, Go-style tcp form', () => {
  it("takes GoChariots' TCP record", () => {
    expect(norm('{"Host":0,"Tags":{"key":"value"},"Pre":{"Hash":0},"Seed":0}', 'tcp')).toEqual({
      host: 0,
      seed: '0',
      prehash: [],
      parent: [],
      tags: { key: 'value' },
    });
  });

  it('matches keys case-insensitively, as Go does', () => {
    const r = norm(
      '{"HOST":1,"tags":{"K":"v"},"pre":{"hash":[9489172654252433228,0]},"sEeD":18446744073709551615,"lid":9,"TimeStamp":1,"ID":"x","parent":["p"]}',
      'tcp',
    );
    expect(r).toEqual({
      id: 'x',
      host: 1,
      seed: '18446744073709551615',
      prehash: ['9489172654252433228'],
      parent: ['p'],
      tags: { K: 'v' },
    });
  });

  it('lets the last matching key win; folds ſ and the Kelvin sign like Go; not dotless ı', () => {
    expect(norm('{"Host":1,"host":2}', 'tcp').host).toBe(2);
    expect(norm('{"host":2,"Host":1}', 'tcp').host).toBe(1);
    expect(norm('{"\u017feed":5}', 'tcp').seed).toBe('5');
    expect(norm('{"\u0131d":"x"}', 'tcp').id).toBeUndefined();
  });

  it('ignores the §1 lower-case-only names that are not Go fields', () => {
    expect(norm('{"prehash":5,"strseed":"3"}', 'tcp')).toMatchObject({ prehash: [], seed: '0' });
  });

  it('takes TOId mode Pre.Host/Pre.TOId', () => {
    expect(norm('{"Pre":{"Host":2,"TOId":4}}', 'tcp')).toMatchObject({ prehost: 2, pretoid: 4 });
  });

  it('refuses bad Go records with the right codes', () => {
    expect(codeOf('{"Pre":5}', 'tcp')).toBe('CHARIOTS_ERR_BAD_RECORD');
    expect(codeOf('{"Pre":{"Hash":-1}}', 'tcp')).toBe('CHARIOTS_ERR_BAD_HASH');
    expect(codeOf('{"Seed":"x"}', 'tcp')).toBe('CHARIOTS_ERR_BAD_SEED');
    expect(codeOf('{"Tags":{"k":1}}', 'tcp')).toBe('CHARIOTS_ERR_BAD_TAGS');
    expect(() => norm('{"Pre":{"Hash":[1,-2]}}', 'tcp')).toThrow(/Pre\.Hash\[1\]/);
  });
});
