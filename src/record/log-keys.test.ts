import fc from 'fast-check';
import { PoisonMessageError } from '../errors';
import { expectPoison } from '../../test/helpers/poison';
import { hashTag } from './hash';
import {
  decodeLogKeys,
  encodeLogKeys,
  logKeysOf,
  MAX_LOG_KEYS_BYTES,
  type LogKeys,
} from './log-keys';
import type { LogRecord } from './types';

const rec = (lid: number, over: Partial<LogRecord> = {}): LogRecord => ({
  id: `r${lid}`,
  host: 1,
  seed: '18446744073709551615',
  prehash: [],
  parent: [],
  tags: { a: String(lid) },
  receivedAt: '',
  lid,
  toid: lid,
  appendedAt: '',
  ...over,
});

const poison = expectPoison;

const halvesOfDecimal = (d: string): [number, number] => {
  const n = BigInt(d);
  return [Number(n >> 32n), Number(n & 0xffffffffn)];
};

const arbRecord: fc.Arbitrary<LogRecord> = fc
  .record({
    lid: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    toid: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    host: fc.integer({ min: 0, max: 0xffffffff }),
    id: fc.string({ unit: 'binary', maxLength: 40 }),
    seed: fc.oneof(
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String),
      fc.constantFrom('007', '18446744073709551616', ''),
    ),
    tags: fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }), fc.string({ maxLength: 8 }), {
      maxKeys: 6,
    }),
    remote: fc.option(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), { nil: undefined }),
  })
  .map(({ remote, ...r }) =>
    rec(r.lid, { ...r, ...(remote ? { remote: { toid: remote, clock: {} } } : {}) }),
  );

describe('logkeys codec', () => {
  it('holds the id, origin, TOIds and the tag hashes the queue would compute', () => {
    const r = rec(7, { tags: { k1: 'v1', k2: '値😀' }, remote: { toid: 3, clock: { '2': 1 } } });
    const [k] = decodeLogKeys(encodeLogKeys([logKeysOf(r)])[0]);
    expect(k).toMatchObject({ lid: 7, id: 'r7', host: 1, toid: 7, remoteToid: 3, seedOk: true });
    expect([k.seedHi, k.seedLo]).toEqual(halvesOfDecimal(r.seed));
    expect([...k.tagHashes]).toEqual([
      ...halvesOfDecimal(hashTag('k1', 'v1')),
      ...halvesOfDecimal(hashTag('k2', '値😀')),
    ]);
    expect(logKeysOf(rec(1)).remoteToid).toBeUndefined();
  });

  it('a non-canonical seed names no tag key', () => {
    const k = logKeysOf(rec(1, { seed: '007' }));
    expect(k.seedOk).toBe(false);
    expect(k.tagHashes.length).toBe(0);
  });

  it('round-trips any records, in order (property)', () => {
    fc.assert(
      fc.property(fc.array(arbRecord, { minLength: 1, maxLength: 20 }), (records) => {
        const keys = records.map(logKeysOf);
        const messages = encodeLogKeys(keys);
        expect(messages).toHaveLength(1);
        expect(messages[0].subarray(0, 4)).toEqual(Buffer.from([0x00, 0x43, 0x4b, 0x01]));
        expect(decodeLogKeys(messages[0])).toEqual(keys);
      }),
      { numRuns: 300 },
    );
  });

  it('splits what would exceed MAX_LOG_KEYS_BYTES over several messages, none lost', () => {
    const tags = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`t${i}`, 'v']));
    const keys = Array.from({ length: 1000 }, (_, i) => logKeysOf(rec(i + 1, { tags })));
    const messages = encodeLogKeys(keys);
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) expect(m.length).toBeLessThanOrEqual(MAX_LOG_KEYS_BYTES);
    expect(messages.flatMap(decodeLogKeys)).toEqual(keys);
    expect(encodeLogKeys([])).toEqual([]);
  });

  it('refuses damaged or foreign bytes as a poison message', () => {
    const [good] = encodeLogKeys([logKeysOf(rec(1)), logKeysOf(rec(2))]);
    poison(() => decodeLogKeys(Buffer.from('{"id":"x"}')));
    poison(() => decodeLogKeys(good.subarray(0, 5)));
    poison(() => decodeLogKeys(good.subarray(0, good.length - 1)));
    poison(() => decodeLogKeys(Buffer.concat([good, Buffer.from([0])])));
    const badVersion = Buffer.from(good);
    badVersion[3] = 9;
    poison(() => decodeLogKeys(badVersion));
    const badCount = Buffer.from(good);
    badCount.writeUInt32BE(0xffffffff, 4);
    poison(() => decodeLogKeys(badCount));
  });

  it('never throws anything but a poison message on arbitrary bytes (property)', () => {
    const [good] = encodeLogKeys([logKeysOf(rec(1, { tags: { x: 'y' } }))]);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: good.length - 1 }),
        fc.integer({ min: 0, max: 255 }),
        (at, b) => {
          const bytes = Buffer.from(good);
          bytes[at] = b;
          let out: LogKeys[] | undefined;
          try {
            out = decodeLogKeys(bytes);
          } catch (e) {
            expect(e).toBeInstanceOf(PoisonMessageError);
          }
          if (out) expect(out).toHaveLength(1);
        },
      ),
    );
  });
});
