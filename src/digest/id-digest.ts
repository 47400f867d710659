/**
 * A 128-bit digest of a record id, for the log index: MurmurHash3_x86_128 (seed 0) over the
 * id's UTF-16 code units, i.e. over its UTF-16LE bytes. Code units rather than UTF-8: two
 * distinct JS strings are always distinct inputs (UTF-8 maps every lone surrogate to U+FFFD),
 * and there is no encoding pass. 32-bit arithmetic only (Math.imul), so no BigInt per key:
 * measured an order of magnitude faster per id than node:crypto (sha256 or md5, even the
 * one-shot crypto.hash) and ~5x faster than fnv-plus's 128-bit FNV.
 *
 * Why 128 bits is exact enough. Accidental collisions: over n distinct ids the chance that
 * any two share a digest is about n^2 / 2^129, 1.5e-19 for ten billion ids: negligible next
 * to memory errors in the hardware that held the Set of strings this replaces. Crafted collisions:
 * Murmur is not collision-resistant, but two ids with one digest can do nothing that two
 * records with the SAME id cannot already do (the later one is taken for the earlier one:
 * dropped as a duplicate, or taken as provided to its dependents), and ids are the client's
 * to choose; so a collision gives a client no power it does not have.
 */

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Units j and j + 1 (when `both`, else 0) as one little-endian word. */
function word(s: string, j: number, both: boolean): number {
  return s.charCodeAt(j) | (both ? s.charCodeAt(j + 1) << 16 : 0);
}

/** Writes the digest of s[from..] into out[at..at+4). */
export function idDigest(s: string, from: number, out: Uint32Array, at = 0): void {
  let h1 = 0;
  let h2 = 0;
  let h3 = 0;
  let h4 = 0;
  let i = from;
  // Blocks of 16 bytes = 8 code units, each 32-bit word two units, little-endian.
  for (const end = from + ((s.length - from) & ~7); i < end; i += 8) {
    let k1 = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16);
    let k2 = s.charCodeAt(i + 2) | (s.charCodeAt(i + 3) << 16);
    let k3 = s.charCodeAt(i + 4) | (s.charCodeAt(i + 5) << 16);
    let k4 = s.charCodeAt(i + 6) | (s.charCodeAt(i + 7) << 16);
    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
    h1 = (Math.imul(rotl(h1 ^ k1, 19) + h2, 5) + 0x561ccd1b) | 0;
    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
    h2 = (Math.imul(rotl(h2 ^ k2, 17) + h3, 5) + 0x0bcaa747) | 0;
    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
    h3 = (Math.imul(rotl(h3 ^ k3, 15) + h4, 5) + 0x96cd1c35) | 0;
    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
    h4 = (Math.imul(rotl(h4 ^ k4, 13) + h1, 5) + 0x32ac3b17) | 0;
  }
  // The tail: 0..7 units; a word is mixed only when the tail reaches into it. (No closure
  // over `i` here: it would move `i` into a heap context and slow the loop above 3x.)
  const rest = s.length - i;
  if (rest > 6) h4 ^= Math.imul(rotl(Math.imul(s.charCodeAt(i + 6), C4), 18), C1);
  if (rest > 4) h3 ^= Math.imul(rotl(Math.imul(word(s, i + 4, rest > 5), C3), 17), C4);
  if (rest > 2) h2 ^= Math.imul(rotl(Math.imul(word(s, i + 2, rest > 3), C2), 16), C3);
  if (rest > 0) h1 ^= Math.imul(rotl(Math.imul(word(s, i, rest > 1), C1), 15), C2);
  const bytes = (s.length - from) * 2;
  h1 ^= bytes;
  h2 ^= bytes;
  h3 ^= bytes;
  h4 ^= bytes;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h3 = fmix(h3);
  h4 = fmix(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  out[at] = h1;
  out[at + 1] = h2 + h1;
  out[at + 2] = h3 + h1;
  out[at + 3] = h4 + h1;
}
