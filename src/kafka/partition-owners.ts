import type { Consumer, Producer } from 'kafkajs';
import { OffsetPacer } from './offset-pacer';
import { preparePartition } from './partition-prepare';
import { TRANSACTIONAL_RETRY } from './retry';
import type { TransactionalStageOptions } from './transactional-options';

/** What an instance holds for an input partition it owns. */
export interface PartitionState {
  /** The partition's transactional producer (id `${prefix}-${partition}`). */
  producer: Producer;
  /** Settles once the producer fenced any previous owner and the stage's state is rebuilt. */
  ready: Promise<void>;
  /** Messages below this offset were committed by a previous owner: skip them. */
  startOffset: bigint;
  /** The partition's transactions run one after another, chained on this. */
  lock: Promise<void>;
  offsets: OffsetPacer;
}

export interface PartitionOwnersOptions extends Pick<
  TransactionalStageOptions,
  | 'kafka'
  | 'groupId'
  | 'topic'
  | 'transactionalIdPrefix'
  | 'logger'
  | 'onAssign'
  | 'onRevoke'
  | 'offsetCommitIntervalMs'
> {
  /** The stage's current consumer (a crashed one is replaced). */
  consumer: () => Consumer;
  isClosing: () => boolean;
  /** How long a fenced partition that is still assigned here waits before its rebuild (ms). */
  fenceWaitMs: number;
  /** Commits the partition's held-back group offset (the OffsetPacer's trailing flush). */
  flush: (partition: number, state: PartitionState) => void;
}

/**
 * The input partitions this instance owns, each with its own transactional producer, and
 * what happens to them on a rebalance, a fence or a failed transaction. Whoever holds a
 * PartitionState checks `isCurrent` after every await: a replaced state was rebuilt from
 * Kafka by its successor and must not change anything.
 */
export class PartitionOwners {
  private readonly states = new Map<number, PartitionState>();
  /** The partitions the group gave this instance at its last join. */
  private assignment = new Set<number>();
  /** The member id of the last join: a new one means this instance was out of the group. */
  private memberId: string | undefined;

  constructor(private readonly opts: PartitionOwnersOptions) {}

  get(partition: number): PartitionState | undefined {
    return this.states.get(partition);
  }

  isCurrent(partition: number, state: PartitionState): boolean {
    return this.states.get(partition) === state;
  }

  entries(): Array<[number, PartitionState]> {
    return [...this.states.entries()];
  }

  /** Forgets every partition (after close() drained and disconnected them). */
  clear(): void {
    this.states.clear();
  }

  /**
   * Keeps the state of a partition that stays with this instance, rebuilds the others.
   * kafkajs's rebalancing is eager: every join hands out every partition again, and
   * rebuilding them all (the queue re-reads every deferred record) took 10–20 s per
   * partition set on a loaded machine; with an instance killed every ~30 s the queues did
   * little else and the log stalled (600 s chaos run, 2026-11-26 13:29).
   *
   * Why keeping is safe: between two generations of the same member nobody else owned P. A
   * new member id means this instance was out of the group (frozen past its session, its
   * consumer restarted), and another may have owned P meanwhile: then everything is rebuilt.
   * Whatever slips through (a zombie's late InitProducerId) fences this producer, so the stale
   * state's next transaction fails and the partition is rebuilt (see fenced): state changes
   * only on commit, so stale state never reaches the output.
   */
  reassign(assigned: number[], memberId: string): void {
    const sameMember = memberId === this.memberId;
    this.memberId = memberId;
    this.assignment = new Set(assigned);
    for (const [p, s] of this.states) {
      if (sameMember && this.assignment.has(p)) continue;
      this.states.delete(p);
      void s.ready.finally(() => s.producer.disconnect().catch(() => undefined));
      if (!this.assignment.has(p)) this.opts.onRevoke?.(p);
    }
    const rebuilt = assigned.filter((p) => !this.states.has(p));
    for (const p of rebuilt) this.states.set(p, this.create(p));
    this.opts.logger.info(
      { topic: this.opts.topic, partitions: assigned, rebuilt, memberId },
      'partitions assigned',
    );
  }

  /**
   * P's producer was fenced: another instance initialized P's transactional id, so this
   * state is stale. If the group still assigns P here, no rebalance will bring it back: P is
   * rebuilt (which fences the other instance) — but only after a pause long enough for a
   * heartbeat, so that a zombie (this instance, out of the group and not yet told) learns
   * of the rebalance first instead of fencing the rightful owner back and forth.
   */
  fenced(p: number, fenced: PartitionState): void {
    if (this.states.get(p) !== fenced) return;
    this.states.delete(p);
    void fenced.producer.disconnect().catch(() => undefined);
    this.opts.onRevoke?.(p);
    if (!this.assignment.has(p)) return;
    // Without a state its batches are skipped unresolved, i.e. fetched again at once.
    this.opts.consumer().pause([{ topic: this.opts.topic, partitions: [p] }]);
    const memberId = this.memberId;
    setTimeout(() => {
      if (this.opts.isClosing() || this.memberId !== memberId) return;
      if (!this.assignment.has(p) || this.states.has(p)) return;
      this.opts.logger.warn(
        { topic: this.opts.topic, partition: p },
        'partition still assigned here after a fence; rebuilding it from Kafka',
      );
      this.states.set(p, this.create(p));
    }, this.opts.fenceWaitMs).unref();
  }

  /** A fresh producer for partition P, prepared (fence, committed offset, state rebuilt). */
  private create(p: number): PartitionState {
    const producer = this.opts.kafka.producer({
      transactionalId: `${this.opts.transactionalIdPrefix}-${p}`,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 60000,
      retry: { ...TRANSACTIONAL_RETRY },
    });
    const state: PartitionState = {
      producer,
      startOffset: 0n,
      lock: Promise.resolve(),
      ready: Promise.resolve(),
      offsets: new OffsetPacer(this.opts.offsetCommitIntervalMs ?? 0, () => {
        if (!this.opts.isClosing()) this.opts.flush(p, state);
      }),
    };
    this.opts.consumer().resume([{ topic: this.opts.topic, partitions: [p] }]);
    state.ready = this.prepare(p, state);
    return state;
  }

  /**
   * After a failed transaction nobody knows whether it committed (a commit whose answer was
   * lost did commit). Guessing either way duplicates or loses, so the partition is prepared
   * again from what Kafka holds: committed offset and changelogs are the truth.
   */
  reset(p: number, failed: PartitionState): void {
    if (this.states.get(p) !== failed) return;
    if (this.opts.isClosing()) {
      // A closing instance has left the group: a rebuild would fence P's new owner (its
      // InitProducerId bumps the epoch) for nothing. The group-offset flush of close() can
      // fail here, and the changelog already holds what it would have committed.
      this.states.delete(p);
      void failed.lock.then(() => failed.producer.disconnect()).catch(() => undefined);
      return;
    }
    this.opts.logger.warn(
      { topic: this.opts.topic, partition: p },
      'transaction failed; rebuilding the partition from Kafka',
    );
    const next = this.create(p);
    this.states.set(p, next);
    void failed.lock.then(() => failed.producer.disconnect()).catch(() => undefined);
  }

  private async prepare(partition: number, state: PartitionState): Promise<void> {
    const start = await preparePartition(state.producer, {
      kafka: this.opts.kafka,
      groupId: this.opts.groupId,
      topic: this.opts.topic,
      partition,
      logger: this.opts.logger,
      onAssign: this.opts.onAssign,
      isCurrent: () => this.states.get(partition) === state,
    });
    if (start === undefined) return;
    state.startOffset = start;
    if (start > 0n)
      this.opts.consumer().seek({ topic: this.opts.topic, partition, offset: start.toString() });
  }
}
