import pino from 'pino';
import type { KafkaClient } from './client';
import { BatchingProducer } from './producer';

/** A kafkajs producer whose produce requests wait until `answer()`: a broker that hangs. */
function hangingKafka() {
  const waiting: Array<() => void> = [];
  const fake = {
    producer: () => ({
      connect: async () => undefined,
      disconnect: async () => undefined,
      sendBatch: () => new Promise<void>((r) => waiting.push(r)),
    }),
  } as unknown as KafkaClient;
  return { fake, answer: () => waiting.splice(0).forEach((r) => r()) };
}

const logger = pino({ level: 'silent' });
const msg = (bytes: number) => ({ topic: 't', key: 'k', value: Buffer.alloc(bytes) });

describe('BatchingProducer under a hanging broker', () => {
  it('answers BROKER_UNAVAILABLE after ackTimeoutMs and keeps counting the record until the broker answers', async () => {
    const { fake, answer } = hangingKafka();
    const p = new BatchingProducer(fake, {
      lingerMs: 0,
      maxBatchMessages: 10,
      maxPending: 100,
      ackTimeoutMs: 50,
      logger,
    });
    const t0 = Date.now();
    await expect(p.send(msg(10))).rejects.toMatchObject({
      code: 'CHARIOTS_ERR_BROKER_UNAVAILABLE',
    });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(p.pending).toBe(1);
    answer();
    await new Promise((r) => setImmediate(r));
    expect(p.pending).toBe(0);
    expect(p.pendingBytes).toBe(0);
  });

  it('refuses with OVERLOADED beyond maxPendingBytes, all or nothing', async () => {
    const { fake, answer } = hangingKafka();
    const p = new BatchingProducer(fake, {
      lingerMs: 0,
      maxBatchMessages: 10,
      maxPending: 1000,
      maxPendingBytes: 10_000,
      logger,
    });
    const first = p.send(msg(6000));
    expect(p.pendingBytes).toBeGreaterThan(6000);
    expect(() => p.sendEach([msg(100), msg(5000)])).toThrow(
      expect.objectContaining({ code: 'CHARIOTS_ERR_OVERLOADED' }),
    );
    expect(p.pending).toBe(1);
    const small = p.sendEach([msg(100), msg(100)]);
    expect(p.pending).toBe(3);
    answer();
    await first;
    await new Promise((r) => setTimeout(r, 10));
    answer();
    await Promise.all(small);
    expect(p.pendingBytes).toBe(0);
  });
});
