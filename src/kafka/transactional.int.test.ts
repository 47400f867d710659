import { readAll, sleep, testEnvironment, testLogger } from '../../test/helpers/cluster';
import { metrics } from '../metrics';
import { BatchingProducer } from './producer';
import { TransactionalStage, type TransactionalStageOptions } from './transactional';

type Env = Awaited<ReturnType<typeof testEnvironment>>;

/** A test stage reading `ingest` in the tests' group, writing under the tests' ids. */
function testStage(
  env: Env,
  o: Pick<TransactionalStageOptions, 'process'> & Partial<TransactionalStageOptions>,
) {
  return new TransactionalStage({
    kafka: env.kafka,
    groupId: `${env.topics.ingest}.tx-test`,
    topic: env.topics.ingest,
    transactionalIdPrefix: `${env.topics.filtered}.tx-test`,
    stage: 'test',
    sessionTimeoutMs: 6000,
    logger: testLogger,
    ...o,
  });
}

/** Counts the rebuilds (onAssign) of each partition of instance `name` into `rebuilds`. */
const countRebuilds =
  (name: string, rebuilds: Map<string, number>, rebuildMs = 0) =>
  async (p: number) => {
    const k = `${name}:${p}`;
    rebuilds.set(k, (rebuilds.get(k) ?? 0) + 1);
    if (rebuildMs > 0) await sleep(rebuildMs);
  };

/** A stage that copies `ingest` to `filtered` and counts the rebuilds of each partition. */
function copyStage(env: Env, name: string, rebuilds: Map<string, number>, rebuildMs = 0) {
  return testStage(env, {
    logger: testLogger.child({ instance: name }),
    onAssign: countRebuilds(name, rebuilds, rebuildMs),
    process: (batch, tx) => {
      for (const m of batch.messages)
        tx.send({ topic: env.topics.filtered, key: m.key, value: m.value });
    },
  });
}

async function until(cond: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!(await cond()) && Date.now() < end) await sleep(200);
  return cond();
}

function sender(env: Env) {
  const producer = new BatchingProducer(env.kafka, {
    lingerMs: 2,
    maxBatchMessages: 100,
    maxPending: 1000,
    logger: testLogger,
  });
  let next = 0;
  return {
    producer,
    /** `n` messages spread over every partition, numbered on from the last call. */
    send: (n: number, partition?: number) =>
      Promise.all(
        Array.from({ length: n }, () => {
          const i = next++;
          return producer.send({
            topic: env.topics.ingest,
            key: `k${i}`,
            value: `v${i}`,
            partition: partition ?? i % 8,
          });
        }),
      ),
    get sent() {
      return next;
    },
  };
}

/** Each sent value is in `filtered` exactly once. */
async function expectCopiedOnce(env: Env, sent: number) {
  let values: string[] = [];
  await until(async () => {
    values = (await readAll(env.kafka, env.topics.filtered)).map((m) => String(m.value));
    return values.length >= sent;
  }, 60000);
  expect(values.length).toBe(sent);
  expect(new Set(values).size).toBe(sent);
}

/** Transactions observed by chariots_transaction_seconds{stage="test"} so far. */
async function transactionsCounted(): Promise<number> {
  const h = await metrics().transactionSeconds.get();
  return h.values
    .filter(
      (v) => v.metricName === 'chariots_transaction_seconds_count' && v.labels.stage === 'test',
    )
    .reduce((n, v) => n + v.value, 0);
}

const total = (rebuilds: Map<string, number>, name: string) =>
  [...rebuilds].filter(([k]) => k.startsWith(`${name}:`)).reduce((n, [, v]) => n + v, 0);

it('a rebalance rebuilds only the partitions that moved; the output stays exactly once', async () => {
  const env = await testEnvironment('tx-keep');
  const rebuilds = new Map<string, number>();
  const input = sender(env);
  const a = copyStage(env, 'a', rebuilds);
  const b = copyStage(env, 'b', rebuilds);
  try {
    await input.producer.connect();
    await a.start();
    expect(await until(() => a.assigned.length === 8, 30000)).toBe(true);
    const txBefore = await transactionsCounted();
    await input.send(80);
    await expectCopiedOnce(env, input.sent);
    expect(total(rebuilds, 'a')).toBe(8);
    // Every committed transaction is timed (chariots_transaction_seconds{stage}).
    expect(await transactionsCounted()).toBeGreaterThan(txBefore);

    await b.start();
    expect(await until(() => b.assigned.length > 0 && a.assigned.length < 8, 30000)).toBe(true);
    await input.send(80);
    await expectCopiedOnce(env, input.sent);
    const kept = a.assigned;
    // A kept what it still owns: not one of its partitions was rebuilt by the join.
    expect(total(rebuilds, 'a')).toBe(8);
    expect(kept.every((p) => rebuilds.get(`a:${p}`) === 1)).toBe(true);

    const moved = b.assigned;
    await b.close();
    expect(await until(() => a.assigned.length === 8, 30000)).toBe(true);
    await input.send(80);
    await expectCopiedOnce(env, input.sent);
    // Only what B held comes back to A with a rebuild.
    expect(total(rebuilds, 'a')).toBe(8 + moved.length);
  } finally {
    await b.close();
    await a.close();
    await input.producer.close();
  }
}, 180000);

it('a fenced partition that the group still assigns here is rebuilt and processed once', async () => {
  const env = await testEnvironment('tx-fenced');
  const rebuilds = new Map<string, number>();
  const input = sender(env);
  const a = copyStage(env, 'a', rebuilds);
  // Another instance's InitProducerId on partition 0's transactional id: A's producer for
  // partition 0 is fenced, yet no rebalance follows (nobody else is in the group).
  const zombie = env.kafka.producer({
    transactionalId: `${env.topics.filtered}.tx-test-0`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  try {
    await input.producer.connect();
    await a.start();
    expect(await until(() => a.assigned.length === 8, 30000)).toBe(true);
    await input.send(16);
    await expectCopiedOnce(env, 16);

    await zombie.connect();
    await (await zombie.transaction()).abort(); // InitProducerId: the fence
    await input.send(10, 0);
    expect(await until(() => rebuilds.get('a:0') === 2, 30000)).toBe(true);
    expect(total(rebuilds, 'a')).toBe(9);
    await expectCopiedOnce(env, input.sent);
  } finally {
    await zombie.disconnect();
    await a.close();
    await input.producer.close();
  }
}, 180000);

it('a member still rebuilding rejoins a rebalance at once instead of being expelled', async () => {
  const env = await testEnvironment('tx-slow');
  const rebuilds = new Map<string, number>();
  const input = sender(env);
  const a = copyStage(env, 'a', rebuilds);
  // B's rebuild outlasts the group's rebalance timeout (15 s with a 6 s session).
  const b = copyStage(env, 'b', rebuilds, 22000);
  const c = copyStage(env, 'c', rebuilds);
  try {
    await input.producer.connect();
    await a.start();
    await input.send(80);
    await expectCopiedOnce(env, input.sent);

    await b.start();
    expect(await until(() => b.assigned.length > 0, 30000)).toBe(true);
    await input.send(80); // B's partitions have batches waiting for its rebuild
    await sleep(3000);
    await c.start(); // a rebalance while B rebuilds
    await expectCopiedOnce(env, input.sent);
    await sleep(8000); // an expelled B rejoins (as a new member) within a few seconds
    // Expelled, B would have come back as a new member and rebuilt its partitions again.
    const twice = [...rebuilds].filter(([k, n]) => k.startsWith('b:') && n > 1);
    expect(twice).toEqual([]);
  } finally {
    await c.close();
    await b.close();
    await a.close();
    await input.producer.close();
  }
}, 240000);

it('the pack option rewrites the output of every transaction, batch and out-of-band alike', async () => {
  const env = await testEnvironment('tx-pack');
  const input = sender(env);
  // Stands in for src/stages/packing.ts: one message per transaction, values joined.
  const stage = testStage(env, {
    pack: (out) => [
      {
        topic: env.topics.filtered,
        partition: 0,
        value: out.map((m) => String(m.value)).join('+'),
      },
    ],
    process: (batch, tx) => {
      for (const m of batch.messages) tx.send({ topic: env.topics.filtered, value: m.value });
    },
  });
  try {
    await input.producer.connect();
    await stage.start();
    expect(await until(() => stage.assigned.length === 8, 30000)).toBe(true);
    await input.send(3, 2);
    let values: string[] = [];
    const read = async () =>
      (values = (await readAll(env.kafka, env.topics.filtered)).map((m) => String(m.value)));
    expect(await until(async () => (await read()).join('+').split('+').length === 3, 30000)).toBe(
      true,
    );
    expect(values.length).toBeLessThanOrEqual(3);
    expect(values.join('+')).toBe('v0+v1+v2');
    await stage.transaction(2, (tx) => {
      tx.send(
        { topic: env.topics.filtered, value: 'x' },
        { topic: env.topics.filtered, value: 'y' },
      );
    });
    expect(await until(async () => (await read()).includes('x+y'), 30000)).toBe(true);
  } finally {
    await stage.close();
    await input.producer.close();
  }
}, 120000);

it('a batch with nothing to send commits its offset right after a commit, without a rebuild', async () => {
  // Regression: kafkajs does not retry AddOffsetsToTxn on CONCURRENT_TRANSACTIONS, so an
  // offset-only transaction (a batch of duplicates) begun right after the producer's previous
  // commit failed and the partition was rebuilt from Kafka (retryConcurrentTransactions).
  const env = await testEnvironment('tx-offsets-only');
  const input = sender(env);
  const rebuilds = new Map<string, number>();
  let seen = 0;
  const stage = testStage(env, {
    onAssign: countRebuilds('a', rebuilds),
    process: (batch) => {
      seen += batch.messages.length;
    },
  });
  try {
    await input.producer.connect();
    await stage.start();
    expect(await until(() => stage.assigned.length === 8, 30000)).toBe(true);
    // One message at a time to one partition: each its own batch, each transaction begun as
    // soon as the previous one committed.
    for (let i = 0; i < 40; i++) await input.send(1, 0);
    expect(await until(() => seen >= 40, 30000)).toBe(true);
    expect(seen).toBe(40);
    expect(rebuilds.get('a:0')).toBe(1);
  } finally {
    await stage.close();
    await input.producer.close();
  }
}, 120000);

it('offsetCommitIntervalMs: the group offset follows once per interval, after the last batch and at close', async () => {
  const env = await testEnvironment('tx-offset-interval');
  const input = sender(env);
  const groupOffset = async (): Promise<number> => {
    const admin = env.kafka.admin();
    await admin.connect();
    try {
      const r = await admin.fetchOffsets({
        groupId: `${env.topics.ingest}.tx-test`,
        topics: [env.topics.ingest],
      });
      return Number(r[0].partitions.find((x) => x.partition === 0)?.offset ?? -1);
    } finally {
      await admin.disconnect();
    }
  };
  const rebuilds = new Map<string, number>();
  let seen = 0;
  const make = (offsetCommitIntervalMs: number) =>
    testStage(env, {
      offsetCommitIntervalMs,
      onAssign: countRebuilds('a', rebuilds),
      process: (batch, tx) => {
        seen += batch.messages.length;
        for (const m of batch.messages)
          tx.send({ topic: env.topics.filtered, key: m.key, value: m.value });
      },
    });
  let stage = make(600000);
  try {
    await input.producer.connect();
    await stage.start();
    expect(await until(() => stage.assigned.length === 8, 30000)).toBe(true);
    // A warm-up record: partition 0's first transaction commits the group offset (1), and
    // the group settles (a rejoin right after start rebuilds partitions, and a rebuilt
    // partition commits the offset in its first transaction again).
    await input.send(1, 0);
    expect(await until(async () => seen >= 1 && (await groupOffset()) === 1, 30000)).toBe(true);
    await sleep(2000);
    const rebuiltBefore = rebuilds.get('a:0');
    // One record at a time: each its own batch and transaction, none of which may commit
    // the group offset within a 10-minute interval.
    for (let i = 0; i < 10; i++) await input.send(1, 0);
    expect(await until(() => seen >= 11, 30000)).toBe(true);
    await sleep(1000);
    const lagging = await groupOffset();
    if (rebuilds.get('a:0') === rebuiltBefore) expect(lagging).toBe(1);
    await stage.close();
    // close() commits what the interval held back.
    expect(await groupOffset()).toBe(11);

    // A short interval: after the last batch an offsets-only transaction catches the group up.
    stage = make(300);
    await stage.start();
    expect(await until(() => stage.assigned.length === 8, 30000)).toBe(true);
    for (let i = 0; i < 10; i++) await input.send(1, 0);
    expect(await until(() => seen >= 21, 30000)).toBe(true);
    expect(await until(async () => (await groupOffset()) === 21, 10000)).toBe(true);
    await expectCopiedOnce(env, 21);
  } finally {
    await stage.close();
    await input.producer.close();
  }
}, 120000);
