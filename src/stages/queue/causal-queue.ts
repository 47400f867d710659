import type { InBatch, OutMessage, TxContext } from '../../kafka';
import { decodeIngest, type IngestRecord, type LogKeys } from '../../record';
import type { Logger } from '../../logger';
import { metrics } from '../../metrics';
import { ReleaseBatch } from './cascade';
import { DeferredEntry, DeferredSet } from './deferred-set';
import { InFlight } from './in-flight';
import { digestKey } from './key-digest';
import { LogIndex } from './log-index';
import { prerequisitesOf, providedBeforeSequencing } from '../../record/prerequisites';
import type { ChangelogRestore } from './restore';
import { deadLetterValue, deferredValue, INPUT_OFFSET_KEY } from './values';

/** Scratch for one key's words (single-threaded; each call finishes with it). */
const key = new Uint32Array(4);

export interface CausalQueueTopics {
  released: string;
  deferred: string;
  deadletter: string;
}

/** Runs `fn` in partition P's transaction (serialized with P's batches); false if P is not ours. */
export type PartitionTx = (partition: number, fn: (tx: TxContext) => void) => Promise<boolean>;

/**
 * The queue's decisions, independent of how batches arrive. A record of partition P is
 * released when each prerequisite is in the log (LogIndex), or was released earlier by P
 * itself (InFlight, same producer, see in-flight.ts), or earlier in the same transaction
 * (ReleaseBatch). Otherwise it is deferred (changelog entry) until the log or a release of P
 * provides what it misses. State changes only in onCommit callbacks.
 */
export class CausalQueue {
  readonly index = new LogIndex();
  readonly deferred = new DeferredSet();
  readonly inFlight = new InFlight();
  private readonly pending = new Map<number, DeferredEntry[]>();
  private flushScheduled = false;

  constructor(
    private readonly topics: CausalQueueTopics,
    private readonly deferTimeoutMs: number,
    private readonly runTx: PartitionTx,
    private readonly logger: Logger,
  ) {}

  private tombstone(e: DeferredEntry): OutMessage {
    return { topic: this.topics.deferred, partition: e.partition, key: e.id, value: null };
  }

  private batchFor(partition: number, expected?: number): ReleaseBatch {
    return new ReleaseBatch(
      partition,
      this.deferred,
      (kind, w) => this.satisfiedDigest(kind, w),
      expected,
    );
  }

  private satisfied(k: string): boolean {
    const kind = digestKey(k, key);
    return kind >= 0 && this.satisfiedDigest(kind, key);
  }

  private satisfiedDigest(kind: number, w: Uint32Array): boolean {
    return this.index.hasDigest(kind, w) || this.inFlight.hasDigest(kind, w);
  }

  /** Writes a ReleaseBatch into `tx` and adopts it on commit. */
  private emit(tx: TxContext, rb: ReleaseBatch): void {
    const woken = new Set(rb.woken.map((e) => e.id));
    // The bytes the record arrived (or was deferred) with: `filtered` holds encodeIngest's
    // output already, so there is nothing to re-encode.
    rb.records.forEach((r, i) =>
      tx.send({ topic: this.topics.released, partition: 0, key: r.id, value: rb.values[i] }),
    );
    for (const e of rb.woken) tx.send(this.tombstone(e));
    tx.onCommit(() => {
      for (const id of woken) this.deferred.remove(id);
      if (rb.stale.length > 0) {
        metrics().duplicatesDropped.inc({ stage: 'queue' }, rb.stale.length);
        this.logger.warn(
          {
            partition: rb.partition,
            records: rb.stale.length,
            ids: rb.stale.slice(0, 5).map((e) => e.id),
          },
          'deferred entries of records already in the log tombstoned, not released again',
        );
      }
      // Waiters in OTHER partitions (same-partition ones were cascaded above) may now be
      // ready: what they miss is in the log or released by this process.
      const ready: DeferredEntry[] = [];
      for (let i = 0; i < rb.records.length; i++) {
        const r = rb.records[i];
        if (this.index.hasId(r.id)) continue;
        if (!this.inFlight.add(rb.provides[i])) continue;
        if (!this.deferred.mayWaitForAny(rb.provides[i])) continue;
        for (const k of providedBeforeSequencing(r)) {
          for (const w of this.deferred.waitersOf(k)) {
            if (w.ready((m) => this.satisfied(m))) ready.push(w);
          }
        }
      }
      if (ready.length > 0) this.schedule(ready);
    });
  }

  /** One input batch of `filtered` partition P. */
  processBatch(batch: InBatch, tx: TxContext): void {
    const now = Date.now();
    const rb = this.batchFor(batch.partition, batch.messages.length);
    const toDefer: Array<{ record: IngestRecord; value: Buffer; deadline: number | null }> = [];
    const repeated: string[] = [];
    for (const m of batch.messages) {
      if (!m.value) continue;
      let record: IngestRecord;
      try {
        record = decodeIngest(m.value);
      } catch (err) {
        // Only Chariots writes `filtered`; an undecodable value is skipped, never allowed to block the partition.
        this.logger.error(
          { err, partition: m.partition, offset: m.offset },
          'undecodable filtered message skipped',
        );
        continue;
      }
      if (record.remote && this.index.hasToid(record.host, record.remote.toid)) {
        // A peer re-sent a record this log already holds (at-least-once replication).
        continue;
      }
      if (rb.satisfiedId(record.id)) {
        // Already in the log, released by this process, or earlier in this batch: a second
        // copy that got past the filter (its dedup state rebuilt after a failure). Ids are
        // unique within the dedup window, so it is the same record.
        repeated.push(record.id);
        continue;
      }
      const missing = rb.missing(prerequisitesOf(record));
      if (missing.length === 0) {
        rb.release(record, m.value);
        continue;
      }
      // A replicated record is already in its origin's log: dead-lettering it here would
      // leave this log without it forever (and every later record of that origin behind
      // it). It waits as long as the peers take to deliver what it needs (a sender stopped
      // for an hour, a relay holding one message back).
      const deadline = this.deferTimeoutMs > 0 && !record.remote ? now + this.deferTimeoutMs : null;
      toDefer.push({ record, value: m.value, deadline });
      tx.send({
        topic: this.topics.deferred,
        partition: batch.partition,
        key: record.id,
        value: deferredValue(m.value, deadline, missing),
      });
    }
    this.emit(tx, rb);
    // Where this partition's queue stands, in the same transaction (see INPUT_OFFSET_KEY).
    const last = batch.messages[batch.messages.length - 1];
    if (last)
      tx.send({
        topic: this.topics.deferred,
        partition: batch.partition,
        key: INPUT_OFFSET_KEY,
        value: last.offset,
      });
    tx.onCommit(() => {
      for (const d of toDefer) this.defer(d.record, d.value, batch.partition, d.deadline);
      if (repeated.length > 0) {
        metrics().duplicatesDropped.inc({ stage: 'queue' }, repeated.length);
        this.logger.warn(
          { partition: batch.partition, records: repeated.length, ids: repeated.slice(0, 5) },
          'arrivals already in the log or released dropped',
        );
      }
    });
  }

  /**
   * Adds a committed deferral (or a restored one) and re-checks it: the log may have moved
   * on. `value`: the record's ingest value, released as is.
   */
  defer(record: IngestRecord, value: Buffer, partition: number, deadline: number | null): void {
    const missing = this.index.missing(record);
    const entry = new DeferredEntry(record.id, partition, value, deadline, missing);
    this.deferred.add(entry);
    if (entry.ready((k) => this.inFlight.has(k))) this.schedule([entry]);
  }

  /**
   * Rebuilds partition P's deferred records from its changelog (after forgetPartition): at most
   * `max` of them per call, the rest stay in `changelog` for the next call.
   */
  restore(partition: number, changelog: ChangelogRestore, max = Infinity): number {
    let n = 0;
    // A replicated record never expires (see processBatch), even if an older version wrote
    // a deadline into the changelog.
    for (const { record, value, deadline } of changelog.drain()) {
      this.defer(record, value, partition, record.remote ? null : deadline);
      if (++n >= max) break;
    }
    return n;
  }

  private readonly mayWait = (kind: number, words: Uint32Array): boolean =>
    this.deferred.mayWait(kind, words);

  /** What log records provide (the `logkeys` topic, or the log itself), in LId order. */
  onLog(records: readonly LogKeys[]): void {
    const ready: DeferredEntry[] = [];
    for (const r of records) {
      this.inFlight.remove(r.id);
      // With no record waiting, the keys need not be spelled out (most of the log). The
      // entry's hashes are numbers already: cheaper than parsing the in-flight string keys.
      for (const k of this.index.add(r, this.deferred.waitingKeys > 0 ? this.mayWait : undefined)) {
        for (const e of this.deferred.satisfy(k)) {
          // Ready when what is still missing was released by its own partition (in-flight).
          if (e.ready((m) => this.inFlight.has(m))) ready.push(e);
        }
      }
    }
    if (ready.length > 0) this.schedule(ready);
  }

  private schedule(entries: DeferredEntry[]): void {
    for (const e of entries) {
      if (e.busy) continue;
      e.busy = true;
      let list = this.pending.get(e.partition);
      if (!list) this.pending.set(e.partition, (list = []));
      list.push(e);
    }
    if (!this.flushScheduled && this.pending.size > 0) {
      this.flushScheduled = true;
      setImmediate(() => void this.flush());
    }
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const work = [...this.pending.entries()];
    this.pending.clear();
    await Promise.all(work.map(([partition, entries]) => this.releaseWoken(partition, entries)));
  }

  private async releaseWoken(partition: number, entries: DeferredEntry[]): Promise<void> {
    try {
      const ok = await this.runTx(partition, (tx) => {
        const rb = this.batchFor(partition);
        // Only entries still current (a rebalance may have restored the partition meanwhile,
        // replacing these objects: releasing a stale one too would append it twice) and
        // still ready (what satisfied them may be gone from InFlight into the log: fine).
        for (const e of entries) {
          if (this.deferred.get(e.id) !== e || rb.has(e.id)) continue;
          if (!e.ready((k) => rb.satisfied(k))) continue;
          rb.releaseDeferred(e);
        }
        this.emit(tx, rb);
      });
      if (!ok) for (const e of entries) e.busy = false;
    } catch (err) {
      this.logger.warn({ err, partition, records: entries.length }, 'release failed; will retry');
      for (const e of entries) e.busy = false;
      setTimeout(
        () => this.schedule(entries.filter((x) => this.deferred.get(x.id) === x)),
        500,
      ).unref();
      return;
    }
    for (const e of entries) if (this.deferred.get(e.id) === e) e.busy = false;
  }

  /** Dead-letters deferred records whose deadline passed. */
  async expire(nowMs = Date.now()): Promise<void> {
    const byPartition = new Map<number, DeferredEntry[]>();
    for (const e of this.deferred.expired(nowMs)) {
      if (e.busy) continue;
      e.busy = true;
      let l = byPartition.get(e.partition);
      if (!l) byPartition.set(e.partition, (l = []));
      l.push(e);
    }
    for (const [partition, entries] of byPartition) {
      try {
        await this.runTx(partition, (tx) => {
          const deadAt = new Date(nowMs).toISOString();
          const live = entries.filter((e) => this.deferred.get(e.id) === e);
          for (const e of live) {
            tx.send(
              {
                topic: this.topics.deadletter,
                key: e.id,
                value: deadLetterValue(e, this.deferTimeoutMs, deadAt),
              },
              this.tombstone(e),
            );
          }
          tx.onCommit(() => {
            for (const e of live) this.deferred.remove(e.id);
            if (live.length > 0)
              this.logger.warn(
                { partition, records: live.length },
                'deferred records dead-lettered after timeout',
              );
          });
        });
      } catch (err) {
        this.logger.warn({ err, partition }, 'dead-lettering failed; will retry');
      } finally {
        for (const e of entries) e.busy = false;
      }
    }
  }

  forgetPartition(partition: number): void {
    this.deferred.removePartition(partition);
    this.pending.delete(partition);
  }
}
