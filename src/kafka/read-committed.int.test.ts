import { testEnvironment, testLogger } from '../../test/helpers/cluster';
import { readToEnd } from './reader';

type Env = Awaited<ReturnType<typeof testEnvironment>>;

/** A transactional producer configured as the stages configure theirs. */
const txProducer = (env: Env, topic: string, id: string) =>
  env.kafka.producer({
    transactionalId: `${topic}.${id}`,
    idempotent: true,
    maxInFlightRequests: 1,
  });

/** One message on partition 0 whose key and value are `v`. */
const message = (topic: string, v: string) => ({
  topic,
  messages: [{ key: v, value: v, partition: 0 }],
});

/** The values a read_committed reader sees on partition 0, in order. */
async function committedValues(env: Env, topic: string): Promise<string[]> {
  const seen: string[] = [];
  await readToEnd(env.kafka, {
    topic,
    partitions: [0],
    logger: testLogger,
    onBatch: (batch) => {
      for (const m of batch.messages) seen.push(String(m.value));
    },
  });
  return seen;
}

/**
 * What a read_committed reader sees when transactions of several producers interleave on one
 * partition and the one that started later is aborted first (the broker then lists the
 * aborted transactions out of first-offset order). `released` is written like this by one
 * producer per queue partition, and a fenced owner's transaction is aborted by its successor.
 */
it('a read_committed reader never sees aborted data of interleaved transactions', async () => {
  const env = await testEnvironment('readcommitted');
  const topic = env.topics.released;
  const producer = (id: string) => txProducer(env, topic, id);
  const a = producer('a');
  const b = producer('b');
  const c = producer('c');
  await Promise.all([a.connect(), b.connect(), c.connect()]);
  try {
    const msg = (v: string) => message(topic, v);
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

    expect(await committedValues(env, topic)).toEqual(['c1-committed', 'c2-committed']);
  } finally {
    await Promise.all([a.disconnect(), b.disconnect(), c.disconnect()]);
  }
}, 60_000);

it('a read_committed reader sees every committed transaction of a producer after its aborted one', async () => {
  const env = await testEnvironment('readcommitted-same');
  const topic = env.topics.deferred;
  const mk = () => txProducer(env, topic, 'x');
  const first = mk();
  await first.connect();
  const msg = (v: string) => message(topic, v);
  let seen: string[] = [];
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
    seen = await committedValues(env, topic);
  } finally {
    await first.disconnect();
    await second?.disconnect();
  }
  expect(seen).toEqual(['x1-committed', 'x3-committed', 'x5-committed']);
}, 60_000);
