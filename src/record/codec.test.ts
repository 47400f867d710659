import fc from 'fast-check';
import { PoisonMessageError, ValidationError } from '../errors';
import {
  decodeIngest,
  decodeLog,
  encodeIngest,
  encodeLog,
  encodeLogText,
  isV1,
  toPublicJson,
} from './codec';
import { parseExternalIngest, type ExternalIngestContext } from './external';
import { DEFAULT_RECORD_LIMITS, type IngestRecord, type LogRecord } from './types';

const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((n) => n.toString());
// Characters that stress JSON escaping and every UTF-8 length.
const text = fc.string({
  unit: fc.constantFrom('a', 'Z', 'é', '値', '😀', '"', '\\', '\n', '\u0000', ':'),
});
const id = fc.string({ minLength: 1, maxLength: 20 });
const iso = fc
  .date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true })
  .map((d) => d.toISOString());
const ingestArb: fc.Arbitrary<IngestRecord> = fc
  .record({
    id,
    host: fc.integer({ min: 0, max: 0xffff }),
    seed: u64,
    prehash: fc.uniqueArray(u64, { maxLength: 5 }),
    parent: fc.uniqueArray(id, { maxLength: 3 }),
    tags: fc.dictionary(text, text, {
      maxKeys: 5,
    }),
    receivedAt: iso,
    origin: fc.option(
      fc.record({ prehost: fc.integer({ min: 1, max: 0xffff }), pretoid: fc.integer({ min: 1 }) }),
      {
        nil: undefined,
      },
    ),
  })
  .map(({ origin, ...r }) => ({ ...r, ...origin }));
const logArb: fc.Arbitrary<LogRecord> = fc
  .tuple(ingestArb, fc.integer({ min: 1 }), fc.integer({ min: 1 }), iso)
  .map(([r, lid, toid, appendedAt]) => ({ ...r, lid, toid, appendedAt }));

const ctx: ExternalIngestContext = {
  limits: DEFAULT_RECORD_LIMITS,
  now: new Date('2026-01-02T03:04:05.006Z'),
  newId: () => 'generated-id',
  localDcId: 3,
};

describe('internal codec', () => {
  it('round-trips ingest records', () => {
    fc.assert(fc.property(ingestArb, (r) => expect(decodeIngest(encodeIngest(r))).toEqual(r)));
  });

  it('round-trips log records', () => {
    fc.assert(fc.property(logArb, (r) => expect(decodeLog(encodeLog(r))).toEqual(r)));
  });

  it('tells a Chariots v1 value by its first bytes', () => {
    expect(isV1(encodeIngest(fc.sample(ingestArb, 1)[0]))).toBe(true);
    for (const other of ['', '{"v":1', '{"v":2,"id":"a"}', '{"id":"a","v":1,', ' {"v":1,'])
      expect(isV1(Buffer.from(other))).toBe(false);
  });

  it('spells an ingest record in the documented field order, with or without origin and remote', () => {
    fc.assert(
      fc.property(ingestArb, fc.option(fc.integer({ min: 1 }), { nil: undefined }), (r0, toid) => {
        const r: IngestRecord =
          toid === undefined ? r0 : { ...r0, remote: { toid, clock: { 2: toid } } };
        const { id, host, seed, prehash, parent, tags, receivedAt, remote } = r;
        const origin = r.pretoid === undefined ? {} : { prehost: r.prehost, pretoid: r.pretoid };
        const expected = { v: 1, id, host, seed, prehash, parent, ...origin, tags, receivedAt };
        expect(encodeIngest(r).toString()).toBe(
          JSON.stringify(remote ? { ...expected, remote } : expected),
        );
      }),
    );
  });

  it('spells a log record as v 1 followed by its public JSON, with or without prehost/pretoid', () => {
    fc.assert(
      fc.property(logArb, (r) =>
        expect(encodeLogText(r)).toBe(JSON.stringify({ v: 1, ...toPublicJson(r) })),
      ),
    );
  });

  it('writes the documented field order, uint64s as strings', () => {
    const r: LogRecord = {
      id: 'a',
      host: 1,
      seed: '18446744073709551615',
      prehash: ['9489172654252433228'],
      parent: [],
      prehost: 2,
      pretoid: 5,
      tags: { k1: 'v1' },
      receivedAt: 'R',
      lid: 7,
      toid: 4,
      appendedAt: 'A',
    };
    expect(encodeLog(r).toString()).toBe(
      '{"v":1,"lid":7,"toid":4,"host":1,"id":"a","seed":"18446744073709551615","prehash":["9489172654252433228"],' +
        '"parent":[],"prehost":2,"pretoid":5,"tags":{"k1":"v1"},"receivedAt":"R","appendedAt":"A"}',
    );
    expect(encodeIngest(r).toString()).toBe(
      '{"v":1,"id":"a","host":1,"seed":"18446744073709551615","prehash":["9489172654252433228"],"parent":[],' +
        '"prehost":2,"pretoid":5,"tags":{"k1":"v1"},"receivedAt":"R"}',
    );
  });

  it('gives the §1 output shape', () => {
    const r: LogRecord = {
      id: 'a',
      host: 1,
      seed: '1',
      prehash: [],
      parent: ['p'],
      tags: {},
      receivedAt: 'R',
      lid: 7,
      toid: 4,
      appendedAt: 'A',
    };
    expect(toPublicJson(r)).toEqual({
      lid: 7,
      toid: 4,
      host: 1,
      id: 'a',
      seed: '1',
      prehash: [],
      parent: ['p'],
      tags: {},
      receivedAt: 'R',
      appendedAt: 'A',
    });
    expect(Object.keys(toPublicJson({ ...r, prehost: 1, pretoid: 2 }))).toContain('pretoid');
  });

  it.each([
    ['not JSON', '{"v":1,'],
    [
      'numeric seed',
      '{"v":1,"id":"a","host":1,"seed":5,"prehash":[],"parent":[],"tags":{},"receivedAt":"R"}',
    ],
    ['no id', '{"v":1,"host":1,"seed":"5","prehash":[],"parent":[],"tags":{},"receivedAt":"R"}'],
    [
      'tag not string',
      '{"v":1,"id":"a","host":1,"seed":"5","prehash":[],"parent":[],"tags":{"k":1},"receivedAt":"R"}',
    ],
    [
      'half origin',
      '{"v":1,"id":"a","host":1,"seed":"5","prehash":[],"parent":[],"prehost":1,"tags":{},"receivedAt":"R"}',
    ],
    [
      'non-canonical hash',
      '{"v":1,"id":"a","host":1,"seed":"5","prehash":["05"],"parent":[],"tags":{},"receivedAt":"R"}',
    ],
  ])('a broken v1 ingest message (%s) is a poison message', (_n, text) => {
    expect(() => decodeIngest(Buffer.from(text), ctx)).toThrow(PoisonMessageError);
  });

  it('refuses log messages that are not v1 or lack lid', () => {
    expect(() => decodeLog(Buffer.from('{"lid":1}'))).toThrow(PoisonMessageError);
    const r = JSON.parse(encodeLog(fc.sample(logArb, 1)[0]).toString());
    delete r.lid;
    expect(() => decodeLog(Buffer.from(JSON.stringify(r)))).toThrow(PoisonMessageError);
  });
});

describe('records produced directly to the ingest topic', () => {
  it('validates raw §1 JSON losslessly and fills id, host and receivedAt', () => {
    const raw = Buffer.from(
      '{"tags":{"k1":"v1"},"seed":9489172654252433228,"prehash":[18446744073709551615,0]}',
    );
    expect(decodeIngest(raw, ctx)).toEqual({
      id: 'generated-id',
      host: 3,
      seed: '9489172654252433228',
      prehash: ['18446744073709551615'],
      parent: [],
      tags: { k1: 'v1' },
      receivedAt: '2026-01-02T03:04:05.006Z',
    });
  });

  it('keeps a given id and host', () => {
    const r = parseExternalIngest(
      Buffer.from('{"id":"mine","host":2}'),
      ctx.limits,
      ctx.now,
      ctx.newId,
      3,
    );
    expect(r).toMatchObject({ id: 'mine', host: 2 });
  });

  it('refuses invalid direct records with a ValidationError code (dead-letter reason)', () => {
    const code = (s: string): string => {
      try {
        decodeIngest(Buffer.from(s), ctx);
        return 'accepted';
      } catch (e) {
        return e instanceof ValidationError ? e.code : 'other';
      }
    };
    expect(code('{"seed":-1}')).toBe('CHARIOTS_ERR_BAD_SEED');
    expect(code('{"seed":')).toBe('CHARIOTS_ERR_BAD_JSON');
    expect(code('[{"tags":{}}]')).toBe('CHARIOTS_ERR_BAD_RECORD');
  });

  it('without an external context, a non-v1 message is a poison message', () => {
    expect(() => decodeIngest(Buffer.from('{"tags":{}}'))).toThrow(PoisonMessageError);
  });

  it('a direct record re-encoded decodes through the fast path to the same record', () => {
    const r = decodeIngest(Buffer.from('{"tags":{"a":"b"},"strseed":"42","parent":"p"}'), ctx);
    expect(decodeIngest(encodeIngest(r))).toEqual(r);
  });
});
