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

/** What `scan` found: every number a short plain integer, or some number needs lossless-json. */
const PLAIN = -1;
const NOT_PLAIN = -2;

/**
 * One pass over the text outside strings: the position where nesting exceeds `limit` (≥ 0),
 * else whether every number token is a plain integer JSON.parse reads exactly: an optional
 * minus and 1–15 digits, no leading zero, not "-0" (a double holds every such integer, and
 * String() of it spells the token back). Anything else — fractions, exponents, 16+ digits
 * (uint64 seeds), or not JSON at all — goes to lossless-json.
 */
function scan(text: string, limit: number): number {
  let depth = 0;
  let plain = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return i;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (plain && (c === 0x2d || (c >= 0x30 && c <= 0x39))) {
      const start = c === 0x2d ? i + 1 : i;
      let end = start;
      while (end < text.length && isNumberChar(text.charCodeAt(end))) end++;
      const digits = end - start;
      const first = text.charCodeAt(start);
      plain =
        digits >= 1 &&
        digits <= 15 &&
        allDigits(text, start, end) &&
        (first !== 0x30 || (digits === 1 && c !== 0x2d));
      i = end - 1;
    }
  }
  return plain ? PLAIN : NOT_PLAIN;
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

/**
 * JSON.parse's tree with every number as the LosslessNumber lossless-json would give, in
 * place. Only numbers are assigned: an own `__proto__` key (JSON.parse makes it a data
 * property) holding an object is recursed into, never written through the setter.
 */
function withLosslessNumbers(v: unknown): unknown {
  if (typeof v === 'number') return new LosslessNumber(String(v));
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x === 'number') v[i] = new LosslessNumber(String(x));
      else withLosslessNumbers(x);
    }
    return v;
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const x = o[k];
    if (typeof x === 'number') o[k] = new LosslessNumber(String(x));
    else withLosslessNumbers(x);
  }
  return o;
}

function lastWins(info: { newValue: unknown }): unknown {
  return info.newValue;
}

/** Parses JSON text losslessly; malformed input → ValidationError CHARIOTS_ERR_BAD_JSON. */
export function parseJson(text: string, maxDepth = DEFAULT_MAX_JSON_DEPTH): unknown {
  const scanned = scan(text, maxDepth);
  if (scanned >= 0) {
    const tooDeepAt = scanned;
    throw new ValidationError(
      'CHARIOTS_ERR_BAD_JSON',
      `invalid JSON: nesting deeper than ${maxDepth} levels at position ${tooDeepAt}`,
      { details: { position: tooDeepAt } },
    );
  }
  if (scanned === PLAIN) {
    // JSON.parse is several times faster than lossless-json and, with only plain integers,
    // gives the same tree (json.test.ts checks this against lossless-json). Malformed text
    // falls through, so that errors keep lossless-json's messages and positions.
    let v: unknown;
    try {
      v = JSON.parse(text);
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
