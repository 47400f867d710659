import type { Logger } from '../logger';
import type { KafkaClient } from './client';
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
   * 0 (default): every batch's transaction also commits its input offset to the group.
   * Above 0: at most once per this many ms per partition (offset-pacer.ts). Only for a stage
   * whose own changelog records the input offset in each batch's transaction and whose
   * onAssign returns it: that is what a takeover resumes from (prepare takes the larger of
   * the two), the group offset is then a lower bound kept for lag monitoring.
   */
  offsetCommitIntervalMs?: number;
}
