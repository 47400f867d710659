import { ERROR_CODES } from '../errors';

/**
 * JSON schemas of the HTTP API, for the OpenAPI document (src/http/openapi.ts). They
 * describe; they do not validate or serialize: createApp switches both off, because the
 * handlers check their input themselves with the catalog's codes (an ajv error would be a
 * generic 400) and a response schema would silently drop any field it does not list.
 * src/http/openapi.test.ts checks real answers against these schemas.
 */

const uint64 = {
  type: 'string',
  pattern: '^[0-9]{1,20}$',
  description: 'uint64 as a decimal string (exact)',
} as const;

export const errorBody = {
  type: 'object',
  description: 'Every error (SPEC §2.8); `code` is one of src/errors.ts',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: Object.keys(ERROR_CODES) },
        message: { type: 'string' },
        details: { type: 'object', additionalProperties: true },
      },
    },
  },
} as const;

const STATUS_TEXT: Record<number, string> = {
  400: 'Invalid input (CHARIOTS_ERR_BAD_*)',
  401: 'No or unknown bearer token (when tokens are configured)',
  403: 'The token lacks the role this route needs',
  404: 'Not found',
  413: 'Record or body too large',
  415: 'Unsupported content type',
  429: 'Overloaded: retry later (retry-after)',
  500: 'Internal error',
  503: 'Broker (or, for a forwarded read, every maintainer) unavailable, or shutting down: retry later (retry-after)',
  504: 'Timed out waiting: the record may still be appended',
};

/** The error answers of a route: 401/403/500 always, plus `statuses`. */
export function errorResponses(...statuses: number[]): Record<number, object> {
  const out: Record<number, object> = {};
  for (const s of [...new Set([...statuses, 401, 403, 500])].sort((a, b) => a - b))
    out[s] = { ...errorBody, description: STATUS_TEXT[s] ?? 'Error' };
  return out;
}

export const publicRecord = {
  type: 'object',
  description: 'A record of the log (SPEC §1 output shape)',
  required: [
    'lid',
    'toid',
    'host',
    'id',
    'seed',
    'prehash',
    'parent',
    'tags',
    'receivedAt',
    'appendedAt',
  ],
  properties: {
    lid: { type: 'integer', minimum: 1, description: "Position in this datacenter's log" },
    toid: { type: 'integer', minimum: 1, description: 'Sequence number in its origin datacenter' },
    host: { type: 'integer', minimum: 1, description: 'Origin datacenter' },
    id: { type: 'string' },
    seed: uint64,
    prehash: { type: 'array', items: uint64 },
    parent: { type: 'array', items: { type: 'string' } },
    prehost: { type: 'integer' },
    pretoid: { type: 'integer' },
    tags: { type: 'object', additionalProperties: { type: 'string' } },
    receivedAt: { type: 'string', format: 'date-time' },
    appendedAt: { type: 'string', format: 'date-time' },
  },
} as const;

const uint64In = {
  oneOf: [{ type: 'integer', minimum: 0 }, uint64],
  description: 'uint64: a JSON number (read exactly) or a decimal string',
} as const;

export const recordInput = {
  type: 'object',
  description: 'One record to append (SPEC §1); GoChariots bodies are accepted unchanged',
  properties: {
    tags: { type: 'object', additionalProperties: { type: 'string' } },
    seed: uint64In,
    prehash: { oneOf: [uint64In, { type: 'array', items: uint64In }] },
    strseed: uint64,
    strhash: { oneOf: [uint64, { type: 'array', items: uint64 }] },
    parent: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    prehost: { type: 'integer', minimum: 1 },
    pretoid: { type: 'integer', minimum: 1 },
    id: { type: 'string', maxLength: 128 },
    host: { type: 'integer', minimum: 0 },
  },
  additionalProperties: true,
} as const;

/** A page of records; `next` is the `after`/`from` of the next page when this one is full. */
export const recordPage = {
  type: 'object',
  required: ['records'],
  properties: {
    records: { type: 'array', items: publicRecord },
    next: { type: 'integer' },
  },
} as const;

export const limitParam = {
  type: 'string',
  pattern: '^[0-9]+$',
  description: 'Page size, 1..1000 (default 100)',
} as const;
