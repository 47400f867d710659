/**
 * The one error the SDK throws. It carries the server's stable `code` (the catalog is
 * src/errors.ts; the SDK does not import it so that it stays free of server code), the HTTP
 * status that carried it, and whether sending the same request again can succeed.
 */
export class ChariotsClientError extends Error {
  /** The server's code (`CHARIOTS_ERR_…`), or a client-side one (`CHARIOTS_ERR_NETWORK`, …). */
  readonly code: string;
  /** The HTTP status of the answer; undefined when no answer came (network, client-side validation). */
  readonly httpStatus: number | undefined;
  /** True when the same request may succeed later (429, 503, network errors, timeouts). */
  readonly retriable: boolean;
  /** The server's `error.details`, when it sent some. */
  readonly details?: Record<string, unknown>;

  constructor(
    code: string,
    message: string,
    options: {
      httpStatus?: number;
      retriable?: boolean;
      details?: Record<string, unknown>;
      cause?: unknown;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ChariotsClientError';
    this.code = code;
    this.httpStatus = options.httpStatus;
    this.retriable = options.retriable ?? false;
    this.details = options.details;
  }
}

/** HTTP statuses worth the same request again: overloaded, unavailable, gateway hiccups. */
export function isRetriableStatus(status: number): boolean {
  return status === 429 || status === 502 || status === 503;
}

/** Builds the error for a non-2xx answer from its `{"error":{"code","message"}}` body. */
export function errorFromResponse(status: number, body: unknown): ChariotsClientError {
  const e =
    body && typeof body === 'object' && 'error' in body
      ? (body as { error: unknown }).error
      : undefined;
  const obj = e && typeof e === 'object' ? (e as Record<string, unknown>) : {};
  const code = typeof obj.code === 'string' ? obj.code : `CHARIOTS_ERR_HTTP_${status}`;
  const message =
    typeof obj.message === 'string' ? obj.message : `the server answered HTTP ${status}`;
  const details =
    obj.details && typeof obj.details === 'object'
      ? (obj.details as Record<string, unknown>)
      : undefined;
  return new ChariotsClientError(code, message, {
    httpStatus: status,
    retriable: isRetriableStatus(status) || code === 'CHARIOTS_ERR_TIMEOUT',
    details,
  });
}
