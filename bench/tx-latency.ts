/**
 * Where one transactional hop's latency goes, on a broker with nothing else to do: one
 * record at a time is produced to an input topic, a read_committed consumer hands it to a
 * transactional copy (send, then optionally sendOffsets, then commit, as TransactionalStage
 * does), and a second read_committed consumer sees the copy. Each step's time is reported
 * (median and p90 of ROUNDS records), with and without sendOffsets in the transaction —
 * the two round trips kafka.offsetCommitIntervalMs saves.
 *
 *   npx tsx bench/tx-latency.ts [rounds]      (KAFKA_BROKERS, else a broker is started)
 */
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config/load';
import { createKafkaClient, type KafkaClient } from '../src/kafka';
import { acquireBroker } from '../src/kafka/broker';
import { rootLogger } from '../src/logger';

const ROUNDS = Number(process.argv[2] ?? 100);
const WARMUP = 5;
const say = (m: string) => process.stdout.write(`${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Step = 'produce' | 'fetch' | 'send' | 'sendOffsets' | 'commit' | 'fetch after commit' | 'hop';

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/** One hop measured ROUNDS times; `withOffsets`: sendOffsets in every transaction. */
async function measure(kafka: KafkaClient, withOffsets: boolean): Promise<Map<Step, number[]>> {
  const id = `bench-txlat-${randomBytes(3).toString('hex')}`;
  const [input, output] = [`${id}.in`, `${id}.out`];
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: input, numPartitions: 1 },
      { topic: output, numPartitions: 1 },
    ],
  });
  await admin.disconnect();
  const plain = kafka.producer({ idempotent: true });
  const tx = kafka.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1 });
  const hop = kafka.consumer({ groupId: `${id}.hop`, readUncommitted: false, maxWaitTimeInMs: 50 });
  const sink = kafka.consumer({
    groupId: `${id}.sink`,
    readUncommitted: false,
    maxWaitTimeInMs: 50,
  });
  const times = new Map<Step, number[]>();
  const note = (s: Step, ms: number) => times.set(s, [...(times.get(s) ?? []), ms]);
  let produced = 0;
  let sent = 0;
  let committed = 0;
  let seen: () => void = () => undefined;
  try {
    await Promise.all([plain.connect(), tx.connect(), hop.connect(), sink.connect()]);
    await hop.subscribe({ topic: input, fromBeginning: true });
    await sink.subscribe({ topic: output, fromBeginning: true });
    await sink.run({
      eachBatch: async ({ batch }) => {
        if (batch.messages.length === 0) return;
        const now = performance.now();
        note('fetch after commit', now - committed);
        note('hop', now - sent);
        seen();
      },
    });
    await hop.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (batch.messages.length === 0) return;
        const t1 = performance.now();
        note('fetch', t1 - produced);
        const t = await tx.transaction();
        await t.send({ topic: output, messages: [{ value: 'x' }] });
        const t2 = performance.now();
        note('send', t2 - t1);
        if (withOffsets) {
          const last = batch.messages[batch.messages.length - 1].offset;
          await t.sendOffsets({
            consumerGroupId: `${id}.hop`,
            topics: [
              { topic: input, partitions: [{ partition: 0, offset: String(Number(last) + 1) }] },
            ],
          });
        }
        const t3 = performance.now();
        if (withOffsets) note('sendOffsets', t3 - t2);
        await t.commit();
        committed = performance.now();
        note('commit', committed - t3);
      },
    });
    await sleep(3000); // both consumers joined and fetching
    for (let i = 0; i < ROUNDS + WARMUP; i++) {
      const done = new Promise<void>((r) => (seen = r));
      sent = performance.now();
      await plain.send({ topic: input, acks: -1, messages: [{ value: `v${i}` }] });
      produced = performance.now();
      note('produce', produced - sent);
      await done;
      await sleep(20);
    }
  } finally {
    await Promise.all([hop.disconnect(), sink.disconnect(), plain.disconnect(), tx.disconnect()]);
  }
  for (const [k, v] of times) times.set(k, v.slice(WARMUP));
  return times;
}

async function main(): Promise<void> {
  const logger = rootLogger.child({ bench: 'tx-latency' });
  logger.level = 'warn';
  const broker = await acquireBroker({ logger, onProgress: (m) => say(`broker: ${m}`) });
  try {
    const config = loadConfig({ env: {}, overrides: { kafka: { brokers: broker.brokers } } });
    const kafka = createKafkaClient(config.kafka, logger);
    say(`${ROUNDS} records, one at a time; ms, p50 / p90`);
    say('| step | with sendOffsets | without |');
    say('|---|---|---|');
    const a = await measure(kafka, true);
    const b = await measure(kafka, false);
    const steps: Step[] = [
      'produce',
      'fetch',
      'send',
      'sendOffsets',
      'commit',
      'fetch after commit',
      'hop',
    ];
    const cell = (v: number[] | undefined) =>
      v ? `${quantile(v, 0.5).toFixed(1)} / ${quantile(v, 0.9).toFixed(1)}` : '–';
    for (const s of steps) say(`| ${s} | ${cell(a.get(s))} | ${cell(b.get(s))} |`);
  } finally {
    await broker.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${String(e instanceof Error ? e.stack : e)}\n`);
  process.exit(1);
});
