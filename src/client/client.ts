import { randomUUID } from 'node:crypto';
import { hashTag as hashTagImpl } from '../record/hash';
import { ChariotsClientError, errorFromResponse } from './errors';
import { NdjsonSplitter } from './ndjson';
import {
  backoffDelay,
  linkedController,
  parseRetryAfter,
  request,
  resolveOptions,
  sleep,
  type Answer,
  type ResolvedOptions,
} from './transport';
import type {
  AppendOptions,
  AppendRecord,
  AppendResult,
  BatchItemResult,
  ClientOptions,
  LogRecord,
  QueryOptions,
  QueryPage,
  QuerySelector,
  TailOptions,
} from './types';
import { uint64String } from './uint64';

const MAX_PAGE = 1000;

function bad(code: string, message: string): never {
  throw new ChariotsClientError(code, message);
}

function u64(value: unknown, field: string, code: string): string {
  const s = uint64String(value);
  if (typeof s === 'string') return s;
  return bad(
    code,
    `${field} must be an unsigned 64-bit integer (bigint, decimal string, or safe-integer number): ${s.error}`,
  );
}

/** The JSON body of one record, with its id assigned and every uint64 as a decimal string. */
function wireRecord(r: AppendRecord): Record<string, unknown> & { id: string } {
  if (!r || typeof r !== 'object' || Array.isArray(r))
    bad('CHARIOTS_ERR_BAD_RECORD', 'a record must be an object such as { tags: { k: "v" } }');
  const out: Record<string, unknown> & { id: string } = {
    id: r.id ?? randomUUID(),
    tags: r.tags ?? {},
  };
  if (typeof out.id !== 'string' || out.id.length === 0)
    bad('CHARIOTS_ERR_BAD_ID', 'id must be a non-empty string');
  if (r.seed !== undefined) out.seed = u64(r.seed, 'seed', 'CHARIOTS_ERR_BAD_SEED');
  if (r.prehash !== undefined) {
    const list = Array.isArray(r.prehash) ? r.prehash : [r.prehash];
    out.prehash = list.map((h, i) =>
      u64(h, Array.isArray(r.prehash) ? `prehash[${i}]` : 'prehash', 'CHARIOTS_ERR_BAD_HASH'),
    );
  }
  if (r.parent !== undefined) out.parent = r.parent;
  if (r.prehost !== undefined) out.prehost = r.prehost;
  if (r.pretoid !== undefined) out.pretoid = r.pretoid;
  if (r.host !== undefined) out.host = r.host;
  return out;
}

function selectorQuery(sel: QuerySelector): string {
  const given = ['tag', 'hash', 'seed', 'id'].filter(
    (k) => (sel as Record<string, unknown>)?.[k] !== undefined,
  );
  if (given.length !== 1)
    bad(
      'CHARIOTS_ERR_BAD_QUERY',
      'give exactly one of { tag: [k, v] }, { hash }, { seed }, { id }',
    );
  const p = new URLSearchParams();
  if ('tag' in sel) {
    const t = sel.tag;
    if (Array.isArray(t)) p.set('tag', `${t[0]}:${t[1]}`);
    else if (typeof t === 'string' && t.includes(':')) p.set('tag', t);
    else bad('CHARIOTS_ERR_BAD_QUERY', 'tag must be [key, value] or "key:value"');
  } else if ('hash' in sel) p.set('hash', u64(sel.hash, 'hash', 'CHARIOTS_ERR_BAD_HASH'));
  else if ('seed' in sel) p.set('seed', u64(sel.seed, 'seed', 'CHARIOTS_ERR_BAD_SEED'));
  else p.set('id', String(sel.id));
  return p.toString();
}

function checkLid(v: unknown, name: string, min: number): number {
  if (!(typeof v === 'number' && Number.isSafeInteger(v) && v >= min))
    bad('CHARIOTS_ERR_BAD_QUERY', `${name} must be an integer ≥ ${min}; got ${String(v)}`);
  return v as number;
}

/**
 * The typed Chariots client (SPEC §3.4). It talks HTTP only (global fetch), so it runs
 * wherever Node ≥ 20 does and needs no Kafka access.
 */
export class ChariotsClient {
  private readonly o: ResolvedOptions;

  constructor(options: ClientOptions) {
    this.o = resolveOptions(options);
  }

  /** The tag hash of SPEC §1: FNV-1a 64 of the UTF-8 bytes of `key:value`, as a decimal string. */
  static hashTag(key: string, value: string): string {
    return hashTagImpl(key, value);
  }

  /**
   * Appends one record. The id (a UUID when the record has none) is fixed before the first
   * attempt, so a retry after a network error, 429 or 503 can never append it twice.
   * With `waitAppended`, answers once the record is in the log, with its `lid`.
   */
  async append(record: AppendRecord, options: AppendOptions = {}): Promise<AppendResult> {
    const body = wireRecord(record);
    const { id } = body;
    if (!options.waitAppended) {
      await request(this.o, {
        method: 'POST',
        path: '/record',
        body: JSON.stringify(body),
        signal: options.signal,
      });
      return { id };
    }
    const q = new URLSearchParams({ wait: 'appended' });
    if (options.timeoutMs !== undefined) {
      checkLid(options.timeoutMs, 'timeoutMs', 1);
      q.set('timeout', String(options.timeoutMs));
    }
    // The server waits `timeout` (or its default, at most its own limit); the attempt allows that too.
    const attemptMs =
      this.o.timeoutMs === 0 ? 0 : this.o.timeoutMs + (options.timeoutMs ?? 10 * 60_000);
    // A retry of an append that did reach the log would wait for an append that already
    // happened: before retrying (and on a wait timeout), look the id up in the log first.
    const appendedAlready = async (): Promise<Answer | undefined> => {
      const lid = await this.lidOf(id, options.signal);
      return lid === undefined ? undefined : { status: 200, body: { id, lid } };
    };
    let ans: Answer;
    try {
      ans = await request(this.o, {
        method: 'POST',
        path: `/record?${q}`,
        body: JSON.stringify(body),
        timeoutMs: attemptMs,
        signal: options.signal,
        beforeRetry: appendedAlready,
      });
    } catch (e) {
      if (e instanceof ChariotsClientError && e.code === 'CHARIOTS_ERR_TIMEOUT') {
        const found = await appendedAlready().catch(() => undefined);
        if (found) ans = found;
        else throw e;
      } else throw e;
    }
    const lid = (ans.body as { lid?: unknown })?.lid;
    return typeof lid === 'number' ? { id, lid } : { id };
  }

  /**
   * Appends many records in one request (POST /records). Results are in input order; an item
   * refused by the server carries its error. The whole batch is retried with the same ids on
   * a network error, 429 or 503, and items that failed with a retriable error are sent again
   * (same ids) within the same retry budget.
   */
  async appendBatch(
    records: AppendRecord[],
    options: { signal?: AbortSignal } = {},
  ): Promise<BatchItemResult[]> {
    if (!Array.isArray(records)) bad('CHARIOTS_ERR_BAD_RECORD', 'appendBatch takes an array');
    const bodies = records.map(wireRecord);
    const results: BatchItemResult[] = bodies.map((b) => ({ id: b.id }));
    if (bodies.length === 0) return results;
    let pending = bodies.map((_, i) => i);
    for (let round = 0; ; round++) {
      const ans = await request(this.o, {
        method: 'POST',
        path: '/records',
        body: JSON.stringify(pending.map((i) => bodies[i])),
        signal: options.signal,
      });
      const items = (ans.body as { results?: unknown[] })?.results;
      if (!Array.isArray(items) || items.length !== pending.length)
        throw new ChariotsClientError(
          'CHARIOTS_ERR_BAD_RESPONSE',
          `POST /records answered ${Array.isArray(items) ? items.length : 'no'} results for ${pending.length} records`,
          { httpStatus: ans.status },
        );
      const again: number[] = [];
      items.forEach((item, k) => {
        const i = pending[k];
        const err = (item as { error?: { code?: unknown; message?: unknown } })?.error;
        if (!err) {
          results[i] = { id: bodies[i].id };
          return;
        }
        const code = typeof err.code === 'string' ? err.code : 'CHARIOTS_ERR_INTERNAL';
        const retriable =
          code === 'CHARIOTS_ERR_BROKER_UNAVAILABLE' ||
          code === 'CHARIOTS_ERR_OVERLOADED' ||
          code === 'CHARIOTS_ERR_SHUTTING_DOWN';
        results[i] = {
          id: bodies[i].id,
          error: { code, message: String(err.message ?? code), retriable },
        };
        if (retriable) again.push(i);
      });
      if (again.length === 0 || round >= this.o.retries) return results;
      pending = again;
      await sleep(backoffDelay(this.o, round), options.signal);
    }
  }

  /** The record at `lid`, or undefined when the log does not hold it (yet). */
  async get(lid: number, options: { signal?: AbortSignal } = {}): Promise<LogRecord | undefined> {
    checkLid(lid, 'lid', 1);
    const ans = await request(this.o, {
      method: 'GET',
      path: `/record/${lid}`,
      accept: [404],
      signal: options.signal,
    });
    if (ans.status === 404) {
      const code = (ans.body as { error?: { code?: string } })?.error?.code;
      // Only "no such record" is an answer; a 404 of something else (a wrong URL) is an error.
      if (code === 'CHARIOTS_ERR_NOT_FOUND') return undefined;
      throw new ChariotsClientError(
        code ?? 'CHARIOTS_ERR_HTTP_404',
        `GET /record/${lid} answered 404 without a CHARIOTS_ERR_NOT_FOUND: is ${this.o.base} a Chariots read API?`,
        { httpStatus: 404 },
      );
    }
    return ans.body as LogRecord;
  }

  /** One page of the records matching `selector`, in LId order (GET /records). */
  async queryPage(
    selector: QuerySelector,
    options: { after?: number; limit?: number; signal?: AbortSignal } = {},
  ): Promise<QueryPage> {
    const q = new URLSearchParams(selectorQuery(selector));
    if (options.after !== undefined) q.set('after', String(checkLid(options.after, 'after', 0)));
    if (options.limit !== undefined) {
      checkLid(options.limit, 'limit', 1);
      q.set('limit', String(Math.min(options.limit, MAX_PAGE)));
    }
    const ans = await request(this.o, {
      method: 'GET',
      path: `/records?${q}`,
      signal: options.signal,
    });
    const body = ans.body as { records?: LogRecord[]; next?: number };
    return {
      records: body.records ?? [],
      ...(typeof body.next === 'number' ? { next: body.next } : {}),
    };
  }

  /**
   * Every record matching `selector` (a tag `[key, value]`, a tag `hash`, a `seed` or an
   * `id`), in LId order, fetched page by page as the iteration proceeds.
   */
  async *query(selector: QuerySelector, options: QueryOptions = {}): AsyncGenerator<LogRecord> {
    selectorQuery(selector); // refuse a bad selector at the first next()
    let after = checkLid(options.after ?? 0, 'after', 0);
    let left = options.limit === undefined ? Infinity : checkLid(options.limit, 'limit', 1);
    const pageSize = Math.min(MAX_PAGE, checkLid(options.pageSize ?? 100, 'pageSize', 1));
    while (left > 0) {
      const page = await this.queryPage(selector, {
        after,
        limit: Math.min(pageSize, left),
        signal: options.signal,
      });
      for (const r of page.records) {
        if (left-- <= 0) return;
        yield r;
      }
      if (page.next === undefined || page.records.length === 0) return;
      after = page.next;
    }
  }

  /**
   * The log from `fromLid` on, following its tail (GET /log/stream, NDJSON). When the
   * connection drops, it reconnects from the last LId seen + 1 (backoff between attempts),
   * so every record is yielded once, in LId order, with no gap. It ends when the iteration
   * is broken / `return()`ed or `signal` aborts (the open request is aborted at once), or on
   * an error that a retry cannot fix (e.g. 400).
   */
  tail(options: TailOptions = {}): AsyncIterableIterator<LogRecord> {
    const from = checkLid(options.fromLid ?? 1, 'fromLid', 1);
    const stop = linkedController(0, options.signal);
    const follow = this.follow(from, stop.signal, options.maxReconnects ?? Infinity);
    const gen = (async function* () {
      try {
        yield* follow;
      } finally {
        stop.dispose();
      }
    })();
    const it: AsyncIterableIterator<LogRecord> = {
      next: () => gen.next(),
      return: async () => {
        stop.abort();
        stop.dispose();
        return gen.return(undefined);
      },
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  private async *follow(
    from: number,
    stop: AbortSignal,
    maxReconnects: number,
  ): AsyncGenerator<LogRecord> {
    let next = from;
    let failures = 0;
    while (!stop.aborted) {
      let lastError: ChariotsClientError | undefined;
      let retryAfterMs: number | undefined;
      try {
        const res = await fetch(`${this.o.base}/log/stream?from=${next}`, {
          headers: { accept: 'application/x-ndjson', ...this.o.headers },
          signal: stop,
        });
        if (!res.ok) {
          const text = await res.text().catch(() => '');
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            body = undefined;
          }
          lastError = errorFromResponse(res.status, body);
          if (!lastError.retriable) throw lastError;
          retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
        } else if (res.body) {
          const split = new NdjsonSplitter();
          const reader = res.body.getReader();
          try {
            for (;;) {
              const { done, value } = await reader.read();
              if (done) break;
              for (const line of split.push(value)) {
                const r = JSON.parse(line) as LogRecord;
                if (typeof r.lid !== 'number' || r.lid < next) continue; // never twice
                next = r.lid + 1;
                failures = 0;
                yield r;
              }
            }
          } finally {
            reader.cancel().catch(() => undefined);
          }
        }
      } catch (e) {
        if (stop.aborted) return;
        if (e instanceof ChariotsClientError && !e.retriable) throw e;
        if (e instanceof SyntaxError)
          throw new ChariotsClientError(
            'CHARIOTS_ERR_BAD_RESPONSE',
            `GET /log/stream sent a line that is not JSON: ${e.message}`,
            { cause: e },
          );
        lastError =
          e instanceof ChariotsClientError
            ? e
            : new ChariotsClientError(
                'CHARIOTS_ERR_NETWORK',
                `GET /log/stream?from=${next} failed: ${(e as Error)?.message ?? e}`,
                { retriable: true, cause: e },
              );
      }
      if (stop.aborted) return;
      // The stream ended (the server closed it) or failed: reconnect from the next LId.
      if (failures >= maxReconnects)
        throw (
          lastError ??
          new ChariotsClientError(
            'CHARIOTS_ERR_NETWORK',
            `GET /log/stream kept closing; gave up after ${maxReconnects} reconnections`,
            { retriable: true },
          )
        );
      const wait =
        retryAfterMs !== undefined
          ? Math.min(retryAfterMs, this.o.maxRetryAfterMs)
          : failures === 0
            ? 0
            : backoffDelay(this.o, failures - 1);
      failures++;
      try {
        await sleep(wait, stop);
      } catch {
        return;
      }
    }
  }

  /** The LId of the record with this id, when the log holds it. */
  private async lidOf(id: string, signal?: AbortSignal): Promise<number | undefined> {
    const page = await this.queryPage({ id }, { limit: 1, signal });
    return page.records[0]?.lid;
  }
}

/** The tag hash of SPEC §1: FNV-1a 64 of the UTF-8 bytes of `key:value`, as a decimal string. */
export function hashTag(key: string, value: string): string {
  return hashTagImpl(key, value);
}
