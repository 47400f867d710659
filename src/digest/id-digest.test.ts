import fc from 'fast-check';
import { idDigest } from './id-digest';

/** Independent reference: MurmurHash3_x86_128 as in SMHasher, one byte at a time. */
function murmur3x86128(bytes: Uint8Array, seed: number): Uint32Array {
  const c = [0x239b961b, 0xab0e9789, 0x38b34ae5, 0xa1e38b93];
  const rot = [15, 16, 17, 18];
  const hrot = [19, 17, 15, 13];
  const add = [0x561ccd1b, 0x0bcaa747, 0x96cd1c35, 0x32ac3b17];
  const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;
  const mul = (a: number, b: number) => Math.imul(a, b) >>> 0;
  const mixK = (k: number, lane: number) =>
    mul(rotl(mul(k, c[lane]), rot[lane]), c[(lane + 1) % 4]);
  const h = [seed >>> 0, seed >>> 0, seed >>> 0, seed >>> 0];
  const word = (at: number) =>
    (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
  const blocks = Math.floor(bytes.length / 16);
  for (let b = 0; b < blocks; b++) {
    for (let lane = 0; lane < 4; lane++) {
      h[lane] ^= mixK(word(b * 16 + lane * 4), lane);
      h[lane] = (mul(rotl(h[lane] >>> 0, hrot[lane]) + h[(lane + 1) % 4], 5) + add[lane]) >>> 0;
    }
  }
  const tail = bytes.subarray(blocks * 16);
  for (let lane = 3; lane >= 0; lane--) {
    if (tail.length <= lane * 4) continue;
    let k = 0;
    for (let j = Math.min(tail.length, lane * 4 + 4) - 1; j >= lane * 4; j--)
      k = ((k << 8) | tail[j]) >>> 0;
    h[lane] = (h[lane] ^ mixK(k, lane)) >>> 0;
  }
  const fmix = (x: number) => {
    x = mul(x ^ (x >>> 16), 0x85ebca6b);
    x = mul(x ^ (x >>> 13), 0xc2b2ae35);
    return (x ^ (x >>> 16)) >>> 0;
  };
  for (let lane = 0; lane < 4; lane++) h[lane] = (h[lane] ^ bytes.length) >>> 0;
  const spread = () => {
    h[0] = (h[0] + h[1] + h[2] + h[3]) >>> 0;
    for (let lane = 1; lane < 4; lane++) h[lane] = (h[lane] + h[0]) >>> 0;
  };
  spread();
  for (let lane = 0; lane < 4; lane++) h[lane] = fmix(h[lane]);
  spread();
  return Uint32Array.from(h);
}

const digest = (s: string, from = 0): number[] => {
  const out = new Uint32Array(4);
  idDigest(s, from, out);
  return [...out];
};
const utf16 = (s: string) => new Uint8Array(Buffer.from(s, 'utf16le'));

/** Any UTF-16 code units, lone surrogates included (ids are arbitrary JS strings). */
const codeUnits = (maxLength = 40) =>
  fc
    .array(fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0, max: 0xffff })), {
      maxLength,
    })
    .map((us) => String.fromCharCode(...us));

describe('idDigest', () => {
  it('the reference is MurmurHash3_x86_128 (SMHasher verification value 0xB3ECE62A)', () => {
    const hashes = new Uint8Array(16 * 256);
    const key = new Uint8Array(256).map((_, i) => i);
    for (let i = 0; i < 256; i++) {
      const h = murmur3x86128(key.subarray(0, i), 256 - i);
      hashes.set(new Uint8Array(h.buffer), i * 16);
    }
    expect(murmur3x86128(hashes, 0)[0]).toBe(0xb3ece62a);
  });

  it('is MurmurHash3_x86_128 of the UTF-16LE bytes, for every tail length', () => {
    for (let n = 0; n <= 40; n++) {
      const s = 'abcdefghijklmnopqrstuvwxyz0123456789-\u00e9\u4e2d\ud83d'.slice(0, n);
      expect(digest(s)).toEqual([...murmur3x86128(utf16(s), 0)]);
    }
    fc.assert(
      fc.property(codeUnits(), (s) => {
        expect(digest(s)).toEqual([...murmur3x86128(utf16(s), 0)]);
      }),
      { numRuns: 2000 },
    );
  });

  it('digests s[from..], without the prefix', () => {
    fc.assert(
      fc.property(codeUnits(8), codeUnits(), (prefix, s) => {
        expect(digest(prefix + s, prefix.length)).toEqual(digest(s));
      }),
    );
  });

  it('tells apart strings UTF-8 would not (lone surrogate vs U+FFFD) and one-bit changes', () => {
    expect(digest('\ud800')).not.toEqual(digest('\ufffd'));
    fc.assert(
      fc.property(
        codeUnits().filter((s) => s.length > 0),
        fc.nat(),
        fc.integer({ min: 0, max: 15 }),
        (s, at, bit) => {
          const i = at % s.length;
          const t =
            s.slice(0, i) + String.fromCharCode(s.charCodeAt(i) ^ (1 << bit)) + s.slice(i + 1);
          expect(digest(t)).not.toEqual(digest(s));
        },
      ),
    );
  });
});
