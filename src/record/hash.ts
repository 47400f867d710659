import type { Uint64String } from './types';

/**
 * FNV-1a 64 (SPEC §1: tag hash = FNV-1a 64 over the UTF-8 bytes of `key + ":" + value`).
 *   h = 0xcbf29ce484222325; for each byte b: h ^= b; h = (h * 0x100000001b3) mod 2^64
 * On the hot path (every tag of every record, and every query), so no BigInt per byte:
 * h is kept as two 32-bit halves (hi, lo) in doubles. With prime = 2^40 + 0x1b3:
 *   h * prime mod 2^64 = h * 0x1b3 + (lo << 40)   (hi << 40 overflows away entirely)
 * lo * 0x1b3 and hi * 0x1b3 stay below 2^41, exact in a double; `>>> 0` takes mod 2^32.
 * Strings are turned into UTF-8 by Buffer's native encoder into a reused scratch buffer
 * (a lone surrogate becomes U+FFFD's bytes EF BF BD, as Buffer.from/TextEncoder do).
 */

const OFFSET_HI = 0xcbf29ce4;
const OFFSET_LO = 0x84222325;
const PRIME_LO = 0x1b3;
const TWO_32 = 4294967296;

const SCRATCH_BYTES = 64 * 1024;
let scratch: Buffer | undefined;

/**
 * The two halves of FNV-1a 64 over `bytes[0..length)`. Integer arithmetic only (a float
 * division per byte was the loop's cost): lo · 0x1b3 in 16-bit halves, a < 2^25 and
 * b < 2^26, so the product's low word is (b << 16 | a & 0xffff) and its carry into hi b >>> 16;
 * hi · 0x1b3 mod 2^32 by Math.imul. hi and lo stay int32 in the loop, uint32 on return.
 */
function fnvHalves(bytes: Uint8Array, length: number): [number, number] {
  let hi = OFFSET_HI | 0;
  let lo = OFFSET_LO | 0;
  for (let i = 0; i < length; i++) {
    lo ^= bytes[i];
    const a = (lo & 0xffff) * PRIME_LO;
    const b = (lo >>> 16) * PRIME_LO + (a >>> 16);
    hi = (Math.imul(hi, PRIME_LO) + (b >>> 16) + (lo << 8)) | 0;
    lo = (b << 16) | (a & 0xffff);
  }
  return [hi >>> 0, lo >>> 0];
}

/**
 * hashTagHalves for ASCII key and value: their bytes are their char codes, so no UTF-8
 * encoding into the scratch (two native calls per tag). Undefined when either has a char
 * ≥ 0x80: the caller takes the UTF-8 path.
 */
function fnvAsciiTag(key: string, value: string): [number, number] | undefined {
  let hi = OFFSET_HI | 0;
  let lo = OFFSET_LO | 0;
  for (let part = 0; part < 3; part++) {
    const s = part === 0 ? key : part === 1 ? ':' : value;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return undefined;
      lo ^= c;
      const a = (lo & 0xffff) * PRIME_LO;
      const b = (lo >>> 16) * PRIME_LO + (a >>> 16);
      hi = (Math.imul(hi, PRIME_LO) + (b >>> 16) + (lo << 8)) | 0;
      lo = (b << 16) | (a & 0xffff);
    }
  }
  return [hi >>> 0, lo >>> 0];
}

function halvesOf(data: string | Uint8Array): [number, number] {
  if (typeof data !== 'string') return fnvHalves(data, data.length);
  // UTF-8 needs at most 3 bytes per UTF-16 code unit.
  if (data.length * 3 <= SCRATCH_BYTES) {
    scratch ??= Buffer.allocUnsafe(SCRATCH_BYTES);
    const n = scratch.write(data, 0, 'utf8');
    return fnvHalves(scratch, n);
  }
  const bytes = Buffer.from(data, 'utf8');
  return fnvHalves(bytes, bytes.length);
}

/**
 * FNV-1a 64 of a string's UTF-8 bytes (or of raw bytes) as [hi, lo] 32-bit halves: for keys
 * kept in typed arrays (the queue's log index), with no decimal string in between.
 */
export function fnv1a64Halves(data: string | Uint8Array): [number, number] {
  return halvesOf(data);
}

/** hashTag as [hi, lo] halves; key and value go into the scratch apart (no `k:v` string). */
export function hashTagHalves(key: string, value: string): [number, number] {
  const ascii = fnvAsciiTag(key, value);
  if (ascii) return ascii;
  if ((key.length + value.length) * 3 + 1 > SCRATCH_BYTES) return halvesOf(`${key}:${value}`);
  scratch ??= Buffer.allocUnsafe(SCRATCH_BYTES);
  let n = scratch.write(key, 0, 'utf8');
  scratch[n++] = 58; // ':'
  n += scratch.write(value, n, 'utf8');
  return fnvHalves(scratch, n);
}

function toBigInt([hi, lo]: [number, number]): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** FNV-1a 64 of a string's UTF-8 bytes (or of raw bytes), as a bigint. */
export function fnv1a64(data: string | Uint8Array): bigint {
  return toBigInt(halvesOf(data));
}

/** ⌊x / 10^6⌋ and x mod 10^6 of x = hi·2^32 + lo (see decimalParts). */
const parts = new Float64Array(2);

/**
 * Splits x = hi·2^32 + lo into parts[0] = ⌊x / 10^6⌋ and parts[1] = x mod 10^6, without
 * BigInt. With hi = a·10^6 + b:  x = (a·2^32 + ⌊y/10^6⌋)·10^6 + y mod 10^6,  y = b·2^32 + lo.
 * Every intermediate stays below 2^53: y < 10^6·2^32 ≈ 4.3e15, a·2^32 < 2^64/10^6 ≈ 1.8e13.
 */
function decimalParts(hi: number, lo: number): void {
  const a = Math.floor(hi / 1e6);
  const y = (hi - a * 1e6) * TWO_32 + lo;
  const yq = Math.floor(y / 1e6);
  parts[0] = a * TWO_32 + yq;
  parts[1] = y - yq * 1e6;
}

/** hi·2^32 + lo in decimal without BigInt (it is ~3x faster than BigInt.toString here). */
export function halvesToDecimal(hi: number, lo: number): Uint64String {
  decimalParts(hi, lo);
  const top = parts[0];
  const low6 = parts[1];
  return top === 0 ? String(low6) : String(top) + String(low6).padStart(6, '0');
}

/**
 * halvesToDecimal's characters as char codes into out[0..n), returning n, with no string
 * built (the maintainer hashes every tag hash's decimal spelling, flstore/key-table.ts).
 */
export function halvesToDecimalCodes(hi: number, lo: number, out: Uint8Array): number {
  decimalParts(hi, lo);
  let top = parts[0];
  let low6 = parts[1];
  // Least significant first into the end of a 20-byte run, then moved to the front.
  let at = 20;
  do {
    out[--at] = 48 + (low6 % 10);
    low6 = Math.floor(low6 / 10);
  } while (low6 > 0 || (top > 0 && at > 14));
  while (top > 0) {
    out[--at] = 48 + (top % 10);
    top = Math.floor(top / 10);
  }
  out.copyWithin(0, at, 20);
  return 20 - at;
}

/** FNV-1a 64 as a canonical decimal string. */
export function fnv1a64Decimal(data: string | Uint8Array): Uint64String {
  const [hi, lo] = halvesOf(data);
  return halvesToDecimal(hi, lo);
}

/** The hash of tag `key:value` (SPEC §1), e.g. hashTag("k1", "v1") = "9489172654252433228". */
export function hashTag(key: string, value: string): Uint64String {
  return fnv1a64Decimal(`${key}:${value}`);
}

/** hashTag as a bigint. */
export function hashTagBigInt(key: string, value: string): bigint {
  return fnv1a64(`${key}:${value}`);
}
