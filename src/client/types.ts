import type { PublicRecord } from '../record/codec';
import type { Uint64Like } from './uint64';

export type { Uint64Like };

/** A uint64 as the server writes it: a canonical decimal string ("0" … "18446744073709551615"). */
export type Uint64String = string;

/** What `append` takes (SPEC §1). uint64s may be bigint, decimal string, or a safe-integer number. */
export interface AppendRecord {
  /** The record's content. Default `{}`. */
  tags?: Record<string, string>;
  /** The causal chain it belongs to. Default 0. */
  seed?: Uint64Like;
  /** Prerequisite tag hashes (same seed), all of which must be in the log first. 0 / [] = none. */
  prehash?: Uint64Like | Uint64Like[];
  /** Prerequisite record ids, which must be in the log first. */
  parent?: string | string[];
  /** Prerequisite by origin: the record with TOId `pretoid` from datacenter `prehost`. */
  prehost?: number;
  pretoid?: number;
  /** Id and idempotency key (≤ 128 chars). The client assigns a UUID when absent. */
  id?: string;
  /** Origin datacenter; 0 or absent = the server's own. */
  host?: number;
}

/**
 * A record of the log, as every read returns it (SPEC §1 output; uint64s as decimal strings).
 * The one definition of that wire shape lives beside its encoder; a type-only import, so the
 * SDK still loads no server code.
 */
export type LogRecord = PublicRecord;

export interface ClientOptions {
  /** Base URL of a batcher (or a maintainer, for reads), e.g. `http://localhost:8080`. */
  url: string;
  /** Sent as `Authorization: Bearer <token>` when set (for a proxy in front of Chariots). */
  token?: string;
  /** Per HTTP attempt, in ms (default 30 000). `append(…, { waitAppended })` adds its wait. */
  timeoutMs?: number;
  /** How many times a retriable failure is retried (default 5; 0 = never). */
  retries?: number;
  /** First backoff in ms (default 100); doubles per attempt, with jitter. */
  backoffMs?: number;
  /** Backoff cap in ms (default 5 000). */
  maxBackoffMs?: number;
  /** Longest Retry-After honored, in ms (default 60 000); longer ones are capped. */
  maxRetryAfterMs?: number;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
}

export interface AppendOptions {
  /** Answer only once the record is in the log, with its `lid` (`?wait=appended`). */
  waitAppended?: boolean;
  /** How long the server waits for the append, in ms (its default: batcher.waitTimeoutMs). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface AppendResult {
  id: string;
  /** Set when `waitAppended` was asked. */
  lid?: number;
}

/** One item of `appendBatch`, in input order: its id, and the error when it was refused. */
export interface BatchItemResult {
  id: string;
  error?: { code: string; message: string; retriable: boolean };
}

export type QuerySelector =
  | { tag: [key: string, value: string] | string }
  | { hash: Uint64Like }
  | { seed: Uint64Like }
  | { id: string };

export interface QueryOptions {
  /** Only records with a larger LId (default 0). */
  after?: number;
  /** At most this many records in all (default: every match). */
  limit?: number;
  /** Records per request (1 … 1000, default 100). */
  pageSize?: number;
  signal?: AbortSignal;
}

export interface QueryPage {
  records: LogRecord[];
  /** The `after` of the next page; absent when this page was the last. */
  next?: number;
}

export interface TailOptions {
  /** First LId to read (default 1). */
  fromLid?: number;
  /** Ends the iteration (like `return()`). */
  signal?: AbortSignal;
  /** Reconnections in a row without receiving a record before giving up (default: forever). */
  maxReconnects?: number;
}
