import { ValidationError, type ChariotsError } from '../../errors';
import { parseJson, parseJsonBytes } from '../../record';

/** One item of a POST /records body: a parsed JSON value, or why its text is not JSON. */
export type BodyItem = { ok: true; value: unknown } | { ok: false; error: ChariotsError };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function text(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch (e) {
    throw new ValidationError(
      'CHARIOTS_ERR_BAD_JSON',
      'invalid JSON: the body is not valid UTF-8',
      { cause: e },
    );
  }
}

/** The single JSON value of a POST /record body (lossless: uint64s stay exact). */
export function parseOne(body: Buffer): unknown {
  if (body.length === 0)
    throw new ValidationError('CHARIOTS_ERR_BAD_JSON', 'the body is empty; send one JSON record');
  return parseJsonBytes(body);
}

/**
 * POST /records: a JSON array, or NDJSON (one record per line) when the content type says
 * so or the body does not start with '['. A broken array, or NDJSON of which no line is
 * JSON, is not a batch at all (400); in NDJSON that is partly readable, each bad line is
 * reported as that item's error so the good ones still go through.
 */
export function parseMany(body: Buffer, contentType: string | undefined): BodyItem[] {
  const all = text(body).replace(/^\uFEFF/, '');
  const trimmed = all.trimStart();
  const ndjson = /^application\/(x-)?ndjson\b/i.test(contentType ?? '') || !trimmed.startsWith('[');
  if (!ndjson) {
    const v = parseJson(all);
    if (!Array.isArray(v))
      throw new ValidationError(
        'CHARIOTS_ERR_BAD_JSON',
        'the body must be a JSON array of records or NDJSON',
      );
    return v.map((value) => ({ ok: true, value }));
  }
  const lines = all
    .split('\n')
    .map((line, i) => ({ line, no: i + 1 }))
    .filter((l) => l.line.trim().length > 0);
  if (lines.length === 0)
    throw new ValidationError(
      'CHARIOTS_ERR_BAD_JSON',
      'the body is empty; send a JSON array of records or NDJSON',
    );
  const items: BodyItem[] = lines.map(({ line, no }) => {
    try {
      return { ok: true, value: parseJson(line) };
    } catch (e) {
      const err = e as ChariotsError;
      return {
        ok: false,
        error: new ValidationError('CHARIOTS_ERR_BAD_JSON', `line ${no}: ${err.message}`),
      };
    }
  });
  if (items.every((it) => !it.ok)) {
    throw new ValidationError(
      'CHARIOTS_ERR_BAD_JSON',
      'the body is neither a JSON array nor NDJSON: no line is valid JSON',
    );
  }
  return items;
}
