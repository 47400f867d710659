import { testEnvironment, testLogger } from '../../test/helpers/cluster';
import { readToEnd } from './reader';

/**
 * What a read_committed reader sees when transactions of several producers interleave on one
 * partition and the one that started later is aborted first (the broker then lists the
 * aborted transactions out of first-offset order). `released` is written like this by one
 * producer per queue partition, and a fenced owner's transaction is aborted by its successor.
 */
it('a read_committed reader never sees aborted data of interleaved transactions', async () => {
  const env = await testEnvironment('readcommitted');
  const topic = env.topics.released;
  const producer = (id: string) =>
    env.kafka.producer({
      transactionalId: `${topic}.${id}`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
  const a = producer('a');
  const b = producer('b');
  const c = producer('c');
  await Promise.all([a.connect(), b.connect(), c.connect()]);
  try {
    const msg = (v: string) => ({ topic, messages: [{ key: v, value: v, partition: 0 }] });
    const ta = await a.transaction();
    await ta.send(msg('a1-aborted'));
    const tb = await b.transaction();
    await tb.send(msg('b1-aborted'));
    const tc = await c.transaction();
    await tc.send(msg('c1-committed'));
    await tb.abort();
    await ta.send(msg('a2-aborted'));
    await tc.commit();
    await ta.abort();
    const td = await c.transaction();
    await td.send(msg('c2-committed'));
    await td.commit();

    const seen: string[] = [];
    await readToEnd(env.kafka, {
      topic,
      partitions: [0],
      logger: testLogger,
      onBatch: (batch) => {
        for (const m of batch.messages) seen.push(String(m.value));
      },
    });
    expect(seen).toEqual(['c1-committed', 'c2-committed']);
  } finally {
    await Promise.all([a.disconnect(), b.disconnect(), c.disconnect()]);
  }
}, 60_000);

it('a read_committed reader sees every committed transaction of a producer after its aborted one', async () => {
  const env = await testEnvironment('readcommitted-same');
  const topic = env.topics.deferred;
  const mk = () =>
    env.kafka.producer({ transactionalId: `${topic}.x`, idempotent: true, maxInFlightRequests: 1 });
  const first = mk();
  await first.connect();
  const msg = (v: string) => ({ topic, messages: [{ key: v, value: v, partition: 0 }] });
  const seen: string[] = [];
  let second: ReturnType<typeof mk> | undefined;
  try {
    const t1 = await first.transaction();
    await t1.send(msg('x1-committed'));
    await t1.commit();
    const t2 = await first.transaction();
    await t2.send(msg('x2-aborted'));
    await t2.abort();
    const t3 = await first.transaction();
    await t3.send(msg('x3-committed'));
    await t3.commit();
    const t4 = await first.transaction();
    await t4.send(msg('x4-fenced'));
    // A successor with the same transactional id fences it: the broker aborts t4.
    second = mk();
    await second.connect();
    const t5 = await second.transaction();
    await t5.send(msg('x5-committed'));
    await t5.commit();
    await readToEnd(env.kafka, {
      topic,
      partitions: [0],
      logger: testLogger,
      onBatch: (batch) => {
        for (const m of batch.messages) seen.push(String(m.value));
      },
    });
  } finally {
    await first.disconnect();
    await second?.disconnect();
  }
  expect(seen).toEqual(['x1-committed', 'x3-committed', 'x5-committed']);
}, 60_000);
