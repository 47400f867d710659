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
}

const asChariots = (e: unknown): ChariotsError =>
  e instanceof ChariotsError ? e : new ChariotsError('CHARIOTS_ERR_INTERNAL', String(e));

/** The real sink: the ingest topic, key = seed (so a seed's records share a partition). */
export class ProducerSink implements RecordSink {
  constructor(
    private readonly producer: BatchingProducer,
    private readonly topic: string,
    readonly capacity: number,
  ) {}

  get pending(): number {
    return this.producer.pending;
  }

  async append(records: IngestRecord[]): Promise<AppendOutcome[]> {
    // Checked up front for the whole batch: BatchingProducer.send checks one at a time, so
    // a batch crossing the limit would otherwise be half accepted yet answered with 429.
    if (records.length > this.capacity) {
      throw new ValidationError(
        'CHARIOTS_ERR_BODY_TOO_LARGE',
        `${records.length} records in one request; the limit is ${this.capacity} (batcher.maxPendingRecords)`,
      );
    }
    if (this.pending > 0 && this.pending + records.length > this.capacity) {
      throw new ChariotsError(
        'CHARIOTS_ERR_OVERLOADED',
        `too many records waiting for the broker (${this.pending}); retry later`,
      );
    }
    // send() enqueues synchronously, so after the check above every record is taken.
    const acks = records.map((r) =>
      this.producer.send({ topic: this.topic, key: r.seed, value: encodeIngest(r) }),
    );
    const settled = await Promise.allSettled(acks);
    return settled.map((s) => (s.status === 'fulfilled' ? null : asChariots(s.reason)));
  }
}
