import type { Consumer } from 'kafkajs';
import { BrokerUnavailableError, FencedError } from '../errors';
import { commitTransaction } from './commit-transaction';
import { isFenced } from './partition-prepare';
import { PartitionOwners, type PartitionState } from './partition-owners';
import { toInMessage } from './reader';
import type { TransactionalStageOptions, TxContext } from './transactional-options';
import { StallWatch, type PartitionPosition, type StallVerdict } from './stall';
import type { InBatch, OutMessage } from './types';

export type { TransactionalStageOptions, TxContext } from './transactional-options';

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
  private readonly partitions: PartitionOwners;
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
    return this.partitions.entries().map(([partition, s]) => ({
      partition,
      position: s.startOffset,
    }));
  }

  constructor(private readonly opts: TransactionalStageOptions) {
    this.consumer = this.createConsumer();
    this.partitions = new PartitionOwners({
      ...opts,
      consumer: () => this.consumer,
      isClosing: () => this.closing,
      fenceWaitMs: this.heartbeatIntervalMs * 2,
      flush: (p, state) => void this.flushOffsets(p, state),
    });
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
    return this.partitions.entries().map(([p]) => p);
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
      this.partitions.reassign(payload.memberAssignment[topic] ?? [], payload.memberId);
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
        if (isStale() || !this.partitions.isCurrent(batch.partition, state)) return;
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
      if (!this.partitions.isCurrent(partition, state)) return false;
      const inputOffset = flush ? state.offsets.pending : offset;
      if (flush && inputOffset === undefined) return true;
      const out: OutMessage[] = [];
      const commits: Array<() => void> = [];
      await fn({ send: (...m) => out.push(...m), onCommit: (f) => commits.push(f) });
      const withOffsets = state.offsets.due(inputOffset, flush);
      if (out.length === 0 && !withOffsets) {
        for (const f of commits) f();
        if (inputOffset !== undefined) state.offsets.hold(inputOffset);
        return true;
      }
      const started = performance.now();
      try {
        await commitTransaction(
          state.producer,
          this.opts.pack ? this.opts.pack(out) : out,
          withOffsets
            ? {
                groupId: this.opts.groupId,
                topic: this.opts.topic,
                partition,
                offset: inputOffset as string,
              }
            : undefined,
          this.opts.stage,
        );
      } catch (e) {
        if (isFenced(e)) {
          // Only forget the state that was fenced: a newer one may already stand for P.
          this.partitions.fenced(partition, state);
          throw new FencedError(
            `transactional producer for partition ${partition} was fenced by another instance`,
            e,
          );
        }
        this.partitions.reset(partition, state);
        throw new BrokerUnavailableError(
          `transaction on partition ${partition} failed; rebuilding the partition from Kafka`,
          e,
        );
      }
      // A state replaced meanwhile (rebalance, failed transaction) was rebuilt from Kafka by
      // its successor, which already holds this commit; applying it again would resurrect
      // what the successor has moved past (a released record deferred again, an old LId).
      if (!this.partitions.isCurrent(partition, state)) {
        this.opts.logger.debug(
          { topic: this.opts.topic, partition },
          'transaction committed by a superseded partition state; its state changes are dropped',
        );
        return true;
      }
      if (withOffsets) state.offsets.sent(started);
      else if (inputOffset !== undefined) state.offsets.hold(inputOffset);
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
   * Commits P's unsent input offset to the group. A failure is left to the next batch or
   * takeover: the stage's changelog already records the offset, the group's is a lower bound.
   */
  private async flushOffsets(p: number, state: PartitionState): Promise<void> {
    if (state.offsets.pending === undefined || !this.partitions.isCurrent(p, state)) return;
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
      this.partitions.entries().map(([p, s]) => {
        s.offsets.stop();
        return this.flushOffsets(p, s);
      }),
    );
    await Promise.all(
      this.partitions
        .entries()
        .map(([, s]) => s.lock.then(() => s.producer.disconnect()).catch(() => undefined)),
    );
    this.partitions.clear();
  }
}
