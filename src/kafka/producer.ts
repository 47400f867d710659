import { CompressionTypes, type Producer } from 'kafkajs';
import { BrokerUnavailableError, ChariotsError } from '../errors';
import type { Logger } from '../logger';
import { metrics } from '../metrics';
import { chunkBySize, MAX_REQUEST_BYTES } from './chunk';
import type { KafkaClient } from './client';
import type { OutMessage } from './types';

export interface BatchingProducerOptions {
  /** How long the first waiting message waits for company before a produce starts (ms). */
  lingerMs: number;
  /** Max messages per produce request. */
  maxBatchMessages: number;
  /** Max messages waiting or in flight; `send` beyond it fails fast with OVERLOADED. */
  maxPending: number;
  /** Max bytes (keys + values) waiting or in flight; beyond it `send` fails fast with OVERLOADED. */
  maxPendingBytes?: number;
  /**
   * A caller whose message is not acknowledged within this time gets BROKER_UNAVAILABLE
   * (the message may still be written: retries with the same record id are deduplicated).
   * Without it a caller waits as long as kafkajs retries, minutes when the broker hangs.
   */
  ackTimeoutMs?: number;
  logger: Logger;
}

interface Waiting {
  message: OutMessage;
  bytes: number;
  /** Its caller was answered with a timeout while it still waited in the queue: not sent. */
  expired?: boolean;
  resolve: () => void;
  reject: (e: unknown) => void;
}

const sizeOf = (m: OutMessage): number =>
  (m.value?.length ?? 0) + (m.key?.length ?? 0) + MESSAGE_OVERHEAD_BYTES;
/** What a queued message costs beyond its key and value (objects, closures, timer). */
const MESSAGE_OVERHEAD_BYTES = 200;

/**
 * An idempotent, acks=all producer that coalesces concurrent `send` calls into one produce
 * request. kafkajs has no linger and an idempotent producer must keep ONE request in flight
 * (maxInFlightRequests=1, or ordering/dedup breaks), so while one request is in flight the
 * next batch accumulates: under load batches grow by themselves, idle latency stays ~lingerMs.
 * Each caller's promise resolves only after the broker acknowledged ITS message.
 */
export class BatchingProducer {
  private readonly producer: Producer;
  private queue: Waiting[] = [];
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing = false;
  private closed = false;
  private idle: Array<() => void> = [];
  private bytes = 0;
  /** Acknowledged records per second, smoothed over recent produce requests. */
  private ackRate = 0;

  constructor(
    kafka: KafkaClient,
    private readonly options: BatchingProducerOptions,
  ) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  /** Messages accepted but not yet acknowledged. */
  get pending(): number {
    return this.queue.length + this.inFlight;
  }

  /** Bytes of the pending messages (keys, values and a fixed overhead each). */
  get pendingBytes(): number {
    return this.bytes;
  }

  /**
   * The most records that may be pending now. With ackTimeoutMs, a queue longer than the
   * broker acknowledges in half that time would only hold records whose callers time out
   * (all work, no goodput), so the limit follows the measured acknowledgement rate.
   */
  get limit(): number {
    const { ackTimeoutMs, maxPending, maxBatchMessages } = this.options;
    if (!ackTimeoutMs || this.ackRate === 0) return maxPending;
    const drainable = Math.floor((this.ackRate * ackTimeoutMs) / 2000);
    return Math.min(maxPending, Math.max(maxBatchMessages, drainable));
  }

  /** Whether `records` more records of `bytes` fit under `share` of the limits. */
  hasRoom(records: number, bytes: number, share = 1): boolean {
    if (this.pending === 0) return true;
    const maxBytes = this.options.maxPendingBytes ?? Infinity;
    return (
      this.pending + Math.max(records, 1) <= this.limit * share &&
      this.bytes + bytes <= maxBytes * share
    );
  }

  /** Why `messages` cannot be admitted now, or undefined. An idle producer takes any batch. */
  refuses(messages: OutMessage[]): ChariotsError | undefined {
    if (this.closed) return new ChariotsError('CHARIOTS_ERR_SHUTTING_DOWN', 'producer is closing');
    const bytes = messages.reduce((n, m) => n + sizeOf(m), 0);
    if (!this.hasRoom(messages.length, bytes))
      return new ChariotsError(
        'CHARIOTS_ERR_OVERLOADED',
        `too many records waiting for the broker (${this.pending}, ${this.bytes} bytes); retry later`,
      );
    return undefined;
  }

  send(message: OutMessage): Promise<void> {
    const refused = this.refuses([message]);
    return refused ? Promise.reject(refused) : this.enqueue(message);
  }

  /** All or nothing: the whole batch is admitted, or refused with OVERLOADED before any is queued. */
  sendMany(messages: OutMessage[]): Promise<void> {
    const refused = this.refuses(messages);
    if (refused) return Promise.reject(refused);
    return Promise.all(messages.map((m) => this.enqueue(m))).then(() => undefined);
  }

  /** All or nothing like sendMany (throws OVERLOADED), but one promise per message. */
  sendEach(messages: OutMessage[]): Array<Promise<void>> {
    const refused = this.refuses(messages);
    if (refused) throw refused;
    return messages.map((m) => this.enqueue(m));
  }

  private enqueue(message: OutMessage): Promise<void> {
    const bytes = sizeOf(message);
    this.bytes += bytes;
    const waiting = { message, bytes } as Waiting;
    const acked = new Promise<void>((resolve, reject) => {
      waiting.resolve = resolve;
      waiting.reject = reject;
      this.queue.push(waiting);
      this.schedule();
    });
    const { ackTimeoutMs } = this.options;
    if (!ackTimeoutMs) return acked;
    // A message still queued is dropped at the next flush (its caller retries with the same
    // id); one in flight stays counted until the broker answers, so a hanging broker cannot
    // make the queue grow past the limits.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        waiting.expired = true;
        reject(
          new BrokerUnavailableError(
            `the broker did not acknowledge the write within ${ackTimeoutMs} ms; it may still be appended, retry with the same id`,
          ),
        );
      }, ackTimeoutMs);
    });
    return Promise.race([acked, late]).finally(() => clearTimeout(timer));
  }

  private schedule(): void {
    if (this.flushing) return;
    if (this.queue.length >= this.options.maxBatchMessages || this.options.lingerMs === 0) {
      void this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.options.lingerMs);
    }
  }

  private async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const taken = this.queue.splice(0, this.options.maxBatchMessages);
        const batch = taken.filter((w) => !w.expired);
        this.bytes -= taken.reduce((n, w) => n + (w.expired ? w.bytes : 0), 0);
        if (batch.length === 0) continue;
        this.inFlight = batch.length;
        const batchBytes = batch.reduce((n, w) => n + w.bytes, 0);
        const started = Date.now();
        try {
          for (const chunk of chunkBySize(
            batch.map((w) => w.message),
            MAX_REQUEST_BYTES,
          )) {
            await this.producer.sendBatch({
              acks: -1,
              compression: CompressionTypes.None,
              topicMessages: groupByTopic(chunk),
            });
          }
          for (const w of batch) w.resolve();
          const rate = (batch.length * 1000) / Math.max(1, Date.now() - started);
          this.ackRate = this.ackRate === 0 ? rate : 0.7 * this.ackRate + 0.3 * rate;
        } catch (e) {
          this.options.logger.warn({ err: e, records: batch.length }, 'produce failed');
          metrics().produceErrors.inc();
          const err = new BrokerUnavailableError(
            `the broker did not acknowledge the write: ${(e as Error).message}`,
            e,
          );
          for (const w of batch) w.reject(err);
        } finally {
          this.inFlight = 0;
          this.bytes -= batchBytes;
        }
      }
    } finally {
      this.flushing = false;
      if (this.queue.length === 0) for (const f of this.idle.splice(0)) f();
    }
  }

  /** Flushes what was accepted, then disconnects. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.pending > 0) {
      await new Promise<void>((res) => {
        this.idle.push(res);
        void this.flush();
      });
    }
    await this.producer.disconnect();
  }
}

export function groupByTopic(messages: OutMessage[]) {
  const byTopic = new Map<
    string,
    {
      key?: string | Buffer | null;
      value: string | Buffer | null;
      partition?: number;
      headers?: Record<string, string>;
    }[]
  >();
  for (const m of messages) {
    let list = byTopic.get(m.topic);
    if (!list) byTopic.set(m.topic, (list = []));
    list.push({ key: m.key, value: m.value, partition: m.partition, headers: m.headers });
  }
  return [...byTopic.entries()].map(([topic, msgs]) => ({ topic, messages: msgs }));
}
