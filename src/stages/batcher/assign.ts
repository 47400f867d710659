import { randomUUID } from 'node:crypto';
import { completeIngest, type IngestRecord, type RecordInput } from '../../record';

/**
 * The batcher's completion of a validated record (src/record/ingest.ts): a UUID when the
 * client gave no id (a client that wants safe retries sends its own), this datacenter for
 * host 0, and the receive time.
 */
export function toIngest(
  input: RecordInput,
  dcId: number,
  nowMs: number = Date.now(),
  newId: () => string = randomUUID,
): IngestRecord {
  return completeIngest(input, dcId, nowMs, newId);
}
