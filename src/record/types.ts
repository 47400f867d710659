/**
 * The record as it travels between stages. Every uint64 (seed, tag hash) is a canonical
 * decimal string ("0" … "18446744073709551615", no leading zeros): it never passes through
 * a JS `number`, and internal topics can be read with plain JSON.parse because no field
 * is a number that could exceed 2^53 (lid/toid/host are < 2^53 by construction).
 */
export type Uint64String = string;

/** Limits applied to every input form. Defaults live in src/config/schema.ts. */
export interface RecordLimits {
  /** Max bytes of one record's JSON (default 65536). */
  maxRecordBytes: number;
  /** Max number of tags (default 256). */
  maxTags: number;
  /** Max UTF-16 length of a tag key (default 256). */
  maxKeyLength: number;
  /** Max UTF-16 length of a tag value (default 16384). */
  maxValueLength: number;
  /** Max prehash + parent entries (default 64). */
  maxPrerequisites: number;
  /** Max id length (default 128, SPEC §1). */
  maxIdLength: number;
}

export const DEFAULT_RECORD_LIMITS: Readonly<RecordLimits> = Object.freeze({
  maxRecordBytes: 65536,
  maxTags: 256,
  maxKeyLength: 256,
  maxValueLength: 16384,
  maxPrerequisites: 64,
  maxIdLength: 128,
});

/** What a client sent, validated and normalized; `id`/`host` may still be unassigned. */
export interface RecordInput {
  /** Absent = the batcher (or filter, for direct Kafka produce) assigns a UUIDv4. */
  id?: string;
  /** 0 = this datacenter; replaced by the local dcId at ingest. */
  host: number;
  seed: Uint64String;
  /** Non-zero hashes, deduplicated, in input order. Empty = none. */
  prehash: Uint64String[];
  /** Ids that must already be in the log. Deduplicated. */
  parent: string[];
  /** Prerequisite by origin: the record with TOId `pretoid` from datacenter `prehost`. */
  prehost?: number;
  pretoid?: number;
  tags: Record<string, string>;
}

/**
 * Where a replicated record stood in its origin's log: its TOId there, and the origin log's
 * vector clock right after it (per-origin highest TOId). Set only on records a peer's sender
 * forwarded; the receiving queue appends the record only after everything the clock covers.
 */
export interface RemoteOrigin {
  toid: number;
  clock: Record<string, number>;
}

/** A record accepted into the ingest topic: id and host assigned, receive time stamped. */
export interface IngestRecord extends RecordInput {
  id: string;
  receivedAt: string;
  remote?: RemoteOrigin;
}

/** A record in the ordered log topic and in flstore. */
export interface LogRecord extends IngestRecord {
  /** This datacenter's position, dense from 1. */
  lid: number;
  /** Position among the records of origin `host`, dense from 1 per origin. */
  toid: number;
  appendedAt: string;
}
