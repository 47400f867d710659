import { parseJsonBytes } from './json';
import { completeIngest } from './ingest';
import { normalizeRecord } from './normalize';
import type { IngestRecord, RecordLimits } from './types';

/**
 * Records an application produced straight to the ingest topic (SPEC §3.3): the value is
 * raw §1 JSON, possibly with uint64s as bare JSON numbers and without id/receivedAt. They
 * get exactly the validation of an HTTP body (lossless parse + normalizeRecord 'kafka'),
 * then what the HTTP batcher would have assigned: a fresh id when absent, the local
 * datacenter for host 0, and the receive time.
 */

export interface ExternalIngestContext {
  limits: RecordLimits;
  /** Receive time to stamp (the filter passes the Kafka message timestamp or now). */
  now: Date;
  /** Id generator (UUIDv4 in production, deterministic in tests). */
  newId: () => string;
  /** This datacenter's id (≥ 1); replaces host 0. */
  localDcId: number;
}

/** Validates a directly produced ingest value; bad input → ValidationError with its code. */
export function parseExternalIngest(
  buf: Buffer,
  limits: RecordLimits,
  now: Date,
  newId: () => string,
  localDcId: number,
): IngestRecord {
  const input = normalizeRecord(parseJsonBytes(buf), 'kafka', limits);
  return completeIngest(input, localDcId, now.getTime(), newId);
}
