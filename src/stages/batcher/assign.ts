import { randomUUID } from 'node:crypto';
import type { IngestRecord, RecordInput } from '../../record';

/**
 * What the batcher adds to a validated record (SPEC §1): an id when the client gave none
 * (a UUID; a client that wants safe retries sends its own), this datacenter for host 0,
 * and the receive time.
 */
export function toIngest(
  input: RecordInput,
  dcId: number,
  now: Date = new Date(),
  newId: () => string = randomUUID,
): IngestRecord {
  return {
    ...input,
    id: input.id ?? newId(),
    host: input.host === 0 ? dcId : input.host,
    receivedAt: now.toISOString(),
  };
}
