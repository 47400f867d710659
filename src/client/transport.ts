import { ChariotsClientError, errorFromResponse, isRetriableStatus } from './errors';
import type { ClientOptions } from './types';

export interface ResolvedOptions {
  base: string;
  headers: Record<string, string>;
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  maxBackoffMs: number;
  maxRetryAfterMs: number;
}

export function resolveOptions(o: ClientOptions): ResolvedOptions {
  if (!o || typeof o.url !== 'string' || !/^https?:\/\//.test(o.url))
    throw new ChariotsClientError(
      'CHARIOTS_ERR_BAD_CONFIG',
      `url must be an http(s) URL such as http://localhost:8080; got ${JSON.stringify(o?.url)}`,
    );
  const nonNeg = (v: number | undefined, name: string, def: number) => {
    if (v === undefined) return def;
    if (!(typeof v === 'number' && v >= 0 && Number.isFinite(v)))
      throw new ChariotsClientError(
        'CHARIOTS_ERR_BAD_CONFIG',
        `${name} must be a number ≥ 0; got ${v}`,
      );
    return v;
  };
  return {
    base: o.url.replace(/\/+$/, ''),
    headers: {
      ...(o.headers ?? {}),
      ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
    },
    timeoutMs: nonNeg(o.timeoutMs, 'timeoutMs', 30_000),
    retries: Math.floor(nonNeg(o.retries, 'retries', 5)),
    backoffMs: nonNeg(o.backoffMs, 'backoffMs', 100),
    maxBackoffMs: nonNeg(o.maxBackoffMs, 'maxBackoffMs', 5_000),
    maxRetryAfterMs: nonNeg(o.maxRetryAfterMs, 'maxRetryAfterMs', 60_000),
  };
}

/** Capped exponential backoff with jitter (half to full of the step). */
export function backoffDelay(o: ResolvedOptions, attempt: number): number {
  const step = Math.min(o.maxBackoffMs, o.backoffMs * 2 ** Math.min(attempt, 30));
  return step / 2 + Math.random() * (step / 2);
}

/** Retry-After as ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function abortError(signal: AbortSignal): ChariotsClientError {
  return new ChariotsClientError('CHARIOTS_ERR_ABORTED', 'the request was aborted', {
    cause: signal.reason,
  });
}

/**
 * An AbortController that aborts after `ms` (0 = never) or when `parent` aborts; `timedOut`
 * tells the two apart. `dispose` clears the timer and the listener.
 */
export interface LinkedController {
  signal: AbortSignal;
  abort(reason?: unknown): void;
  timedOut(): boolean;
  dispose(): void;
}

export function linkedController(ms: number, parent?: AbortSignal): LinkedController {
  const ac = new AbortController();
  let timedOut = false;
  const timer =
    ms > 0
      ? setTimeout(() => {
          timedOut = true;
          ac.abort(new Error(`timed out after ${ms} ms`));
        }, ms)
      : undefined;
  const onParent = () => ac.abort(parent?.reason);
  if (parent?.aborted) onParent();
  else parent?.addEventListener('abort', onParent, { once: true });
  return {
    signal: ac.signal,
    abort: (reason?: unknown) => ac.abort(reason),
    timedOut: () => timedOut,
    dispose: () => {
      if (timer) clearTimeout(timer);
      parent?.removeEventListener('abort', onParent);
    },
  };
}

export interface RequestSpec {
  method: 'GET' | 'POST';
  /** Path and query string, e.g. `/record?wait=appended`. */
  path: string;
  body?: string;
  /** This attempt's timeout (default: the client's). */
  timeoutMs?: number;
  /** Statuses returned instead of thrown (e.g. 404 for `get`). */
  accept?: number[];
  signal?: AbortSignal;
  /**
   * Called before each retry (attempt ≥ 1) with the error that caused it; a defined result
   * ends the request with that result (e.g. the record turned out to be appended already).
   */
  beforeRetry?: (err: ChariotsClientError) => Promise<unknown>;
}

export interface Answer {
  status: number;
  body: unknown;
}

/** One HTTP attempt: the answer, or a ChariotsClientError (retriable for network failures). */
async function attempt(o: ResolvedOptions, spec: RequestSpec): Promise<Answer> {
  const ctl = linkedController(spec.timeoutMs ?? o.timeoutMs, spec.signal);
  try {
    const res = await fetch(`${o.base}${spec.path}`, {
      method: spec.method,
      headers: {
        accept: 'application/json',
        ...(spec.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...o.headers,
      },
      body: spec.body,
      signal: ctl.signal,
    });
    const text = await res.text();
    let body: unknown = undefined;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        if (res.ok)
          throw new ChariotsClientError(
            'CHARIOTS_ERR_BAD_RESPONSE',
            `the server answered ${res.status} with a body that is not JSON: ${text.slice(0, 80)}`,
            { httpStatus: res.status },
          );
      }
    }
    if (res.ok || spec.accept?.includes(res.status)) return { status: res.status, body };
    const err = errorFromResponse(res.status, body);
    const retryAfter = parseRetryAfter(res.headers.get('retry-after'));
    throw Object.assign(err, { retryAfterMs: retryAfter });
  } catch (e) {
    if (e instanceof ChariotsClientError) throw e;
    if (spec.signal?.aborted) throw abortError(spec.signal);
    if (ctl.timedOut())
      throw new ChariotsClientError(
        'CHARIOTS_ERR_CLIENT_TIMEOUT',
        `no answer from ${o.base}${spec.path} within ${spec.timeoutMs ?? o.timeoutMs} ms`,
        { retriable: true, cause: e },
      );
    throw new ChariotsClientError(
      'CHARIOTS_ERR_NETWORK',
      `${spec.method} ${o.base}${spec.path} failed: ${(e as Error)?.cause ?? (e as Error)?.message ?? e}`,
      { retriable: true, cause: e },
    );
  } finally {
    ctl.dispose();
  }
}

/**
 * Sends a request, retrying network errors, timeouts, 429, 502 and 503 (Retry-After honored,
 * else capped exponential backoff). Every request the SDK sends is safe to repeat: reads are,
 * and appends carry a client-assigned id that the server deduplicates.
 */
export async function request(o: ResolvedOptions, spec: RequestSpec): Promise<Answer> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(o, spec);
    } catch (e) {
      const err = e as ChariotsClientError & { retryAfterMs?: number };
      const retry =
        n < o.retries &&
        (err.httpStatus === undefined ? err.retriable : isRetriableStatus(err.httpStatus));
      if (!retry) throw err;
      const wait =
        err.retryAfterMs !== undefined
          ? Math.min(err.retryAfterMs, o.maxRetryAfterMs)
          : backoffDelay(o, n);
      await sleep(wait, spec.signal);
      if (spec.beforeRetry) {
        const done = await spec.beforeRetry(err).catch(() => undefined);
        if (done !== undefined) return done as Answer;
      }
    }
  }
}
