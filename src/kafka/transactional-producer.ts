import type { Producer } from 'kafkajs';
import { BrokerUnavailableError, FencedError } from '../errors';
import type { Logger } from '../logger';
import type { KafkaClient } from './client';
import { TRANSACTIONAL_RETRY } from './retry';
import { groupByTopic } from './producer';
import type { OutMessage } from './types';

export interface TransactionalProducerOptions {
  /**
   * Stable across restarts of the same instance: InitProducerId on start then aborts any
   * transaction a crashed predecessor left open, instead of read_committed readers of the
   * touched partitions stalling until the transaction timeout.
   */
  transactionalId: string;
  logger: Logger;
  /** Upper bound on how long a crashed, open transaction can hold readers back (ms). */
  transactionTimeoutMs?: number;
}

const isFenced = (e: unknown): boolean => {
  const t = (e as { type?: string }).type ?? '';
  return (
    ['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH'].includes(t) ||
    /fenced/i.test((e as Error).message ?? '')
  );
};

/**
 * Out-of-band atomic writes (not consume→produce): each `send` is ONE transaction, so
 * several messages to several topics become visible together or not at all. Sends are
 * serialized (a transactional producer has one open transaction at a time). After any
 * failure the producer is dropped and re-created on the next send, which also re-fences.
 */
export class TransactionalProducer {
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;
  private lock: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly kafka: KafkaClient,
    private readonly opts: TransactionalProducerOptions,
  ) {}

  /** Connects (and fences a predecessor) now; later sends connect lazily if this failed. */
  connect(): Promise<void> {
    return this.ensure().then(() => undefined);
  }

  private ensure(): Promise<Producer> {
    if (this.producer) return Promise.resolve(this.producer);
    this.connecting ??= (async () => {
      const p = this.kafka.producer({
        transactionalId: this.opts.transactionalId,
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: this.opts.transactionTimeoutMs ?? 10000,
        allowAutoTopicCreation: false,
        retry: { ...TRANSACTIONAL_RETRY },
      });
      try {
        await p.connect();
        this.producer = p;
        return p;
      } catch (e) {
        await p.disconnect().catch(() => undefined);
        throw e;
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }

  /** Writes `messages` atomically; resolves once the transaction committed. */
  send(messages: OutMessage[]): Promise<void> {
    const run = this.lock.then(() => this.sendNow(messages));
    this.lock = run.catch(() => undefined);
    return run;
  }

  private async sendNow(messages: OutMessage[]): Promise<void> {
    if (this.closed) throw new BrokerUnavailableError('the transactional producer is closed');
    let producer: Producer;
    try {
      producer = await this.ensure();
    } catch (e) {
      throw new BrokerUnavailableError(`cannot start a transaction: ${(e as Error).message}`, e);
    }
    const tx = await producer.transaction().catch((e: unknown) => this.fail(e));
    try {
      await tx.sendBatch({ acks: -1, topicMessages: groupByTopic(messages) });
      await tx.commit();
    } catch (e) {
      await tx.abort().catch(() => undefined);
      return this.fail(e);
    }
  }

  private async fail(e: unknown): Promise<never> {
    this.opts.logger.warn(
      { err: e, transactionalId: this.opts.transactionalId },
      'transaction failed',
    );
    const p = this.producer;
    this.producer = undefined;
    await p?.disconnect().catch(() => undefined);
    if (isFenced(e))
      throw new FencedError(
        `transactional id ${this.opts.transactionalId} was taken over by another instance`,
        e,
      );
    throw new BrokerUnavailableError(`the transaction did not commit: ${(e as Error).message}`, e);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.lock;
    await this.connecting?.catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
  }
}
