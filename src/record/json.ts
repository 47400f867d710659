import { isLosslessNumber, LosslessNumber, parse } from 'lossless-json';
import { ValidationError } from '../errors';

/**
 * Lossless JSON input. Every JSON number comes back as a `LosslessNumber` holding its exact
 * source text, so uint64 seeds/hashes (e.g. 9489172654252433228) are never rounded; read
 * them with uint64.ts or `jsonInteger`. Objects are plain objects whose keys are all own
 * properties: lossless-json stores a `__proto__` key as an own property (like JSON.parse)
 * instead of calling the prototype setter, so a body cannot pollute or swap prototypes.
 * Duplicate keys: the last one wins, as with JSON.parse and Go's encoding/json.
 */

export type JsonNumber = LosslessNumber;
export const isJsonNumber = isLosslessNumber;

/**
 * lossless-json parses recursively; a body like `[[[[…` 100k deep would overflow the stack
 * (a RangeError, not a clean refusal). Records need depth ≤ 4; 64 leaves room for unknown
 * fields such as GoChariots' `trace`.
 */
export const DEFAULT_MAX_JSON_DEPTH = 64;

const POSITION = /at position (\d+)/;

/**
 * One pass over the text outside strings: the position where nesting exceeds `limit` (≥ 0),
 * else -1, with every number token that is NOT a plain integer JSON.parse reads exactly
 * appended to `spans` as (start, end). Plain: an optional minus and 1–15 digits, no leading
 * zero, not "-0" (a double holds every such integer, and String() of it spells the token
 * back). The others — fractions, exponents, 16+ digits (uint64 seeds), malformed tokens —
 * are the ones JSON.parse would round: quoteNumbers carries them through as strings.
 * KEY_NUMBER when such a token stands where an object key belongs.
 */
function scan(text: string, limit: number, spans: number[]): number {
  let depth = 0;
  let keyNumber = false;
  // Per open container, whether it is an object; and the last character outside strings
  // and whitespace: together they tell whether a token stands where a key belongs.
  const inObject: boolean[] = [];
  let prev = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    if (c === 0x22) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return i;
      inObject.push(c === 0x7b);
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
      inObject.pop();
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const start = c === 0x2d ? i + 1 : i;
      let end = start;
      while (end < text.length && isNumberChar(text.charCodeAt(end))) end++;
      const digits = end - start;
      const first = text.charCodeAt(start);
      const plain =
        digits >= 1 &&
        digits <= 15 &&
        allDigits(text, start, end) &&
        (first !== 0x30 || (digits === 1 && c !== 0x2d));
      if (!plain) {
        spans.push(i, end);
        // Quoted, a number where a key belongs ({1.5:"x"}, not JSON) would become a valid key.
        if (prev === 0x7b || (prev === 0x2c && inObject[inObject.length - 1])) keyNumber = true;
      }
      i = end - 1;
    }
    prev = c;
  }
  return keyNumber ? KEY_NUMBER : -1;
}

/** scan's answer for a text with a quotable number where a key belongs: not JSON. */
const KEY_NUMBER = -2;

/** A number token as JSON's grammar spells it. */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * Marks a number token carried through JSON.parse as a string. A raw U+0001 cannot occur in
 * valid JSON text (control characters must be escaped), and a text that spells the escape
 * `\u0001` skips the fast path, so no string of the input can start with it.
 */
const NUMBER_MARK = '\\u0001';
const NUMBER_MARK_CODE = 1;

/**
 * The text with each span (a number token) turned into the string "\u0001<token>", or
 * undefined for a token that is not a JSON number (the error must be lossless-json's).
 */
function quoteNumbers(text: string, spans: number[]): string | undefined {
  let out = '';
  let at = 0;
  for (let k = 0; k < spans.length; k += 2) {
    const token = text.slice(spans[k], spans[k + 1]);
    if (!JSON_NUMBER.test(token)) return undefined;
    out += text.slice(at, spans[k]) + '"' + NUMBER_MARK + token + '"';
    at = spans[k + 1];
  }
  return out + text.slice(at);
}

function isNumberChar(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d
  );
}

function allDigits(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** A JSON.parse value as lossless-json gives it: numbers and marked strings as LosslessNumber. */
function lossless(x: unknown): unknown {
  if (typeof x === 'number') return new LosslessNumber(String(x));
  if (typeof x === 'string' && x.charCodeAt(0) === NUMBER_MARK_CODE)
    return new LosslessNumber(x.slice(1));
  return x;
}

/**
 * JSON.parse's tree with every number — and every number quoteNumbers carried as a marked
 * string — as the LosslessNumber lossless-json would give, in place. Only numbers are
 * assigned: an own `__proto__` key (JSON.parse makes it a data property) holding an object
 * is recursed into, never written through the setter.
 */
function withLosslessNumbers(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return lossless(v);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x === 'object' && x !== null) withLosslessNumbers(x);
      else if (typeof x === 'number' || typeof x === 'string') v[i] = lossless(x);
    }
    return v;
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const x = o[k];
    if (typeof x === 'object' && x !== null) withLosslessNumbers(x);
    else if (typeof x === 'number') o[k] = lossless(x);
    else if (typeof x === 'string' && x.charCodeAt(0) === NUMBER_MARK_CODE) o[k] = lossless(x);
  }
  return o;
}

function lastWins(info: { newValue: unknown }): unknown {
  return info.newValue;
}

/** Parses JSON text losslessly; malformed input → ValidationError CHARIOTS_ERR_BAD_JSON. */
export function parseJson(text: string, maxDepth = DEFAULT_MAX_JSON_DEPTH): unknown {
  const spans: number[] = [];
  const scanned = scan(text, maxDepth, spans);
  if (scanned >= 0) {
    const tooDeepAt = scanned;
    throw new ValidationError(
      'CHARIOTS_ERR_BAD_JSON',
      `invalid JSON: nesting deeper than ${maxDepth} levels at position ${tooDeepAt}`,
      { details: { position: tooDeepAt } },
    );
  }
  // JSON.parse is several times faster than lossless-json and, with the numbers it would
  // round carried as marked strings, gives the same tree (json.test.ts checks this against
  // lossless-json for any text). Malformed text falls through, so that errors keep
  // lossless-json's messages and positions.
  const fast =
    scanned === KEY_NUMBER || text.includes(NUMBER_MARK)
      ? undefined
      : spans.length === 0
        ? text
        : quoteNumbers(text, spans);
  if (fast !== undefined) {
    let v: unknown;
    try {
      v = JSON.parse(fast);
    } catch {
      v = undefined;
    }
    if (v !== undefined) return withLosslessNumbers(v);
  }
  try {
    return parse(text, null, { onDuplicateKey: lastWins });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const m = POSITION.exec(message);
    throw new ValidationError('CHARIOTS_ERR_BAD_JSON', `invalid JSON: ${message}`, {
      cause: e,
      details: m ? { position: Number(m[1]) } : undefined,
    });
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes strict UTF-8 (a leading BOM is dropped) and parses; bad bytes → BAD_JSON. */
export function parseJsonBytes(bytes: Uint8Array, maxDepth = DEFAULT_MAX_JSON_DEPTH): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (e) {
    throw new ValidationError(
      'CHARIOTS_ERR_BAD_JSON',
      'invalid JSON: the body is not valid UTF-8',
      {
        cause: e,
      },
    );
  }
  return parseJson(text, maxDepth);
}

/** True for a plain JSON object (not an array, null or a LosslessNumber). */
export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isLosslessNumber(v);
}
