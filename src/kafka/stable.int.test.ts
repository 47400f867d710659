import { testEnvironment, testLogger } from '../../test/helpers/cluster';
import { readToEnd } from './reader';
import { awaitStable } from './stable';

it('a rebuild waits for a transaction still completing, then sees what it committed', async () => {
  const env = await testEnvironment('stable');
  const topic = env.topics.deferred;
  const producer = env.kafka.producer({
    transactionalId: `${topic}.stable-test`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  try {
    const before = await producer.transaction();
    await before.send({ topic, messages: [{ key: 'k1', value: 'v1', partition: 0 }] });
    await before.commit();
    // A transaction whose data is written but which has not completed yet.
    const pending = await producer.transaction();
    await pending.send({ topic, messages: [{ key: 'k1', value: null, partition: 0 }] });

    let stableAt = 0;
    const waited = awaitStable(env.kafka, topic, [0], testLogger, { pollMs: 50 }).then(
      () => (stableAt = Date.now()),
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect(stableAt).toBe(0); // still waiting: the last stable offset is behind the data
    const committedAt = Date.now();
    await pending.commit();
    await waited;
    expect(stableAt).toBeGreaterThanOrEqual(committedAt);

    const state = new Map<string, string | null>();
    await readToEnd(env.kafka, {
      topic,
      partitions: [0],
      logger: testLogger,
      awaitPending: true,
      onBatch: (b) => {
        for (const m of b.messages) state.set(String(m.key), m.value ? String(m.value) : null);
      },
    });
    expect(state.get('k1')).toBeNull(); // the tombstone of the late transaction is seen
  } finally {
    await producer.disconnect();
  }
}, 60_000);
