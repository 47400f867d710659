import { isLosslessNumber } from 'lossless-json';
import { ValidationError } from '../errors';
import type { Uint64String } from './types';

/**
 * uint64 values (seeds, tag hashes) are kept as canonical decimal strings so that they
 * never pass through a JS `number` (which rounds above 2^53). Accepted inputs:
 *  - a JSON number from the lossless parser (json.ts), read from its exact source text;
 *    only plain integer literals ("0", "42"): a fraction or exponent ("1.0", "1e3") is
 *    refused even when its value is integral, because no uint64 producer writes those and
 *    accepting them would mean re-implementing decimal arithmetic for no client;
 *  - a decimal string of ASCII digits; leading zeros are accepted and dropped ("007" → "7");
 *    no sign, no whitespace, no fraction, not empty;
 *  - a bigint, or a JS number that is a safe integer (code-built objects such as
 *    `{ seed: 0 }`); an unsafe JS number may already be rounded and is refused.
 * Anything negative (including "-0") or ≥ 2^64 is refused.
 */

export type Uint64ErrorCode = 'CHARIOTS_ERR_BAD_SEED' | 'CHARIOTS_ERR_BAD_HASH';

export const UINT64_MAX: Uint64String = '18446744073709551615';
export const UINT64_MAX_BIGINT = (1n << 64n) - 1n;

const DIGITS = /^[0-9]+$/;
const MAX_SHOWN = 40;

/** Truncated, quoted rendering of a bad value for error messages. */
export function showValue(value: unknown): string {
  let s: string;
  if (isLosslessNumber(value)) s = value.value;
  else if (typeof value === 'string') s = JSON.stringify(value);
  else if (typeof value === 'bigint') s = `${value}n`;
  else if (value === null || typeof value !== 'object') s = String(value);
  else s = Array.isArray(value) ? 'an array' : 'an object';
  return s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}…` : s;
}

/** Canonical form of a digit string, or undefined when it does not fit in 64 bits. */
function canonicalDigits(digits: string): Uint64String | undefined {
  let i = 0;
  while (i < digits.length - 1 && digits.charCodeAt(i) === 48) i++;
  const s = i === 0 ? digits : digits.slice(i);
  // Equal-length decimal strings compare like their values, so no bigint is needed.
  if (s.length > UINT64_MAX.length || (s.length === UINT64_MAX.length && s > UINT64_MAX)) {
    return undefined;
  }
  return s;
}

function fail(field: string, code: Uint64ErrorCode, value: unknown, why: string): never {
  throw new ValidationError(
    code,
    `${field} must be an unsigned 64-bit integer (0..${UINT64_MAX}) written as a JSON integer or a decimal string; got ${showValue(value)} (${why})`,
    { details: { field, value: showValue(value) } },
  );
}

/** Validates one uint64 input value (see the rules above) and returns its canonical string. */
export function parseUint64(value: unknown, field: string, code: Uint64ErrorCode): Uint64String {
  if (isLosslessNumber(value)) {
    const text = value.value;
    if (text.charCodeAt(0) === 45) fail(field, code, value, 'negative');
    if (!DIGITS.test(text))
      fail(field, code, value, 'not an integer literal: no fraction or exponent');
    return canonicalDigits(text) ?? fail(field, code, value, 'exceeds 2^64-1');
  }
  if (typeof value === 'string') {
    if (value.length === 0) fail(field, code, value, 'empty string');
    if (!DIGITS.test(value)) {
      const why = value.trim().startsWith('-') ? 'negative' : 'only the digits 0-9 are allowed';
      fail(field, code, value, why);
    }
    return canonicalDigits(value) ?? fail(field, code, value, 'exceeds 2^64-1');
  }
  if (typeof value === 'bigint') {
    if (value < 0n) fail(field, code, value, 'negative');
    if (value > UINT64_MAX_BIGINT) fail(field, code, value, 'exceeds 2^64-1');
    return value.toString();
  }
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) fail(field, code, value, 'not an integer');
    if (value < 0 || Object.is(value, -0)) fail(field, code, value, 'negative');
    if (!Number.isSafeInteger(value)) {
      fail(field, code, value, 'a JS number above 2^53-1 may be rounded; send a decimal string');
    }
    return String(value);
  }
  return fail(field, code, value, `a ${value === null ? 'null' : typeof value} is not a number`);
}

/** True for the canonical form only: digits, no leading zero (except "0"), < 2^64. */
export function isCanonicalUint64(s: unknown): s is Uint64String {
  if (typeof s !== 'string' || s.length === 0 || !DIGITS.test(s)) return false;
  if (s.length > 1 && s.charCodeAt(0) === 48) return false;
  return canonicalDigits(s) === s;
}

export function uint64ToBigInt(s: Uint64String): bigint {
  return BigInt(s);
}

/** bigint → canonical string; throws a RangeError (a programming error) when out of range. */
export function bigIntToUint64(n: bigint): Uint64String {
  if (n < 0n || n > UINT64_MAX_BIGINT) throw new RangeError(`not a uint64: ${n}`);
  return n.toString();
}

const TWO_32 = 4294967296;

/**
 * The canonical uint64 in s[from, to) as its two 32-bit halves, high into out[at] and low into
 * out[at + 1], without BigInt (per key on the queue's hot path). False, writing nothing, when
 * the text is not canonical (see isCanonicalUint64): such text never names a stored key.
 * Four digits at a time: lo * 10^4 + 9999 < 2^46 stays exact in a double, and every prefix
 * of the number is at most the number, so hi < 2^32 until the last digits overflow it.
 */
export function uint64Halves(
  s: string,
  from: number,
  to: number,
  out: Uint32Array,
  at: number,
): boolean {
  if (to <= from || to - from > 20 || (to - from > 1 && s.charCodeAt(from) === 48)) return false;
  let hi = 0;
  let lo = 0;
  for (let i = from; i < to;) {
    const end = Math.min(i + 4, to);
    let chunk = 0;
    let scale = 1;
    for (; i < end; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return false;
      chunk = chunk * 10 + d;
      scale *= 10;
    }
    lo = lo * scale + chunk;
    const carry = (lo / TWO_32) | 0; // < 10^4, so `| 0` is floor
    lo -= carry * TWO_32;
    hi = hi * scale + carry;
  }
  if (hi >= TWO_32) return false;
  out[at] = hi;
  out[at + 1] = lo;
  return true;
}
