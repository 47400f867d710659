/** Input forms of a uint64 (seed, tag hash): exact values only, sent as decimal strings. */
export type Uint64Like = bigint | string | number;

const MAX = '18446744073709551615';
const MAX_BIGINT = (1n << 64n) - 1n;

/**
 * The canonical decimal string of a uint64, or an error message. A JS number is accepted
 * only when it is a safe integer: a larger one may already have been rounded.
 */
export function uint64String(value: unknown): string | { error: string } {
  if (typeof value === 'bigint') {
    if (value < 0n) return { error: 'negative' };
    if (value > MAX_BIGINT) return { error: 'exceeds 2^64-1' };
    return value.toString();
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value))
      return {
        error: 'not a safe integer number (pass a bigint or a decimal string above 2^53)',
      };
    if (value < 0 || Object.is(value, -0)) return { error: 'negative' };
    return String(value);
  }
  if (typeof value === 'string') {
    if (!/^[0-9]+$/.test(value)) return { error: 'only the digits 0-9 are allowed' };
    const s = value.replace(/^0+(?=.)/, '');
    if (s.length > MAX.length || (s.length === MAX.length && s > MAX))
      return { error: 'exceeds 2^64-1' };
    return s;
  }
  return { error: `a ${value === null ? 'null' : typeof value} is not a uint64` };
}
