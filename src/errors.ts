/**
 * The one error catalog. Every error Chariots raises on purpose is a ChariotsError with a
 * stable `code` (tests and clients match on it), the HTTP status it maps to, and whether a
 * retry of the same request can succeed. Errors that steer control flow (retry later vs.
 * dead-letter a poison message) are their own subclasses so callers can `instanceof` them.
 */
export const ERROR_CODES = {
  // input (400 unless noted)
  CHARIOTS_ERR_BAD_JSON: { httpStatus: 400, retriable: false },
  CHARIOTS_ERR_BAD_RECORD: { httpStatus: 400, retriable: false },
  CHARIOTS_ERR_BAD_SEED: { httpStatus: 400, retriable: false },
  CHARIOTS_ERR_BAD_HASH: { httpStatus: 400, retriable: false },
  CHARIOTS_ERR_BAD_TAGS: { httpStatus: 400, retriable: false },
  CHARIOTS_ERR_BAD_ID: { httpStatus: 400, retriable: false },
  CHARIOTS_ERR_BAD_PARENT: { httpStatus: 400, retriable: false },
  CHARIOTS_ERR_BAD_HOST: { httpStatus: 400, retriable: false },
  CHARIOTS_ERR_BAD_QUERY: { httpStatus: 400, retriable: false },
  CHARIOTS_ERR_TOO_MANY_TAGS: { httpStatus: 400, retriable: false },
  CHARIOTS_ERR_TOO_MANY_PREREQUISITES: { httpStatus: 400, retriable: false },
  CHARIOTS_ERR_RECORD_TOO_LARGE: { httpStatus: 413, retriable: false },
  CHARIOTS_ERR_BODY_TOO_LARGE: { httpStatus: 413, retriable: false },
  CHARIOTS_ERR_UNSUPPORTED_MEDIA_TYPE: { httpStatus: 415, retriable: false },
  CHARIOTS_ERR_BAD_FRAME: { httpStatus: 400, retriable: false },
  CHARIOTS_ERR_NOT_FOUND: { httpStatus: 404, retriable: false },
  // access control (auth.tokens / auth.tokensFile)
  CHARIOTS_ERR_UNAUTHORIZED: { httpStatus: 401, retriable: false },
  CHARIOTS_ERR_FORBIDDEN: { httpStatus: 403, retriable: false },
  // configuration and setup
  CHARIOTS_ERR_BAD_CONFIG: { httpStatus: 500, retriable: false },
  CHARIOTS_ERR_TOPIC_MISMATCH: { httpStatus: 500, retriable: false },
  CHARIOTS_ERR_TOPIC_MISSING: { httpStatus: 500, retriable: false },
  CHARIOTS_ERR_NO_BROKER: { httpStatus: 503, retriable: false },
  CHARIOTS_ERR_UNKNOWN_STAGE: { httpStatus: 500, retriable: false },
  // runtime
  CHARIOTS_ERR_BROKER_UNAVAILABLE: { httpStatus: 503, retriable: true },
  CHARIOTS_ERR_OVERLOADED: { httpStatus: 429, retriable: true },
  CHARIOTS_ERR_TIMEOUT: { httpStatus: 504, retriable: true },
  CHARIOTS_ERR_SHUTTING_DOWN: { httpStatus: 503, retriable: true },
  // a batcher forwarding reads (batcher.readUrls): no maintainer's read API answered
  CHARIOTS_ERR_MAINTAINER_UNAVAILABLE: { httpStatus: 503, retriable: true },
  CHARIOTS_ERR_FENCED: { httpStatus: 500, retriable: false },
  CHARIOTS_ERR_POISON_MESSAGE: { httpStatus: 500, retriable: false },
  CHARIOTS_ERR_INTERNAL: { httpStatus: 500, retriable: false },
  // flstore: a stored record fails its checksum, or the log topic skips an LId
  CHARIOTS_ERR_CORRUPT_STORE: { httpStatus: 500, retriable: false },
  CHARIOTS_ERR_LOG_GAP: { httpStatus: 500, retriable: false },
  // flstore: another process (a maintainer, a rebuild) writes this store directory
  CHARIOTS_ERR_STORE_LOCKED: { httpStatus: 409, retriable: false },
  // the installed kafkajs lacks patches/kafkajs+2.2.4.patch (see src/kafka/kafkajs-patch.ts)
  CHARIOTS_ERR_KAFKA_CLIENT_UNPATCHED: { httpStatus: 500, retriable: false },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class ChariotsError extends Error {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  readonly retriable: boolean;
  readonly details?: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.httpStatus = ERROR_CODES[code].httpStatus;
    this.retriable = ERROR_CODES[code].retriable;
    this.details = options.details;
  }

  /** The HTTP/SDK wire shape: `{"error":{"code","message"}}` (SPEC §2.8). */
  toJSON(): { error: { code: ErrorCode; message: string; details?: Record<string, unknown> } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details ? { details: this.details } : {}),
      },
    };
  }
}

/** Input that can never become a valid record; it is refused (HTTP) or skipped (TCP/Kafka). */
export class ValidationError extends ChariotsError {}

/** The broker could not take the write now; the same request may succeed later. */
export class BrokerUnavailableError extends ChariotsError {
  constructor(message: string, cause?: unknown) {
    super('CHARIOTS_ERR_BROKER_UNAVAILABLE', message, { cause });
  }
}

/** A message a stage can never process (undecodable); it goes to the dead-letter topic. */
export class PoisonMessageError extends ChariotsError {
  constructor(message: string, details?: Record<string, unknown>, cause?: unknown) {
    super('CHARIOTS_ERR_POISON_MESSAGE', message, { cause, details });
  }
}

/** Another instance took over our transactional id; this instance must stop writing. */
export class FencedError extends ChariotsError {
  constructor(message: string, cause?: unknown) {
    super('CHARIOTS_ERR_FENCED', message, { cause });
  }
}

export class ConfigError extends ChariotsError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('CHARIOTS_ERR_BAD_CONFIG', message, { details });
  }
}

export function isChariotsError(e: unknown): e is ChariotsError {
  return e instanceof ChariotsError;
}
