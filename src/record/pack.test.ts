import fc from 'fast-check';
import { PoisonMessageError } from '../errors';
import { expectPoison } from '../../test/helpers/poison';
import { decodeIngest, encodeIngest } from './codec';
import {
  chunkForPacks,
  encodePack,
  isPack,
  MAX_PACK_BYTES,
  packedSize,
  packValues,
  unpack,
} from './pack';
import type { IngestRecord } from './types';

const rec = (i: number, tags: Record<string, string> = { i: String(i) }): IngestRecord => ({
  id: `r${i}`,
  host: 1,
  seed: '18446744073709551615',
  prehash: [],
  parent: [],
  tags,
  receivedAt: '2026-11-27T00:00:00.000Z',
});

/** What a v1 value looks like to the pack: JSON text starting with `{`. */
const v1Bytes = fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.concat([Buffer.from('{'), b]));
const anyBytes = fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b));

const poison = expectPoison;

describe('pack codec', () => {
  it('round-trips the encoded records, byte for byte and in order', () => {
    const values = [rec(1), rec(2, {}), rec(3, { 'k"\\': '値😀\u0000' })].map(encodeIngest);
    const pack = encodePack(values);
    expect(isPack(pack)).toBe(true);
    expect(pack.length).toBe(packedSize(values.map((v) => v.length)));
    const out = unpack(pack);
    expect(out).toEqual(values);
    expect(out.map((v) => decodeIngest(v))).toEqual([
      rec(1),
      rec(2, {}),
      rec(3, { 'k"\\': '値😀\u0000' }),
    ]);
  });

  it('starts with bytes no v1 value can start with', () => {
    const pack = encodePack([encodeIngest(rec(1))]);
    expect([...pack.subarray(0, 4)]).toEqual([0x00, 0x43, 0x50, 0x01]);
    expect(isPack(encodeIngest(rec(1)))).toBe(false);
  });

  it('reads a plain single v1 record (messages written before packing, re-drives) as itself', () => {
    const plain = encodeIngest(rec(7));
    expect(unpack(plain)).toEqual([plain]);
    expect(unpack(plain)[0]).toBe(plain);
  });

  it('round-trips any list of values (property)', () => {
    fc.assert(
      fc.property(fc.array(anyBytes, { maxLength: 40 }), (values) => {
        expect(unpack(encodePack(values))).toEqual(values);
      }),
    );
  });

  it('keeps every value, in order, within the size bound when chunked (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(v1Bytes, anyBytes), { maxLength: 60 }),
        fc.integer({ min: 16, max: 2000 }),
        (values, maxBytes) => {
          const messages = packValues(values, maxBytes);
          expect(messages.flatMap((m) => unpack(m))).toEqual(values);
          for (const m of messages) {
            const inside = unpack(m);
            // Only a value too big for any pack may exceed the bound, and then it is alone.
            if (m.length > maxBytes) expect(inside).toHaveLength(1);
          }
        },
      ),
    );
  });

  it('writes a lone v1 value plain, and a lone value that looks like a pack as a pack', () => {
    const plain = encodeIngest(rec(1));
    expect(packValues([plain])).toEqual([plain]);
    const nul = Buffer.from([0, 1, 2]);
    const [m] = packValues([nul]);
    expect(isPack(m)).toBe(true);
    expect(unpack(m)).toEqual([nul]);
  });

  it('chunks below MAX_PACK_BYTES, an oversized record alone', () => {
    const small = Buffer.alloc(100_000, 0x7b);
    const big = Buffer.alloc(MAX_PACK_BYTES + 1, 0x7b);
    const groups = chunkForPacks([small, small, small, big, small], (v) => v.length);
    expect(groups.map((g) => g.length)).toEqual([2, 1, 1, 1]);
    expect(
      packValues([small, small, small, big, small]).map((m) => m.length > MAX_PACK_BYTES),
    ).toEqual([false, false, true, false]);
  });

  it('refuses corrupt packs with a PoisonMessageError', () => {
    const good = encodePack([Buffer.from('{"a":1}'), Buffer.from('{"b":2}')]);
    poison(() => unpack(good.subarray(0, 3))); // shorter than the header
    poison(() => unpack(Buffer.concat([Buffer.from([0, 0x44]), good.subarray(2)]))); // magic
    const v2 = Buffer.from(good);
    v2[3] = 2;
    poison(() => unpack(v2)); // unknown version
    poison(() => unpack(good.subarray(0, good.length - 1))); // truncated value
    poison(() => unpack(Buffer.concat([good, Buffer.from([0])]))); // trailing bytes
    const count = Buffer.from(good);
    count.writeUInt32BE(0xffffffff, 4);
    poison(() => unpack(count)); // count beyond what the bytes can hold
    const len = Buffer.from(good);
    len.writeUInt32BE(0x7fffffff, 8);
    poison(() => unpack(len)); // a length past the end
  });

  it('either unpacks or raises a PoisonMessageError on any bytes (property)', () => {
    const packLike = fc
      .tuple(fc.array(anyBytes, { maxLength: 5 }), fc.nat(), fc.integer({ min: 0, max: 255 }))
      .map(([values, at, byte]) => {
        const p = encodePack(values);
        p[at % p.length] = byte;
        return p;
      });
    fc.assert(
      fc.property(fc.oneof(anyBytes, packLike), (buf) => {
        let out: Buffer[];
        try {
          out = unpack(buf);
        } catch (e) {
          expect(e).toBeInstanceOf(PoisonMessageError);
          return;
        }
        for (const v of out) expect(Buffer.isBuffer(v)).toBe(true);
      }),
    );
  });
});
