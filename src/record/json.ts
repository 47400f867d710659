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

/** Max nesting depth of `[`/`{` outside strings, scanning until it exceeds `limit`. */
function depthExceeds(text: string, limit: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return i;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return undefined;
}

function lastWins(info: { newValue: unknown }): unknown {
  return info.newValue;
}

/** Parses JSON text losslessly; malformed input → ValidationError CHARIOTS_ERR_BAD_JSON. */
export function parseJson(text: string, maxDepth = DEFAULT_MAX_JSON_DEPTH): unknown {
  const tooDeepAt = depthExceeds(text, maxDepth);
  if (tooDeepAt !== undefined) {
    throw new ValidationError(
      'CHARIOTS_ERR_BAD_JSON',
      `invalid JSON: nesting deeper than ${maxDepth} levels at position ${tooDeepAt}`,
      { details: { position: tooDeepAt } },
    );
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
