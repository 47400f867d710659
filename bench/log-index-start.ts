/**
 * How long a queue takes to build its log index at start (issue 8: it rebuilt it from the
 * whole log at every start, 46 s for ~650 000 records in the bench's profiled run). Writes
 * COUNT bench-shaped log records (bench/workload.ts) to a fresh `log` topic, and what they
 * provide to `logkeys`, as the sequencer does: one transaction per PER_TX records (default
 * 100; the log's fetch cost depends on it: one record batch and one commit marker per
 * transaction), one log message per record, one logkeys message per transaction. Then builds a
 * LogIndex from each, alternately, RUNS times:
 *   log      — the old way: follow the log, decodeLog + logKeysOf (tag hashing) per record
 *   logkeys  — startLogFeed (src/stages/queue/log-feed.ts), as the queue starts now
 * and prints wall time and this process's CPU time per build.
 *
 *   [PER_TX=100] npx tsx bench/log-index-start.ts [count] [runs]   (KAFKA_BROKERS, else a broker is started)
 */
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config/load';
import {
  applyTopics,
  createKafkaClient,
  followTopic,
  loadTopicDeclarations,
  topicNames,
  TransactionalProducer,
  type OutMessage,
} from '../src/kafka';
import { acquireBroker } from '../src/kafka/broker';
import { rootLogger } from '../src/logger';
import { decodeLog, encodeLog, encodeLogKeys, logKeysOf, type LogRecord } from '../src/record';
import { startLogFeed } from '../src/stages/queue/log-feed';
import { LogIndex } from '../src/stages/queue/log-index';
import { makeRecords } from './workload';

const COUNT = Number(process.argv[2] ?? 300_000);
const RUNS = Number(process.argv[3] ?? 3);
const PER_TX = Number(process.env.PER_TX ?? 100);
const logger = rootLogger.child({ bench: 'log-index-start' });
logger.level = 'warn';
const say = (m: string) => process.stdout.write(`${m}\n`);

async function timed(build: () => Promise<LogIndex>): Promise<{ ms: number; cpuMs: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const index = await build();
  const c = process.cpuUsage(c0);
  if (index.lastLid !== COUNT) throw new Error(`index holds ${index.lastLid} of ${COUNT}`);
  return { ms: Math.round(performance.now() - t0), cpuMs: Math.round((c.user + c.system) / 1000) };
}

async function main(): Promise<void> {
  const broker = await acquireBroker({ logger, onProgress: (m) => say(`broker: ${m}`) });
  const prefix = `bench-idx-${randomBytes(3).toString('hex')}.`;
  const config = loadConfig({
    env: {},
    overrides: { topicPrefix: prefix, kafka: { brokers: broker.brokers } },
  });
  const kafka = createKafkaClient(config.kafka, logger);
  const topics = topicNames(prefix);
  await applyTopics(kafka, loadTopicDeclarations(), { prefix, replicationFactor: 1 });
  const producer = new TransactionalProducer(kafka, { transactionalId: `${prefix}writer`, logger });
  await producer.connect();
  const stamp = new Date().toISOString();
  const records = makeRecords('idx', COUNT);
  let logBytes = 0;
  let keysBytes = 0;
  for (let at = 0; at < COUNT; at += PER_TX) {
    const chunk: LogRecord[] = records.slice(at, at + PER_TX).map((r, i) => ({
      id: r.id,
      host: 1,
      seed: String(r.seed),
      prehash: r.prehash ? [r.prehash] : [],
      parent: [],
      tags: r.tags,
      receivedAt: stamp,
      lid: at + i + 1,
      toid: at + i + 1,
      appendedAt: stamp,
    }));
    const out: OutMessage[] = chunk.map((r) => {
      const value = encodeLog(r);
      logBytes += value.length;
      return { topic: topics.log, partition: 0, key: r.id, value, headers: { lid: String(r.lid) } };
    });
    for (const value of encodeLogKeys(chunk.map(logKeysOf))) {
      keysBytes += value.length;
      out.push({ topic: topics.logkeys, partition: 0, key: null, value });
    }
    await producer.send(out);
    if ((at / PER_TX) % 100 === 0) process.stdout.write(`\rwritten ${at + chunk.length}/${COUNT}`);
  }
  await producer.close();
  say(
    `\rwritten ${COUNT} records: log ${(logBytes / 1e6).toFixed(1)} MB, logkeys ${(keysBytes / 1e6).toFixed(1)} MB`,
  );

  const fromLog = async () => {
    const index = new LogIndex();
    const f = await followTopic(kafka, {
      topic: topics.log,
      from: 'earliest',
      logger,
      onBatch: (b) => {
        for (const m of b.messages) if (m.value) index.add(logKeysOf(decodeLog(m.value)));
      },
    });
    await f.caughtUp;
    await f.close();
    return index;
  };
  const fromKeys = async () => {
    const index = new LogIndex();
    const feed = await startLogFeed({
      kafka,
      topics,
      logger,
      lastLid: () => index.lastLid,
      onKeys: (keys) => {
        for (const k of keys) index.add(k);
      },
    });
    await feed.caughtUp;
    await feed.close();
    return index;
  };
  const results: Record<string, Array<{ ms: number; cpuMs: number }>> = { log: [], logkeys: [] };
  for (let run = 1; run <= RUNS; run++) {
    for (const [name, build] of [
      ['log', fromLog],
      ['logkeys', fromKeys],
    ] as const) {
      const r = await timed(build);
      results[name].push(r);
      say(`run ${run} ${name.padEnd(8)} ${COUNT} records: ${r.ms} ms wall, ${r.cpuMs} ms CPU`);
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  say(
    JSON.stringify({
      count: COUNT,
      perTx: PER_TX,
      runs: RUNS,
      logMB: +(logBytes / 1e6).toFixed(1),
      logkeysMB: +(keysBytes / 1e6).toFixed(1),
      medianMs: {
        log: med(results.log.map((r) => r.ms)),
        logkeys: med(results.logkeys.map((r) => r.ms)),
      },
      medianCpuMs: {
        log: med(results.log.map((r) => r.cpuMs)),
        logkeys: med(results.logkeys.map((r) => r.cpuMs)),
      },
    }),
  );
  await broker.stop();
}

main().catch((e: unknown) => {
  process.stderr.write(`${String((e as Error).stack ?? e)}\n`);
  process.exit(1);
});
