import { ChariotsError, ValidationError } from '../../errors';
import type { BatchingProducer } from '../../kafka';
import { encodeIngest, type IngestRecord } from '../../record';

/** Per record: null once the broker acknowledged it, else why it was not. */
export type AppendOutcome = ChariotsError | null;

/**
 * Where accepted records go. HTTP and TCP both write through one sink; unit tests inject a
 * fake one so that routes can be exercised without a broker.
 */
export interface RecordSink {
  /**
   * Takes ALL records or none: rejects (OVERLOADED, SHUTTING_DOWN, BODY_TOO_LARGE) without
   * having accepted any. Otherwise resolves once every record settled, with its outcome.
   */
  append(records: IngestRecord[]): Promise<AppendOutcome[]>;
  /** Records accepted but not yet acknowledged. */
  readonly pending: number;
  /** The most that may be pending (maxPendingRecords). */
  readonly capacity: number;
  /** Bytes of the pending records, as the producer counts them. */
  readonly pendingBytes: number;
  /** The most bytes that may be pending (maxPendingBytes). */
  readonly capacityBytes: number;
  /**
   * Whether `records` more records (0 = any) fit under `share` of the limits now. The record
   * limit may be lower than `capacity`: it follows what the broker acknowledges in time.
   * The batcher's sink also says no while its event loop lags (loop-lag.ts).
   */
  hasRoom(records: number, share?: number): boolean;
  /** Why hasRoom says no, for the 429's message; the default names the broker. */
  whyFull?(): string;
}

/** The real sink: the ingest topic, key = seed (so a seed's records share a partition). */
export class ProducerSink implements RecordSink {
  constructor(
    private readonly producer: BatchingProducer,
    private readonly topic: string,
    readonly capacity: number,
    readonly capacityBytes: number,
  ) {}

  get pending(): number {
    return this.producer.pending;
  }

  get pendingBytes(): number {
    return this.producer.pendingBytes;
  }

  hasRoom(records: number, share = 1): boolean {
    return this.producer.hasRoom(records, 0, share);
  }

  async append(records: IngestRecord[]): Promise<AppendOutcome[]> {
    // A batch larger than the whole capacity could never be admitted: not worth a retry.
    if (records.length > this.capacity) {
      throw new ValidationError(
        'CHARIOTS_ERR_BODY_TOO_LARGE',
        `${records.length} records in one request; the limit is ${this.capacity} (batcher.maxPendingRecords)`,
      );
    }
    const messages = records.map((r) => ({
      topic: this.topic,
      key: r.seed,
      value: encodeIngest(r),
    }));
    return this.producer.sendEach(messages);
  }
}
