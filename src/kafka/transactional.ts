import type { Consumer, Producer, Transaction } from 'kafkajs';
import { BrokerUnavailableError, FencedError } from '../errors';
import type { Logger } from '../logger';
import { metrics } from '../metrics';
import type { KafkaClient } from './client';
import { chunkBySize, MAX_REQUEST_BYTES } from './chunk';
import { retryConcurrentTransactions, TRANSACTIONAL_RETRY } from './retry';
import { isFenced, preparePartition } from './partition-prepare';
import { groupByTopic } from './producer';
import { toInMessage } from './reader';
import { StallWatch, type PartitionPosition, type StallVerdict } from './stall';
import type { InBatch, OutMessage } from './types';

/** Handed to a stage while it processes one batch (or one out-of-band transaction). */
export interface TxContext {
  /** Queue a message for the transaction. */
  send(...messages: OutMessage[]): void;
  /** Run after the transaction committed: the only place stage state may change. */
  onCommit(fn: () => void): void;
}

export interface TransactionalStageOptions {
  kafka: KafkaClient;
  groupId: string;
  topic: string;
  /** Transactional ids are `${prefix}-${partition}`: one per input partition (the fencing scheme). */
  transactionalIdPrefix: string;
  /** The `stage` label of chariots_transaction_seconds. */
  stage: string;
  logger: Logger;
  sessionTimeoutMs?: number;
  /**
   * Input partitions processed at the same time (kafkajs partitionsConsumedConcurrently).
   * Each partition has its own producer, lock and state, so their transactions may overlap;
   * a stage's cross-partition state must then only change in onCommit callbacks.
   */
  concurrency?: number;
  /** Readiness turns false when records wait and nothing was processed for this long (ms). */
  stallMs?: number;
  /**
   * Called for each newly assigned partition AFTER its transactional producer has fenced any
   * previous owner: the place to rebuild state from changelogs. Batches of the partition wait.
   * May return the next input offset according to the stage's own changelog (written in the
   * same transactions as the input offsets): see prepare() for why it can be ahead.
   */
  onAssign?: (partition: number) => Promise<bigint | void>;
  onRevoke?: (partition: number) => void;
  process: (batch: InBatch, tx: TxContext) => Promise<void> | void;
  /**
   * Rewrites what a transaction sends just before it is sent, in every transaction (a
   * batch's and an out-of-band one alike): the filter and the queue pack the records bound
   * for one partition into few messages (src/stages/packing.ts).
   */
  pack?: (out: OutMessage[]) => OutMessage[];
  /**
   * 0 (default): every batch's transaction also commits its input offset to the group
   * (sendOffsets: AddOffsetsToTxn and TxnOffsetCommit, two of a transaction's five round
   * trips). Above 0: at most once per this many ms per partition, plus once this long after
   * the last batch (an offsets-only transaction) and at close. Only for a stage whose own
   * changelog records the input offset in each batch's transaction and whose onAssign
   * returns it: that is what a takeover resumes from (prepare takes the larger of the two),
   * the group offset is then a lower bound kept for lag monitoring.
   */
  offsetCommitIntervalMs?: number;
}

interface PartitionState {
  producer: Producer;
  ready: Promise<void>;
  /** Messages below this offset were committed by a previous owner: skip them. */
  startOffset: bigint;
  lock: Promise<void>;
  /** When a transaction last committed the input offset to the group (performance.now()). */
  offsetsAt: number;
  /** An input offset processed and recorded by the changelog, not yet in the group. */
  unsentOffset?: string;
  flushTimer?: NodeJS.Timeout;
}

/**
 * Exactly-once consume → produce. For each batch of input partition P: the stage's output and
 * the input offset are written in ONE Kafka transaction by the producer whose transactional
 * id belongs to P, so either both become visible (read_committed) or neither does.
 *
 * Fencing: when P is assigned, its producer is initialized first (InitProducerId bumps the
 * epoch: any zombie owner's open transaction is aborted and its next write is refused);
 * only then are P's committed offsets read (so they are final: no zombie can move them
 * anymore) and the stage's state rebuilt. Batches fetched before that are trimmed to start
 * at the final offset. Stage state changes only in onCommit callbacks, so a failed
 * transaction leaves no trace and the batch is simply fetched and processed again.
 */
export class TransactionalStage {
  private consumer: Consumer;
  private readonly partitions = new Map<number, PartitionState>();
  /** The partitions the group gave this instance at its last join. */
  private assignment = new Set<number>();
  /** The member id of the last join: a new one means this instance was out of the group. */
  private memberId: string | undefined;
  private closing = false;
  private crashed = false;
  private stall: StallWatch | undefined;

  /** False while the consumer is dead (between a non-retriable crash and its restart). */
  get healthy(): boolean {
    return !this.crashed && !this.closing;
  }

  /** For /readyz: healthy, and not stuck (records waiting, no progress for stallMs). */
  readiness(): StallVerdict {
    if (this.closing) return { ready: false, reason: 'closing' };
    if (this.crashed) return { ready: false, reason: 'consumer crashed; restarting' };
    return this.stall?.verdict() ?? { ready: true };
  }

  /** The next offset to process on each assigned partition (what is committed or about to be). */
  positions(): PartitionPosition[] {
    return [...this.partitions.entries()].map(([partition, s]) => ({
      partition,
      position: s.startOffset,
    }));
  }

  constructor(private readonly opts: TransactionalStageOptions) {
    this.consumer = this.createConsumer();
  }

  private get sessionTimeoutMs(): number {
    return this.opts.sessionTimeoutMs ?? 10000;
  }

  private get heartbeatIntervalMs(): number {
    return Math.max(1000, Math.floor(this.sessionTimeoutMs / 5));
  }

  private createConsumer(): Consumer {
    const opts = this.opts;
    return opts.kafka.consumer({
      groupId: opts.groupId,
      readUncommitted: false,
      sessionTimeout: this.sessionTimeoutMs,
      rebalanceTimeout: Math.max(15000, this.sessionTimeoutMs * 2),
      heartbeatInterval: this.heartbeatIntervalMs,
      maxWaitTimeInMs: 50,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5000 },
    });
  }

  get assigned(): number[] {
    return [...this.partitions.keys()];
  }

  async start(): Promise<void> {
    const { topic } = this.opts;
    if (this.opts.stallMs && !this.stall)
      this.stall = new StallWatch({
        kafka: this.opts.kafka,
        topic,
        stallMs: this.opts.stallMs,
        positions: () => this.positions(),
        logger: this.opts.logger,
      });
    // kafkajs restarts a crashed consumer only for retriable errors; after any other crash
    // it would sit idle forever while the process looks alive. Start a fresh one instead.
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      const { error, restart } = e.payload as { error: Error; restart: boolean };
      if (restart || this.closing) return;
      this.crashed = true;
      this.opts.logger.error({ err: error }, 'consumer crashed; starting a new one');
      const old = this.consumer;
      setTimeout(() => {
        void (async () => {
          await old.disconnect().catch(() => undefined);
          if (this.closing) return;
          this.consumer = this.createConsumer();
          await this.start();
          this.crashed = false;
        })().catch((err) => this.opts.logger.error({ err }, 'restarting the consumer failed'));
      }, 1000);
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      const payload = e.payload as {
        memberId: string;
        memberAssignment: Record<string, number[]>;
      };
      this.reassign(payload.memberAssignment[topic] ?? [], payload.memberId);
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // Session 2 saw 8 duplicate records twice in the kill test; the cause found in
      // session 3 (kafkajs showed aborted transactions to read_committed readers when
      // transactions of several producers interleave on one partition, which concurrency
      // makes common on `released`) is patched (patches/kafkajs+2.2.4.patch).
      partitionsConsumedConcurrently: this.opts.concurrency ?? 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isStale }) => {
        const state = this.partitions.get(batch.partition);
        if (!state || isStale()) return;
        if (!(await this.waitReady(state, heartbeat))) return;
        // The seek to the committed offset (issued while preparing) makes this batch stale.
        if (isStale() || this.partitions.get(batch.partition) !== state) return;
        const messages = batch.messages.filter((m) => BigInt(m.offset) >= state.startOffset);
        if (this.closing) return;
        if (messages.length === 0) {
          // Everything here was committed already: move past it without a transaction.
          if (batch.messages.length > 0)
            resolveOffset(batch.messages[batch.messages.length - 1].offset);
          return;
        }
        const last = messages[messages.length - 1].offset;
        const inBatch: InBatch = {
          topic,
          partition: batch.partition,
          highWatermark: batch.highWatermark,
          messages: messages.map((m) => toInMessage(topic, batch.partition, m)),
        };
        let committed: boolean;
        try {
          committed = await this.transaction(
            batch.partition,
            async (tx) => this.opts.process(inBatch, tx),
            last,
          );
        } catch (e) {
          // The partition is being rebuilt from Kafka (see transaction()); its rebuild seeks
          // back to the committed offset. Throwing here would crash the consumer, and a
          // restarted consumer is a new member: every partition would be rebuilt.
          if (e instanceof FencedError || e instanceof BrokerUnavailableError) return;
          throw e;
        }
        if (!committed) return;
        // Never process an offset twice, whatever kafkajs re-delivers (a seek issued while
        // this batch waited, a retried batch after a post-commit error).
        state.startOffset = BigInt(last) + 1n;
        resolveOffset(last);
        await heartbeat();
      },
    });
  }

  /**
   * Waits for a partition's rebuild, heartbeating. False when a heartbeat fails (the group
   * is rebalancing, or forgot this member): the batch is then given up at once so that
   * kafkajs can rejoin. Waiting on instead was a livelock in the 600 s chaos run (2026-11-26
   * 15:53): rebuilding 8 partitions of ~75 000 deferred records each outlasted the rebalance
   * timeout, so the member was expelled, rejoined as a new member, rebuilt everything again,
   * and expelled the other queue instance the same way. The rebuild itself goes on: a
   * partition that stays with this member keeps it (see reassign).
   */
  private async waitReady(state: PartitionState, heartbeat: () => Promise<void>): Promise<boolean> {
    let done = false;
    const ready = state.ready.then(() => (done = true));
    while (!done) {
      await Promise.race([ready, new Promise((r) => setTimeout(r, 1000))]);
      if (done) break;
      try {
        await heartbeat();
      } catch (err) {
        this.opts.logger.info(
          { err, topic: this.opts.topic },
          'heartbeat failed while a partition is rebuilt; giving the batch up to rejoin',
        );
        return false;
      }
    }
    return true;
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
   * state's next transaction fails and the partition is rebuilt (see onFenced): state changes
   * only on commit, so stale state never reaches the output.
   */
  private reassign(assigned: number[], memberId: string): void {
    const sameMember = memberId === this.memberId;
    this.memberId = memberId;
    this.assignment = new Set(assigned);
    for (const [p, s] of this.partitions) {
      if (sameMember && this.assignment.has(p)) continue;
      this.partitions.delete(p);
      void s.ready.finally(() => s.producer.disconnect().catch(() => undefined));
      if (!this.assignment.has(p)) this.opts.onRevoke?.(p);
    }
    const rebuilt = assigned.filter((p) => !this.partitions.has(p));
    for (const p of rebuilt) this.partitions.set(p, this.newState(p));
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
  private onFenced(p: number, fenced: PartitionState): void {
    if (this.partitions.get(p) !== fenced) return;
    this.partitions.delete(p);
    void fenced.producer.disconnect().catch(() => undefined);
    this.opts.onRevoke?.(p);
    if (!this.assignment.has(p)) return;
    // Without a state its batches are skipped unresolved, i.e. fetched again at once.
    this.consumer.pause([{ topic: this.opts.topic, partitions: [p] }]);
    const memberId = this.memberId;
    setTimeout(() => {
      if (this.closing || this.memberId !== memberId) return;
      if (!this.assignment.has(p) || this.partitions.has(p)) return;
      this.opts.logger.warn(
        { topic: this.opts.topic, partition: p },
        'partition still assigned here after a fence; rebuilding it from Kafka',
      );
      this.partitions.set(p, this.newState(p));
    }, this.heartbeatIntervalMs * 2).unref();
  }

  /** A fresh producer for partition P, prepared (fence, committed offset, state rebuilt). */
  private newState(p: number): PartitionState {
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
      offsetsAt: -Infinity,
    };
    this.consumer.resume([{ topic: this.opts.topic, partitions: [p] }]);
    state.ready = this.prepare(p, state);
    return state;
  }

  /**
   * After a failed transaction nobody knows whether it committed (a commit whose answer was
   * lost did commit). Guessing either way duplicates or loses, so the partition is prepared
   * again from what Kafka holds: committed offset and changelogs are the truth.
   */
  private resetPartition(p: number, failed: PartitionState): void {
    if (this.partitions.get(p) !== failed) return;
    if (this.closing) {
      // A closing instance has left the group: a rebuild would fence P's new owner (its
      // InitProducerId bumps the epoch) for nothing. The group-offset flush of close() can
      // fail here, and the changelog already holds what it would have committed.
      this.partitions.delete(p);
      void failed.lock.then(() => failed.producer.disconnect()).catch(() => undefined);
      return;
    }
    this.opts.logger.warn(
      { topic: this.opts.topic, partition: p },
      'transaction failed; rebuilding the partition from Kafka',
    );
    const next = this.newState(p);
    this.partitions.set(p, next);
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
      isCurrent: () => this.partitions.get(partition) === state,
    });
    if (start === undefined) return;
    state.startOffset = start;
    if (start > 0n)
      this.consumer.seek({ topic: this.opts.topic, partition, offset: start.toString() });
  }

  /**
   * Runs `fn` and commits what it sent in one transaction on partition P's producer,
   * serialized with P's batches. With `inputOffset`, the input offset is committed to the
   * group too — in this transaction or a later one (offsetCommitIntervalMs). `flush`: commit
   * the offset held back, as it stands when this transaction's turn comes (read earlier, a
   * batch committed meanwhile could be moved back).
   */
  async transaction(
    partition: number,
    fn: (tx: TxContext) => Promise<void> | void,
    offset?: string,
    flush = false,
  ): Promise<boolean> {
    const state = this.partitions.get(partition);
    if (!state) return false;
    const run = state.lock.then(async () => {
      await state.ready;
      if (this.partitions.get(partition) !== state) return false;
      const inputOffset = flush ? state.unsentOffset : offset;
      if (flush && inputOffset === undefined) return true;
      const out: OutMessage[] = [];
      const commits: Array<() => void> = [];
      await fn({ send: (...m) => out.push(...m), onCommit: (f) => commits.push(f) });
      const interval = this.opts.offsetCommitIntervalMs ?? 0;
      const withOffsets =
        inputOffset !== undefined &&
        (flush || interval <= 0 || performance.now() - state.offsetsAt >= interval);
      if (out.length === 0 && !withOffsets) {
        for (const f of commits) f();
        if (inputOffset !== undefined) this.offsetsLater(partition, state, inputOffset);
        return true;
      }
      const messages = this.opts.pack ? this.opts.pack(out) : out;
      let tx: Transaction | undefined;
      const started = performance.now();
      try {
        tx = await state.producer.transaction();
        for (const chunk of chunkBySize(messages, MAX_REQUEST_BYTES)) {
          await tx.sendBatch({ acks: -1, topicMessages: groupByTopic(chunk) });
        }
        if (withOffsets) {
          const active = tx;
          await retryConcurrentTransactions(() =>
            active.sendOffsets({
              consumerGroupId: this.opts.groupId,
              topics: [
                {
                  topic: this.opts.topic,
                  partitions: [
                    { partition, offset: (BigInt(inputOffset as string) + 1n).toString() },
                  ],
                },
              ],
            }),
          );
        }
        await tx.commit();
        metrics().transactionSeconds.observe(
          { stage: this.opts.stage },
          (performance.now() - started) / 1000,
        );
      } catch (e) {
        await tx?.abort().catch(() => undefined);
        if (isFenced(e)) {
          // Only forget the state that was fenced: a newer one may already stand for P.
          this.onFenced(partition, state);
          throw new FencedError(
            `transactional producer for partition ${partition} was fenced by another instance`,
            e,
          );
        }
        this.resetPartition(partition, state);
        throw new BrokerUnavailableError(
          `transaction on partition ${partition} failed; rebuilding the partition from Kafka`,
          e,
        );
      }
      // A state replaced meanwhile (rebalance, failed transaction) was rebuilt from Kafka by
      // its successor, which already holds this commit; applying it again would resurrect
      // what the successor has moved past (a released record deferred again, an old LId).
      if (this.partitions.get(partition) !== state) {
        this.opts.logger.debug(
          { topic: this.opts.topic, partition },
          'transaction committed by a superseded partition state; its state changes are dropped',
        );
        return true;
      }
      if (withOffsets) {
        state.offsetsAt = started;
        state.unsentOffset = undefined;
      } else if (inputOffset !== undefined) this.offsetsLater(partition, state, inputOffset);
      for (const f of commits) f();
      return true;
    });
    state.lock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * `offset` was processed and its transaction committed without the group offset: commit it
   * in an offsets-only transaction once the interval is over, unless a batch's does first.
   */
  private offsetsLater(p: number, state: PartitionState, offset: string): void {
    state.unsentOffset = offset;
    if (state.flushTimer) return;
    const wait = Math.max(
      0,
      (this.opts.offsetCommitIntervalMs ?? 0) - (performance.now() - state.offsetsAt),
    );
    state.flushTimer = setTimeout(() => {
      state.flushTimer = undefined;
      if (this.closing) return;
      void this.flushOffsets(p, state);
    }, wait);
    state.flushTimer.unref();
  }

  /**
   * Commits P's unsent input offset to the group. A failure is left to the next batch or
   * takeover: the stage's changelog already records the offset, the group's is a lower bound.
   */
  private async flushOffsets(p: number, state: PartitionState): Promise<void> {
    if (state.unsentOffset === undefined || this.partitions.get(p) !== state) return;
    await this.transaction(p, () => undefined, undefined, true).catch((err: unknown) =>
      this.opts.logger.debug(
        { err, topic: this.opts.topic, partition: p },
        'committing the input offset to the group failed; the changelog holds it',
      ),
    );
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.stall?.close();
    await this.consumer.disconnect();
    // The group offsets the interval held back: so that lag reads 0 and a successor starts
    // its fetch where this instance stopped (its changelog would say the same).
    await Promise.all(
      [...this.partitions.entries()].map(([p, s]) => {
        clearTimeout(s.flushTimer);
        return this.flushOffsets(p, s);
      }),
    );
    await Promise.all(
      [...this.partitions.values()].map((s) =>
        s.lock.then(() => s.producer.disconnect()).catch(() => undefined),
      ),
    );
    this.partitions.clear();
  }
}
