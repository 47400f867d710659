/**
 * `npm run bench:flstore` (issue 4): flstore on this machine at 1 M records with ~100 bytes of
 * tags. Append throughput (fsync always, the default, and never), read latency by LId, tag
 * and id, index memory (heap + typed arrays after GC: node runs with --expose-gc), reopen
 * time (clean: index files + active snapshot; as after kill -9: no snapshot; cold: no index
 * file at all, every segment scanned), and the time of
 * `chariots rebuild` from a log topic of BENCH_FLSTORE_REBUILD records (needs a broker:
 * KAFKA_BROKERS, or one is started from jars). Results: stdout and bench/results/.
 *
 *   BENCH_FLSTORE_RECORDS=1000000 (0 skips the store part)
 *   BENCH_FLSTORE_REBUILD=1000000 (0 skips the rebuild)
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem, uptime } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../src/config/load';
import { FlStore, type FsyncPolicy } from '../src/flstore';
import { appRecord } from '../src/flstore/test-records';
import { appendNumbered } from '../src/flstore/test-store';
import { encodeLog, type LogRecord } from '../src/record';
import { runCli } from '../test/helpers/cli';
import { percentile, sortedFinite } from './stats';

const N = Number(process.env.BENCH_FLSTORE_RECORDS ?? 1_000_000);
const REBUILD = Number(process.env.BENCH_FLSTORE_REBUILD ?? N);
const BATCH = 1000; // the maintainer appends what one fetch delivers; 1000 is typical
const SAMPLES = 5000;
const logger = pino({ level: 'silent' });
const REGIONS = ['eu-west-1', 'us-east-2', 'ap-south-1'];

/** ~100 bytes of tags: two repeating (user, kind), one of 3 values, two unique per record. */
export function benchRecord(lid: number): LogRecord {
  return appRecord(lid, {
    user: `u${lid % 10000}`,
    kind: `k${lid % 10}`,
    region: REGIONS[lid % 3],
    n: String(lid),
    trace: (lid * 2654435761).toString(16).padStart(16, '0'),
  });
}

const gc = () => (global.gc ? global.gc() : undefined);
const mem = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, arrays: m.arrayBuffers };
};
const mb = (b: number) => +(b / 1e6).toFixed(1);
const storeOpts = (dir: string, fsync: FsyncPolicy) => ({
  dir,
  segmentBytes: 64 * 1024 * 1024,
  fsync,
  fsyncIntervalMs: 1000,
  logger,
});
const note = (s: string) => process.stderr.write(`[bench:flstore] ${s}\n`);

async function appendAll(store: FlStore) {
  const t = performance.now();
  const cpu0 = process.cpuUsage();
  const bytes = await appendNumbered(store, N, benchRecord, BATCH);
  const s = (performance.now() - t) / 1000;
  return {
    seconds: +s.toFixed(2),
    cpuSeconds: cpuOf(cpu0),
    recordsPerS: Math.round(N / s),
    MBPerS: +(bytes / 1e6 / s).toFixed(1),
    valueBytes: Math.round(bytes / N),
  };
}

async function latency(f: (i: number) => Promise<unknown>) {
  const xs: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const t = performance.now();
    await f(i);
    xs.push(performance.now() - t);
  }
  const s = sortedFinite(xs);
  return {
    p50Ms: +(percentile(s, 50) ?? NaN).toFixed(3),
    p99Ms: +(percentile(s, 99) ?? NaN).toFixed(3),
  };
}

/** CPU seconds this process used since `from`: on a shared machine, less noisy than wall time. */
const cpuOf = (from: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(from);
  return +((u.user + u.system) / 1e6).toFixed(3);
};

const rnd = () => 1 + Math.floor(Math.random() * N);

async function timedOpen(dir: string) {
  const before = mem();
  const t = performance.now();
  const cpu0 = process.cpuUsage();
  const store = await FlStore.open(storeOpts(dir, 'always'));
  const seconds = +((performance.now() - t) / 1000).toFixed(3);
  const cpuSeconds = cpuOf(cpu0);
  if (store.lastLid() !== N) throw new Error(`reopened with ${store.lastLid()} records`);
  const after = mem();
  const heapMB = mb(after.heap - before.heap);
  const arraysMB = mb(after.arrays - before.arrays);
  return {
    store,
    seconds,
    cpuSeconds,
    indexMemory: { heapMB, arraysMB, totalMB: +(heapMB + arraysMB).toFixed(1) },
  };
}

async function storeBench() {
  const out: Record<string, unknown> = {};
  for (const fsync of ['always', 'never'] as const) {
    const dir = mkdtempSync(join(tmpdir(), `flbench-${fsync}-`));
    try {
      const m0 = mem();
      const store = await FlStore.open(storeOpts(dir, fsync));
      note(`appending ${N} records, fsync ${fsync}`);
      const append = await appendAll(store);
      const m1 = mem();
      const diskBytes = readdirSync(dir).reduce((s, f) => s + statSync(join(dir, f)).size, 0);
      out[`append_${fsync}`] = { ...append, diskMB: mb(diskBytes) };
      if (fsync === 'never') {
        await store.close();
        continue;
      }
      out.indexMemoryAfterAppend = {
        heapMB: mb(m1.heap - m0.heap),
        arraysMB: mb(m1.arrays - m0.arrays),
        stats: store.stats(),
      };
      note('read latency');
      out.getByLid = await latency(() => store.get(rnd()));
      out.tagQueryUser100 = await latency(() =>
        store.query({ by: 'tag', tag: `user:u${rnd() % 10000}` }, 0, 100),
      );
      out.tagQueryUnique = await latency(() =>
        store.query({ by: 'tag', tag: `n:${rnd()}` }, 0, 100),
      );
      out.idQuery = await latency(() => store.query({ by: 'id', id: benchRecord(rnd()).id }, 0, 1));
      const check = await store.query({ by: 'tag', tag: 'user:u42' }, 0, 1000);
      if (check.length !== N / 10000) throw new Error(`user:u42 gave ${check.length} records`);
      await store.close();
      note('reopen');
      const warm = await timedOpen(dir);
      out.reopen = {
        seconds: warm.seconds,
        cpuSeconds: warm.cpuSeconds,
        indexMemory: warm.indexMemory,
      };
      out.getByLidAfterReopen = await latency(() => warm.store.get(rnd()));
      await warm.store.close();
      // After kill -9 there is no snapshot of the active segment: it is scanned.
      for (const f of readdirSync(dir)) if (f.endsWith('.act')) rmSync(join(dir, f));
      note('reopen without the active snapshot (as after kill -9)');
      const crashed = await timedOpen(dir);
      out.reopenAfterCrash = { seconds: crashed.seconds, cpuSeconds: crashed.cpuSeconds };
      await crashed.store.close();
      for (const f of readdirSync(dir)) if (/\.(idx|act)$/.test(f)) rmSync(join(dir, f));
      note('reopen without index files (every segment scanned, index files rewritten)');
      const cold = await timedOpen(dir);
      out.reopenRebuildingIndexFiles = { seconds: cold.seconds, cpuSeconds: cold.cpuSeconds };
      await cold.store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(`${dir}.lock`, { force: true });
    }
  }
  return out;
}

async function rebuildBench() {
  const { randomBytes } = await import('node:crypto');
  const { acquireBroker } = await import('../src/kafka/broker');
  const kafka_ = await import('../src/kafka');
  const broker = await acquireBroker({ logger });
  const prefix = `bench-fl-${randomBytes(3).toString('hex')}.`;
  const dataDir = mkdtempSync(join(tmpdir(), 'flbench-rebuild-'));
  try {
    const kafka = kafka_.createKafkaClient(
      loadConfig({ env: {}, overrides: { kafka: { brokers: broker.brokers } } }).kafka,
      logger,
    );
    await kafka_.applyTopics(kafka, kafka_.loadTopicDeclarations(), {
      prefix,
      replicationFactor: 1,
    });
    const topic = kafka_.topicNames(prefix).log;
    note(`producing ${REBUILD} log records to ${topic}`);
    const producer = new kafka_.BatchingProducer(kafka, {
      lingerMs: 5,
      maxBatchMessages: 2000,
      maxPending: 200000,
      logger,
    });
    await producer.connect();
    const t0 = performance.now();
    for (let from = 1; from <= REBUILD; from += 50000) {
      const msgs = [];
      for (let lid = from; lid < from + 50000 && lid <= REBUILD; lid++)
        msgs.push({ topic, key: null, value: encodeLog(benchRecord(lid)) });
      await producer.sendMany(msgs);
    }
    await producer.close();
    const produceS = (performance.now() - t0) / 1000;
    note(`running chariots rebuild (${REBUILD} records)`);
    const t1 = performance.now();
    const res = await runCli(['rebuild'], {
      CHARIOTS_KAFKA_BROKERS: broker.brokers.join(','),
      CHARIOTS_TOPIC_PREFIX: prefix,
      CHARIOTS_DATA_DIR: dataDir,
    });
    const wallS = (performance.now() - t1) / 1000;
    if (res.code !== 0) throw new Error(`rebuild failed: ${res.stderr.slice(-2000)}`);
    const result = JSON.parse(res.stdout.trim().split('\n').pop()!) as {
      records: number;
      ms: number;
    };
    if (result.records !== REBUILD) throw new Error(`rebuild stored ${result.records}`);
    return {
      records: REBUILD,
      broker: broker.kind,
      produceSeconds: +produceS.toFixed(1),
      rebuildWallSeconds: +wallS.toFixed(1),
      rebuildReportedSeconds: +(result.ms / 1000).toFixed(1),
      recordsPerS: Math.round(REBUILD / wallS),
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    await broker.stop();
  }
}

async function main() {
  if (!global.gc) throw new Error('run node with --expose-gc (npm run bench:flstore does)');
  const started = new Date().toISOString();
  const loadStart = loadavg().map((x) => +x.toFixed(2));
  const store = N > 0 ? await storeBench() : {};
  const rebuild = REBUILD > 0 ? await rebuildBench() : undefined;
  const result = {
    bench: 'flstore',
    started,
    records: N,
    machine: {
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      memGiB: +(totalmem() / 2 ** 30).toFixed(1),
      node: process.version,
      uptimeS: Math.round(uptime()),
    },
    loadavgStart: loadStart,
    loadavgEnd: loadavg().map((x) => +x.toFixed(2)),
    ...store,
    ...(rebuild ? { rebuild } : {}),
  };
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const parts = `${N > 0 ? `store${N}` : ''}${REBUILD > 0 ? `rebuild${REBUILD}` : ''}`;
  const file = join(dir, `${started.slice(0, 10)}-flstore-${parts}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  note(`written to ${file}`);
}

if (require.main === module)
  void main().catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
