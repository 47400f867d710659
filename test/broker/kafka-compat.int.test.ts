/**
 * Evidence that kafkajs 2.2.4 works against the broker acquireBroker() gives us (Kafka from
 * jars, Redpanda, or KAFKA_BROKERS). These are the features Chariots relies on: topic admin,
 * plain produce/consume with consumer groups, and exactly-once consume→produce transactions
 * with sendOffsets, read by a read_committed consumer. docs/broker.md records the results.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners, type Admin, type Consumer, type Producer } from 'kafkajs';
import { withRetry } from '../../src/kafka/retry';

// Jest 29 ignores testTimeout inside a project config, so set it where it applies.
jest.setTimeout(60_000);

const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
const kafka = new Kafka({ clientId: 'chariots-compat', brokers, logLevel: logLevel.ERROR });
const createPartitioner = Partitioners.DefaultPartitioner;

const uid = (): string => randomUUID().slice(0, 8);
const opened: Array<{ disconnect(): Promise<void> }> = [];
function track<T extends { disconnect(): Promise<void> }>(c: T): T {
  opened.push(c);
  return c;
}

let admin: Admin;
beforeAll(async () => {
  expect(brokers.length).toBeGreaterThan(0);
  admin = track(kafka.admin());
  await admin.connect();
});
afterAll(async () => {
  for (const c of opened.reverse()) await c.disconnect().catch(() => undefined);
});

async function createTopic(topic: string, numPartitions = 1): Promise<void> {
  const created = await admin.createTopics({
    topics: [{ topic, numPartitions, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  expect(created).toBe(true);
}

/** Consumes until `count` messages arrived (or fails after `ms`), then stops the consumer. */
async function consume(
  topic: string,
  count: number,
  opts: { groupId?: string; readUncommitted?: boolean; ms?: number } = {},
): Promise<string[]> {
  const consumer: Consumer = track(
    kafka.consumer({
      groupId: opts.groupId ?? `compat-read-${uid()}`,
      readUncommitted: opts.readUncommitted ?? false,
      maxWaitTimeInMs: 200,
    }),
  );
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const got: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timed out: ${got.length}/${count} from ${topic}`)),
      opts.ms ?? 30_000,
    );
    void consumer
      .run({
        eachMessage: async ({ message }) => {
          got.push(message.value?.toString() ?? '');
          if (got.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return got;
}

/** Nothing more arrives on a topic within `ms` (used to prove aborted data stays invisible). */
async function consumeFor(topic: string, ms: number, readUncommitted = false): Promise<string[]> {
  const consumer = track(
    kafka.consumer({ groupId: `compat-idle-${uid()}`, readUncommitted, maxWaitTimeInMs: 200 }),
  );
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const got: string[] = [];
  await consumer.run({
    eachMessage: async ({ message }) => void got.push(message.value?.toString() ?? ''),
  });
  await new Promise((r) => setTimeout(r, ms));
  await consumer.disconnect();
  return got;
}

async function committedOffsets(groupId: string, topic: string): Promise<Record<number, string>> {
  const res = await admin.fetchOffsets({ groupId, topics: [topic] });
  const out: Record<number, string> = {};
  for (const p of res[0].partitions) out[p.partition] = p.offset;
  return out;
}

test('admin createTopics and metadata', async () => {
  const topic = `compat-admin-${uid()}`;
  await createTopic(topic, 3);
  const md = await admin.fetchTopicMetadata({ topics: [topic] });
  expect(md.topics[0].partitions).toHaveLength(3);
  expect(await admin.listTopics()).toContain(topic);
});

test('fetchTopicOffsets right after createTopics (waitForLeaders) answers through withRetry', async () => {
  // A kafkajs quirk: even after createTopics with waitForLeaders, a ListOffsets may reach the
  // broker before it knows it leads the new partition, fails with NOT_LEADER_OR_FOLLOWER,
  // and admin.fetchTopicOffsets does not retry it (the bare call failed once in a fresh-clone
  // CI, 2026-11-27). Every caller in src/ goes through withRetry/withAdmin; this checks that
  // wrapper answers where the bare call may not.
  const topic = `compat-offsets-${uid()}`;
  await createTopic(topic, 4);
  const offsets = await withRetry(`offsets of ${topic}`, () => admin.fetchTopicOffsets(topic));
  expect(offsets.map((o) => [o.partition, o.high, o.low]).sort()).toEqual([
    [0, '0', '0'],
    [1, '0', '0'],
    [2, '0', '0'],
    [3, '0', '0'],
  ]);
});

test('produce and consume with a consumer group; group offsets committed', async () => {
  const topic = `compat-plain-${uid()}`;
  const groupId = `compat-group-${uid()}`;
  await createTopic(topic, 2);
  const producer: Producer = track(
    kafka.producer({ createPartitioner, idempotent: true, maxInFlightRequests: 1 }),
  );
  await producer.connect();
  const sent = Array.from({ length: 50 }, (_, i) => `m-${i}`);
  await producer.send({
    topic,
    acks: -1,
    messages: sent.map((value, i) => ({ key: `k${i % 7}`, value })),
  });

  const got = await consume(topic, sent.length, { groupId });
  expect([...got].sort()).toEqual([...sent].sort());

  // Autocommit ran on disconnect: the group's offsets cover every message (sum over partitions).
  const offsets = await committedOffsets(groupId, topic);
  const total = Object.values(offsets).reduce((a, o) => a + Number(o), 0);
  expect(total).toBe(sent.length);
});

test('transactional consume→produce with sendOffsets (exactly-once hop)', async () => {
  const input = `compat-txin-${uid()}`;
  const output = `compat-txout-${uid()}`;
  const groupId = `compat-txgroup-${uid()}`;
  await createTopic(input);
  await createTopic(output);
  const plain = track(kafka.producer({ createPartitioner }));
  await plain.connect();
  const inputs = Array.from({ length: 10 }, (_, i) => `in-${i}`);
  await plain.send({ topic: input, messages: inputs.map((value) => ({ value })) });

  const txProducer = track(
    kafka.producer({
      createPartitioner,
      transactionalId: `compat-tx-${uid()}`,
      idempotent: true,
      maxInFlightRequests: 1,
    }),
  );
  await txProducer.connect();
  const consumer = track(kafka.consumer({ groupId, maxWaitTimeInMs: 200 }));
  await consumer.connect();
  await consumer.subscribe({ topics: [input], fromBeginning: true });
  let processed = 0;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timed out after ${processed} inputs`)),
      60_000,
    );
    void consumer
      .run({
        autoCommit: false,
        eachBatch: async ({ batch, heartbeat }) => {
          if (batch.messages.length === 0) return;
          const txn = await txProducer.transaction();
          try {
            await txn.send({
              topic: output,
              messages: batch.messages.map((m) => ({
                value: `out-${m.value?.toString().slice(3)}`,
              })),
            });
            const next = (BigInt(batch.lastOffset()) + 1n).toString();
            await txn.sendOffsets({
              consumerGroupId: groupId,
              topics: [
                { topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] },
              ],
            });
            await txn.commit();
          } catch (e) {
            await txn.abort().catch(() => undefined);
            throw e;
          }
          processed += batch.messages.length;
          await heartbeat();
          if (processed >= inputs.length) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();

  const out = await consume(output, inputs.length);
  expect([...out].sort()).toEqual(inputs.map((v) => `out-${v.slice(3)}`).sort());
  // The input topic is non-transactional, so its offsets are dense: next offset = count.
  expect(await committedOffsets(groupId, input)).toEqual({ 0: String(inputs.length) });
});

test('an aborted transaction is invisible to read_committed consumers', async () => {
  const topic = `compat-abort-${uid()}`;
  await createTopic(topic);
  const producer = track(
    kafka.producer({
      createPartitioner,
      transactionalId: `compat-abort-${uid()}`,
      idempotent: true,
      maxInFlightRequests: 1,
    }),
  );
  await producer.connect();

  const aborted = await producer.transaction();
  await aborted.send({ topic, messages: [{ value: 'a-0' }, { value: 'a-1' }, { value: 'a-2' }] });
  await aborted.abort();
  const committed = await producer.transaction();
  await committed.send({ topic, messages: [{ value: 'c-0' }, { value: 'c-1' }] });
  await committed.commit();

  expect(await consume(topic, 2)).toEqual(['c-0', 'c-1']);
  // Wait a little longer: still nothing but the committed pair.
  expect(await consumeFor(topic, 2_000)).toEqual(['c-0', 'c-1']);
  // read_uncommitted does see the aborted records: they were really written, then hidden.
  expect((await consumeFor(topic, 2_000, true)).sort()).toEqual([
    'a-0',
    'a-1',
    'a-2',
    'c-0',
    'c-1',
  ]);
});
