/**
 * When one input partition's offset goes to the consumer group (kafka.offsetCommitIntervalMs).
 *
 * sendOffsets is two of a transaction's five round trips (AddOffsetsToTxn, TxnOffsetCommit).
 * A stage whose own changelog records the input offset in every batch's transaction resumes
 * from that changelog, so the group offset only has to be a lower bound (for lag monitoring
 * and to start a successor's fetch near the end): it is sent at most once per interval, plus
 * once `intervalMs` after the last batch (an offsets-only transaction, `flush`) and at close.
 * Interval 0 sends it in every transaction.
 */
export class OffsetPacer {
  /** When a transaction that carried the group offset started (performance.now()). */
  private sentAt = -Infinity;
  /** An input offset processed (and recorded by the changelog), not yet in the group. */
  private unsent: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly intervalMs: number,
    /** Commits `pending` in an offsets-only transaction; called by the trailing timer. */
    private readonly flush: () => void,
  ) {}

  /** The offset processed but held back from the group, if any. */
  get pending(): string | undefined {
    return this.unsent;
  }

  /** Whether a transaction committing input `offset` should carry it to the group now. */
  due(offset: string | undefined, flushing: boolean): boolean {
    if (offset === undefined) return false;
    return flushing || this.intervalMs <= 0 || performance.now() - this.sentAt >= this.intervalMs;
  }

  /** A transaction that started at `startedAt` committed the group offset. */
  sent(startedAt: number): void {
    this.sentAt = startedAt;
    this.unsent = undefined;
  }

  /**
   * `offset` was committed without the group offset: hold it, and flush it once the interval
   * is over unless a batch's transaction carries a newer one first.
   */
  hold(offset: string): void {
    this.unsent = offset;
    if (this.timer || this.stopped) return;
    const wait = Math.max(0, this.intervalMs - (performance.now() - this.sentAt));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) this.flush();
    }, wait);
    this.timer.unref();
  }

  /** No more trailing flushes (closing: close() flushes what is pending itself). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
