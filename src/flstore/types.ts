import type { LogRecord } from '../record';

export type FsyncPolicy = 'always' | 'interval' | 'never';

/**
 * A query of GET /records: by tag (`key:value`, as hashed: the key may itself hold a colon),
 * tag hash, seed or id. uint64s are canonical decimals.
 */
export type StoreQuery =
  | { by: 'tag'; tag: string }
  | { by: 'hash'; hash: string }
  | { by: 'seed'; seed: string }
  | { by: 'id'; id: string };

/** What the read API needs from a store; the maintainer's FlStore is one. */
export interface StoreReader {
  /** The highest LId stored (0 when empty); LIds 1..lastLid are all readable. */
  lastLid(): number;
  get(lid: number): Promise<LogRecord | undefined>;
  /** Up to `limit` records from LId `from` on, in LId order. */
  range(from: number, limit: number): Promise<LogRecord[]>;
  /** Up to `limit` matching records with LId > `after`, in LId order. */
  query(q: StoreQuery, after: number, limit: number): Promise<LogRecord[]>;
  /** Resolves true once `lid` is stored; false if the store closes or `signal` aborts first. */
  waitForLid(lid: number, signal?: AbortSignal): Promise<boolean>;
}

/** One log-topic message to store: its decoded record, raw value and Kafka offset. */
export interface AppendEntry {
  record: LogRecord;
  value: Buffer;
  offset: string;
}
