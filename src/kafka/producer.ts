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
  /** The call it came with, and its place there. */
  group: SendGroup;
  index: number;
  /** Its caller was answered with a timeout while it still waited in the queue: not sent. */
  expired?: boolean;
  /** Its outcome is recorded (an acknowledgement after a timeout changes nothing). */
  settled?: boolean;
}

/**
 * The messages of one send call: ONE promise, and with ackTimeoutMs one timer, per call
 * rather than per message. A POST /records of 1 000 records used to cost 2 000 promises,
 * a Promise.race and a timer per record (GC was 17 % of the batcher's profile in (b)).
 */
interface SendGroup {
  /** Per message: null once acknowledged, else why not. */
  outcomes: Array<ChariotsError | null>;
  /** Messages not settled yet. */
  left: number;
  members: Waiting[];
  timer?: NodeJS.Timeout;
  finish: (outcomes: Array<ChariotsError | null>) => void;
}

const sizeOf = (m: OutMessage): number =>
  (m.value?.length ?? 0) + (m.key?.length ?? 0) + MESSAGE_OVERHEAD_BYTES;
/** What a queued message costs beyond its key and value (its objects). */
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

  async send(message: OutMessage): Promise<void> {
    const [outcome] = await this.sendEach([message]);
    if (outcome) throw outcome;
  }

  /** All or nothing: the whole batch is admitted, or refused with OVERLOADED before any is queued. */
  async sendMany(messages: OutMessage[]): Promise<void> {
    const failed = (await this.sendEach(messages)).find((o) => o !== null);
    if (failed) throw failed;
  }

  /**
   * All or nothing like sendMany (rejects with OVERLOADED or SHUTTING_DOWN before queueing
   * any), else settles once with each message's outcome: null once the broker acknowledged
   * it, or the error (a produce failure, or BROKER_UNAVAILABLE when ackTimeoutMs passed first).
   */
  sendEach(messages: OutMessage[]): Promise<Array<ChariotsError | null>> {
    const refused = this.refuses(messages);
    if (refused) return Promise.reject(refused);
    if (messages.length === 0) return Promise.resolve([]);
    return new Promise((finish) => {
      const group: SendGroup = {
        outcomes: new Array<ChariotsError | null>(messages.length).fill(null),
        left: messages.length,
        members: new Array<Waiting>(messages.length),
        finish,
      };
      for (let i = 0; i < messages.length; i++) {
        const message = messages[i];
        const bytes = sizeOf(message);
        this.bytes += bytes;
        const w: Waiting = { message, bytes, group, index: i };
        group.members[i] = w;
        this.queue.push(w);
      }
      const { ackTimeoutMs } = this.options;
      // A message still queued is dropped at the next flush (its caller retries with the same
      // id); one in flight stays counted until the broker answers, so a hanging broker cannot
      // make the queue grow past the limits.
      if (ackTimeoutMs) group.timer = setTimeout(() => this.expire(group), ackTimeoutMs);
      this.schedule();
    });
  }

  private expire(group: SendGroup): void {
    const late = new BrokerUnavailableError(
      `the broker did not acknowledge the write within ${this.options.ackTimeoutMs} ms; it may still be appended, retry with the same id`,
    );
    for (const w of group.members) {
      if (w.settled) continue;
      w.expired = true;
      this.settle(w, late);
    }
  }

  /** Records one message's outcome; its call settles with the last of them. */
  private settle(w: Waiting, outcome: ChariotsError | null): void {
    if (w.settled) return;
    w.settled = true;
    const group = w.group;
    group.outcomes[w.index] = outcome;
    if (--group.left > 0) return;
    if (group.timer) clearTimeout(group.timer);
    group.finish(group.outcomes);
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
          for (const w of batch) this.settle(w, null);
          const rate = (batch.length * 1000) / Math.max(1, Date.now() - started);
          this.ackRate = this.ackRate === 0 ? rate : 0.7 * this.ackRate + 0.3 * rate;
        } catch (e) {
          this.options.logger.warn({ err: e, records: batch.length }, 'produce failed');
          metrics().produceErrors.inc();
          const err = new BrokerUnavailableError(
            `the broker did not acknowledge the write: ${(e as Error).message}`,
            e,
          );
          for (const w of batch) this.settle(w, err);
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
