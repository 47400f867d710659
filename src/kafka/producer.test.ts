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
      sendBatch: () => {
        requests++;
        return new Promise<void>((r) => waiting.push(r));
      },
    }),
  } as unknown as KafkaClient;
  let requests = 0;
  return {
    fake,
    answer: () => waiting.splice(0).forEach((r) => r()),
    /** Produce requests made so far. */
    sent: () => requests,
  };
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
    await expect(p.sendEach([msg(100), msg(5000)])).rejects.toMatchObject({
      code: 'CHARIOTS_ERR_OVERLOADED',
    });
    expect(p.pending).toBe(1);
    const small = p.sendEach([msg(100), msg(100)]);
    expect(p.pending).toBe(3);
    answer();
    await first;
    await new Promise((r) => setTimeout(r, 10));
    answer();
    expect(await small).toEqual([null, null]);
    expect(p.pendingBytes).toBe(0);
  });

  it("settles a call with each message's own outcome: acknowledged, or timed out and never sent", async () => {
    const { fake, answer, sent } = hangingKafka();
    const p = new BatchingProducer(fake, {
      lingerMs: 0,
      maxBatchMessages: 1,
      maxPending: 100,
      ackTimeoutMs: 100,
      logger,
    });
    const outcomes = p.sendEach([msg(1), msg(2)]);
    await new Promise((r) => setTimeout(r, 20));
    answer(); // the first is acknowledged; the second goes out and hangs past the timeout
    const [first, second] = await outcomes;
    expect(first).toBeNull();
    expect(second).toMatchObject({ code: 'CHARIOTS_ERR_BROKER_UNAVAILABLE' });
    expect(sent()).toBe(2);
    answer(); // an acknowledgement after the timeout changes nothing
    await new Promise((r) => setImmediate(r));
    expect(p.pending).toBe(0);

    // Timed out while still queued behind a hanging request: dropped, never produced. (A
    // fresh producer: this one's limit now follows its measured acknowledgement rate.)
    const q = hangingKafka();
    const p2 = new BatchingProducer(q.fake, {
      lingerMs: 0,
      maxBatchMessages: 1,
      maxPending: 100,
      ackTimeoutMs: 100,
      logger,
    });
    const blocker = p2.sendEach([msg(1)]);
    const queued = p2.sendEach([msg(1), msg(1)]);
    expect(await queued).toEqual([
      expect.objectContaining({ code: 'CHARIOTS_ERR_BROKER_UNAVAILABLE' }),
      expect.objectContaining({ code: 'CHARIOTS_ERR_BROKER_UNAVAILABLE' }),
    ]);
    q.answer();
    expect(await blocker).toEqual([
      expect.objectContaining({ code: 'CHARIOTS_ERR_BROKER_UNAVAILABLE' }),
    ]);
    await new Promise((r) => setTimeout(r, 20));
    expect(q.sent()).toBe(1);
    expect(p2.pending).toBe(0);
    expect(p2.pendingBytes).toBe(0);
  });
});
