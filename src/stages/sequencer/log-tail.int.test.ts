import { readTail } from '../../kafka';
import { sleep, testEnvironment, testLogger } from '../../../test/helpers/cluster';
import { LogTail } from './log-tail';

it('follows the log while standby, pauses while active, and catches up when standby again', async () => {
  const env = await testEnvironment('log-tail');
  const topic = env.topics.log;
  const producer = env.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const write = (from: number, n: number) =>
    producer.send({
      topic,
      messages: Array.from({ length: n }, (_, i) => ({
        key: `id${from + i}`,
        value: `v${from + i}`,
        partition: 0,
      })),
    });
  // Capacity 50: the window re-read after a pause is ~55 records, not the whole log.
  const tail = await LogTail.start(env.kafka, topic, 50, testLogger);
  try {
    await write(0, 20);
    const last = await tail.takeOver(env.kafka, topic, testLogger);
    expect(last?.key?.toString()).toBe('id19');
    expect(tail.recent.has('id0')).toBe(true);

    // Active: the follower is paused, so nothing written now is read.
    await write(20, 200);
    await sleep(1500);
    expect(tail.recent.has('id20')).toBe(false);
    expect(tail.recent.has('id219')).toBe(false);

    // Standby again: it reads on, skipping what is older than its window.
    await tail.follow(env.kafka, topic, testLogger);
    const [end] = await readTail(env.kafka, topic, 0, 1, testLogger);
    const deadline = Date.now() + 30000;
    while (!tail.recent.has('id219') && Date.now() < deadline) await sleep(100);
    expect(tail.recent.has('id219')).toBe(true);
    expect(tail.recent.has('id170')).toBe(true);
    expect(tail.recent.has('id100')).toBe(false);
    expect((await tail.takeOver(env.kafka, topic, testLogger))?.offset).toBe(end.offset);
  } finally {
    await tail.close();
    await producer.disconnect();
  }
}, 120000);
