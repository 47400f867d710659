/**
 * `npm run bench` (issue 8): the whole pipeline (one process per stage) on a real broker, driven by
 * the four ingest paths and compared with the thinnest kafkajs chain of the same Kafka hops.
 *
 *   BENCH_RECORDS=120000  records per throughput run (long enough to be sustained: ~5 s at 20 k/s) (path c: BENCH_SINGLE_RECORDS, default 1/3 of it)
 *   BENCH_RUNS=3          runs per workload (the median is reported)
 *   BENCH_ONLY=a,b        workloads: baseline,a,b,c,d,baseline-rate,rate,baseline-low,low (default all)
 *   BENCH_RATE=5000       records/s of the fixed-rate runs; BENCH_LOW_RATE=1000 for the unsaturated ones;
 *                         BENCH_RATE_SECONDS=6 each
 *   BENCH_PROFILE=a,c     workloads to run once more under the CPU profiler ('' = none)
 *   BENCH_NAME=default    results go to bench/results/<date>-<name>.json
 *   BENCH_LAYOUT=processes  every stage and baseline hop in its own process (as deployed; CPU
 *                         and RSS per stage); `one` = everything in this process (as `chariots dev`)
 *   BENCH_STALL_MS=30000  a run ends when nothing was appended for this long
 *   BENCH_CONCURRENCY=8   input partitions whose transactions overlap, in the filter and queue
 *                         (kafka.partitionsConcurrency) and in each baseline hop alike
 *   BENCH_NODE_FLAGS_<PROCESS>=  Node/V8 flags for one stage process (e.g. BENCH_NODE_FLAGS_QUEUE)
 *   BENCH_DEFERRED=100000 records left waiting in the queue for the `deferred` workload (runs last)
 *   BENCH_TOPIC_MAX_MESSAGE_BYTES=0
 *                         max.message.bytes set on every bench topic (0 = the declarations as shipped).
 *                         Workaround: once, the sequencer's produce to `log` exceeded the 1 MB default
 *                         (MESSAGE_TOO_LARGE), its consumer crashed and the log stopped (BENCHMARKS.md).
 *   KAFKA_BROKERS         use this broker instead of acquiring one (see src/kafka/broker)
 *   CHARIOTS_KAFKA_JVM_OPTS=-XX:TieredStopAtLevel=4
 *                         extra JVM flags of a jar-started broker (the bench's default: full JIT;
 *                         tests run it C1-only for start-up time)
 *
 * Progress goes to stderr; pipeline logs (warn and above) to bench/results/logs/.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import { loadConfig } from '../src/config/load';
import {
  applyTopics,
  createKafkaClient,
  followTopic,
  loadTopicDeclarations,
  topicNames,
} from '../src/kafka';
import type { Follower, InBatch } from '../src/kafka';
import { acquireBroker, type AcquiredBroker } from '../src/kafka/broker';
import { benchLogger, kafkajsRetries } from './logs';
import { PIPELINE_STAGES, procRss, procTicks } from './processes';
import { seedDeferred } from './deferred';
import { startBaselineTarget, startChariots, type Layout } from './targets';
import type { RunRequest, SendPath, WorkerMessage } from './client-worker';
import { Profiler, summarize, type CpuProfile, type ProfileSummary } from './profile';
import { renderMarkdown, updateBenchmarksMd } from './report';
import { median, nowMs, percentile, round, sortedFinite } from './stats';
import { indexOf } from './workload';

const ROOT = join(__dirname, '..');
const RESULTS = join(__dirname, 'results');

const env = process.env;
const num = (k: string, d: number) => (env[k] ? Number(env[k]) : d);
const RECORDS = num('BENCH_RECORDS', 120_000);
const SINGLE_RECORDS = num('BENCH_SINGLE_RECORDS', Math.round(RECORDS / 3));
const RUNS = num('BENCH_RUNS', 3);
const RATE = num('BENCH_RATE', 5000);
const RATE_SECONDS = num('BENCH_RATE_SECONDS', 6);
const LOW_RATE = num('BENCH_LOW_RATE', 1000);
const STALL_MS = num('BENCH_STALL_MS', 30_000);
const DEFERRED = num('BENCH_DEFERRED', 100_000);
const NAME = env.BENCH_NAME ?? 'default';
const CONCURRENCY = num('BENCH_CONCURRENCY', 8);
// A jar-started broker runs C1-only for quick test start-up; a benchmark wants the full JIT
// (as any deployed broker has), for the baseline and Chariots alike.
process.env.CHARIOTS_KAFKA_JVM_OPTS ??= '-XX:TieredStopAtLevel=4';
// The stage processes inherit the environment; the one-process layout reads the override.
process.env.CHARIOTS_KAFKA_PARTITIONS_CONCURRENCY = String(CONCURRENCY);
const LAYOUT: Layout = env.BENCH_LAYOUT === 'one' ? 'one' : 'processes';
const TOPIC_MAX_MESSAGE_BYTES = num('BENCH_TOPIC_MAX_MESSAGE_BYTES', 0);

type Target = 'chariots' | 'baseline';
interface WorkloadSpec {
  key: string;
  title: string;
  path: SendPath;
  target: Target;
  rate: number;
  records: number;
}
const ALL: WorkloadSpec[] = [
  {
    key: 'baseline',
    title: 'baseline: thin kafkajs chain, direct produce',
    path: 'kafka',
    target: 'baseline',
    rate: 0,
    records: RECORDS,
  },
  {
    key: 'a',
    title: '(a) direct Kafka produce to ingest',
    path: 'kafka',
    target: 'chariots',
    rate: 0,
    records: RECORDS,
  },
  {
    key: 'b',
    title: '(b) POST /records, batches of 1000',
    path: 'http-batch',
    target: 'chariots',
    rate: 0,
    records: RECORDS,
  },
  {
    key: 'c',
    title: '(c) POST /record, 64 keep-alive connections',
    path: 'http-single',
    target: 'chariots',
    rate: 0,
    records: SINGLE_RECORDS,
  },
  {
    key: 'd',
    title: "(d) raw TCP, 's' frames of 100 records",
    path: 'tcp',
    target: 'chariots',
    rate: 0,
    records: RECORDS,
  },
  {
    key: 'baseline-rate',
    title: `baseline at ${RATE} records/s (direct produce)`,
    path: 'kafka',
    target: 'baseline',
    rate: RATE,
    records: RATE * RATE_SECONDS,
  },
  {
    key: 'rate',
    title: `fixed rate ${RATE} records/s (direct produce)`,
    path: 'kafka',
    target: 'chariots',
    rate: RATE,
    records: RATE * RATE_SECONDS,
  },
  {
    key: 'baseline-low',
    title: `baseline at ${LOW_RATE} records/s (direct produce)`,
    path: 'kafka',
    target: 'baseline',
    rate: LOW_RATE,
    records: LOW_RATE * RATE_SECONDS,
  },
  {
    key: 'low',
    title: `fixed rate ${LOW_RATE} records/s (direct produce)`,
    path: 'kafka',
    target: 'chariots',
    rate: LOW_RATE,
    records: LOW_RATE * RATE_SECONDS,
  },
  {
    // Runs last (its deferred records would weigh on every later run): issue 8's target
    // "100 000 deferred records cost < 150 MB of queue RSS and lower the others' throughput
    // by < 10 %", i.e. (a) again with DEFERRED records waiting in the queue.
    key: 'deferred',
    title: `(a) with ${DEFERRED} deferred records waiting in the queue`,
    path: 'kafka',
    target: 'chariots',
    rate: 0,
    records: RECORDS,
  },
];
const only = (env.BENCH_ONLY ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const WORKLOADS = only.length ? ALL.filter((w) => only.includes(w.key)) : ALL;
const PROFILE = (env.BENCH_PROFILE ?? 'a,c')
  .split(',')
  .map((s) => s.trim())
  .filter((k) => WORKLOADS.some((w) => w.key === k));

export interface RunResult {
  workload: string;
  run: number;
  profiled: boolean;
  loadavgAtStart: number[];
  records: number;
  sent: number;
  appended: number;
  /** Records of this run seen more than once in the log: must be 0 (exactly once). */
  duplicates: number;
  notAppended: number;
  sendErrors: number;
  retries: number;
  errorSamples: string[];
  /** appended / (last append − first send): the conservative, whole-run figure. */
  recordsPerSec: number | null;
  /** Records between the 10 % and the 90 % append marks / the time between them. */
  steadyRecordsPerSec: number | null;
  sendSeconds: number;
  wallSeconds: number;
  latencyMs: { p50: number | null; p99: number | null; p999: number | null; max: number | null };
  requestLatencyMs?: {
    p50: number | null;
    p99: number | null;
    p999: number | null;
    requests: number;
    perSec: number | null;
  };
  cpu: {
    processPct: number;
    pipelineThreadElu: number;
    clientThreadElu: number;
    machineBusyPct: number;
    brokerPct: number | null;
  };
  rssPeakMb: number;
  /** Processes layout: CPU (% of one core, over the run's wall time) and peak RSS per stage process. */
  perProcess: Record<
    string,
    { cpuPct: number | null; cpuMsPer1kRecords: number | null; rssPeakMb: number }
  >;
  /** kafkajs retries (each ~100 ms) of a transaction started before the previous one's markers were written. */
  concurrentTransactionRetries: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');

function progress(line: string) {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`);
  else process.stderr.write(`${line}\n`);
}
const say = (line: string) =>
  process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[K' : ''}${line}\n`);

/** CPU ticks of the broker JVM we started (jar route), found by its data dir in the command line. */
function brokerPid(dataDir: string | undefined): number | null {
  if (!dataDir) return null;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (cmd.startsWith('java') || cmd.includes('/java\0'))
        if (cmd.includes(dataDir)) return Number(d);
    } catch {
      /* gone */
    }
  }
  return null;
}
function machineTimes() {
  let idle = 0;
  let total = 0;
  for (const c of cpus()) {
    idle += c.times.idle;
    total += c.times.idle + c.times.user + c.times.sys + c.times.nice + c.times.irq;
  }
  return { idle, total };
}

async function main() {
  const gitAtStart = gitState();
  mkdirSync(join(RESULTS, 'logs'), { recursive: true });
  mkdirSync(join(RESULTS, 'profiles'), { recursive: true });
  const logFile = join(RESULTS, 'logs', `${stamp}-${NAME}.log`);
  const { logger, counts: logCounts, samples: logSamples, childLine } = benchLogger(logFile);
  say(
    `bench: workloads ${WORKLOADS.map((w) => w.key).join(',')}, ${RUNS} runs each, ${RECORDS} records per run; logs in ${logFile}`,
  );

  // The broker: KAFKA_BROKERS, else Redpanda in Docker, else Kafka from jars (as tests do).
  let kafkaVersion = env.BENCH_KAFKA_VERSION ?? 'unknown';
  let brokerDataDir: string | undefined;
  const brokerLog = pino(
    {
      level: 'info',
      hooks: {
        logMethod(args, method) {
          const o = args[0] as { version?: string; dataDir?: string } | undefined;
          if (o && typeof o === 'object') {
            if (o.version) kafkaVersion = `Apache Kafka ${o.version} (KRaft, from jars)`;
            if (o.dataDir) brokerDataDir = o.dataDir;
          }
          return method.apply(this, args);
        },
      },
    },
    pino.destination({ dest: logFile, sync: false, mkdir: true }),
  );
  const t0 = Date.now();
  const broker: AcquiredBroker = await acquireBroker({
    logger: brokerLog,
    onProgress: (m) => say(`broker: ${m}`),
  });
  if (broker.kind === 'redpanda' && kafkaVersion === 'unknown')
    kafkaVersion = 'Redpanda (Testcontainers)';
  const jvm = broker.kind === 'kafka-jars' ? brokerPid(brokerDataDir) : null;
  say(
    `broker: ${broker.kind} ${broker.brokers.join(',')} (${kafkaVersion}) in ${Date.now() - t0} ms${jvm ? `, JVM pid ${jvm}` : ''}`,
  );

  const dataDir = mkdtempSync(join(tmpdir(), 'chariots-bench-'));
  const prefix = `bench-${stamp}-${randomBytes(3).toString('hex')}.`;
  const basePrefix = `bench-${stamp}-${randomBytes(3).toString('hex')}-base.`;
  const config = loadConfig({
    env: {},
    overrides: {
      topicPrefix: prefix,
      dataDir,
      log: { level: 'warn' },
      kafka: { brokers: broker.brokers, partitionsConcurrency: CONCURRENCY },
      http: { port: 0, adminPort: 0, host: '127.0.0.1' },
      tcp: { port: 0, host: '127.0.0.1' },
    },
  });
  const kafka = createKafkaClient(config.kafka, logger);
  const decls = loadTopicDeclarations().map((d) =>
    TOPIC_MAX_MESSAGE_BYTES > 0
      ? { ...d, configs: { ...d.configs, 'max.message.bytes': String(TOPIC_MAX_MESSAGE_BYTES) } }
      : d,
  );
  const topicRetries: string[] = [];
  // applyTopics is idempotent; on a just-started broker it can fail with "This server does
  // not host this topic-partition" while kafkajs waits for the new topics' leaders: retry.
  for (const pfx of [prefix, basePrefix])
    for (let attempt = 1; ; attempt++) {
      try {
        await applyTopics(kafka, decls, { prefix: pfx, replicationFactor: 1 });
        break;
      } catch (e) {
        if (attempt >= 5) throw e;
        topicRetries.push(`${pfx}: attempt ${attempt}: ${String((e as Error)?.message ?? e)}`);
        say(
          `applyTopics ${pfx} failed (attempt ${attempt}): ${String((e as Error)?.message ?? e)}; retrying`,
        );
        await sleep(1000 * attempt);
      }
    }
  const topics = topicNames(prefix);
  const baseTopics = topicNames(basePrefix);

  const needChariots = WORKLOADS.some((w) => w.target === 'chariots');
  const needBaseline = WORKLOADS.some((w) => w.target === 'baseline');
  if (needChariots && LAYOUT === 'processes') {
    say('build: npm run build (the stage processes run dist/, as deployed)');
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  }
  const t1 = Date.now();
  const startPipeline = (cpuProfDir?: (stage: string) => string) =>
    startChariots(LAYOUT, { config, logger, childLine, cpuProfDir });
  let stages = needChariots ? await startPipeline() : undefined;
  if (stages)
    say(
      `pipeline (${LAYOUT} layout): stages ${PIPELINE_STAGES.join(', ')} started in ${Date.now() - t1} ms (topic prefix ${prefix})`,
    );
  const baseline = needBaseline
    ? await startBaselineTarget(LAYOUT, {
        kafka,
        topics: baseTopics,
        prefix: basePrefix,
        brokers: broker.brokers,
        concurrency: CONCURRENCY, // as the filter and queue
        logger,
        childLine,
      })
    : undefined;

  // What the followers of the two log topics feed: the current run's append times by index.
  let current:
    | {
        runTag: string;
        appendedAt: Float64Array;
        appended: number;
        duplicates: number;
        target: Target;
      }
    | undefined;
  let strays = 0;
  const onAppended =
    (target: Target, idOf: (m: InBatch['messages'][number]) => string | undefined) =>
    (b: InBatch) => {
      const t = nowMs();
      for (const m of b.messages) {
        const id = idOf(m);
        if (!id) continue;
        const c = current;
        const i = c && c.target === target ? indexOf(id, c.runTag) : -1;
        if (!c || i < 0 || i >= c.appendedAt.length) {
          strays++;
          continue;
        }
        if (Number.isNaN(c.appendedAt[i])) {
          c.appendedAt[i] = t;
          c.appended++;
        } else c.duplicates++;
      }
    };
  /** Follows a log topic from now on, noting when each of `target`'s records is appended. */
  const followAppends = (topic: string, target: Target, idOf: Parameters<typeof onAppended>[1]) =>
    followTopic(kafka, { topic, from: 'latest', logger, onBatch: onAppended(target, idOf) });
  const followers: Follower[] = [];
  if (stages) followers.push(await followAppends(topics.log, 'chariots', (m) => m.key?.toString()));
  if (baseline)
    followers.push(
      // The chain forwards the raw record; its id is the first field.
      await followAppends(baseTopics.log, 'baseline', (m) => {
        const v = m.value?.toString('latin1', 0, 200) ?? '';
        const s = v.indexOf('"id":"');
        return s < 0 ? undefined : v.slice(s + 6, v.indexOf('"', s + 6));
      }),
    );

  const worker = new Worker(
    `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(join(__dirname, 'client-worker.ts'))});`,
    {
      eval: true,
    },
  );
  worker.on('error', (e) => say(`client worker error: ${String(e)}`));

  const runOne = async (
    w: WorkloadSpec,
    run: number,
    profiled: boolean,
    records = w.records,
  ): Promise<RunResult> => {
    const runTag = `${w.key}${run}${profiled ? 'p' : ''}x${randomBytes(2).toString('hex')}`;
    const appendedAt = new Float64Array(records).fill(NaN);
    current = { runTag, appendedAt, appended: 0, duplicates: 0, target: w.target };
    const cur = current;
    const req: RunRequest = {
      path: w.path,
      runTag,
      records,
      rate: w.rate,
      brokers: broker.brokers,
      ingestTopic: w.target === 'chariots' ? topics.ingest : baseTopics.ingest,
      httpUrl: stages?.httpUrl,
      tcpPort: stages?.tcpPort,
      httpBatch: 1000,
      httpConcurrency: 4,
      singleConnections: 64,
      tcpFrameRecords: 100,
      logFile,
    };
    const load = loadavg().map((x) => round(x, 2) as number);
    const ctx0 = kafkajsRetries.concurrentTransactions;
    const cpu0 = process.cpuUsage();
    const m0 = machineTimes();
    const b0 = procTicks(jvm);
    const children = (w.target === 'chariots' ? stages : baseline)?.children ?? [];
    const childTicks0 = children.map((c) => procTicks(c.pid));
    const childRss = children.map((c) => procRss(c.pid) ?? 0);
    const elu0 = performance.eventLoopUtilization();
    const welu0 = worker.performance.eventLoopUtilization();
    const wall0 = nowMs();
    let rssPeak = process.memoryUsage.rss();
    let sent = 0;
    let lastCount = 0;
    let lastTick = nowMs();
    let rateNow = 0;
    const label = `[${w.key} ${profiled ? 'profiled' : `run ${run}/${RUNS}`}]`;
    const ticker = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
      children.forEach((c, i) => (childRss[i] = Math.max(childRss[i], procRss(c.pid) ?? 0)));
      const t = nowMs();
      rateNow = ((cur.appended - lastCount) / (t - lastTick)) * 1000;
      lastCount = cur.appended;
      lastTick = t;
      progress(
        `${label} sent ${sent}/${records}  appended ${cur.appended}  ${Math.round(rateNow)} rec/s  load ${loadavg()[0].toFixed(2)}`,
      );
    }, 1000);
    const done = await new Promise<Extract<WorkerMessage, { type: 'done' }>>((resolve, reject) => {
      const onMsg = (m: WorkerMessage) => {
        if (m.type === 'progress') sent = m.sent;
        else {
          worker.off('message', onMsg);
          if (m.type === 'done') resolve(m);
          else reject(new Error(`client worker failed: ${m.error}`));
        }
      };
      worker.on('message', onMsg);
      worker.postMessage(req);
    });
    sent = done.sendTimes.reduce((n, t) => (Number.isNaN(t) ? n : n + 1), 0);
    // Wait for the appends: until every sent record is in the log, or nothing moved for STALL_MS.
    let seen = cur.appended;
    let lastMove = nowMs();
    while (cur.appended < sent && nowMs() - lastMove < STALL_MS) {
      await sleep(50);
      if (cur.appended !== seen) {
        seen = cur.appended;
        lastMove = nowMs();
      }
    }
    clearInterval(ticker);
    const wallMs = nowMs() - wall0;
    const cpu1 = process.cpuUsage(cpu0);
    const m1 = machineTimes();
    const b1 = procTicks(jvm);
    const perProcess: RunResult['perProcess'] = {};
    children.forEach((c, i) => {
      const t1 = procTicks(c.pid);
      const t0 = childTicks0[i];
      const cpuMs = t0 !== null && t1 !== null ? (t1 - t0) * 10 : null;
      perProcess[c.name] = {
        cpuPct: cpuMs !== null ? Math.round((cpuMs * 100) / wallMs) : null,
        // CPU per record hardly depends on what else the machine runs: the figure to compare.
        cpuMsPer1kRecords:
          cpuMs !== null && cur.appended > 0 ? round((cpuMs / cur.appended) * 1000, 0) : null,
        rssPeakMb: Math.round(childRss[i] / 1048576),
      };
    });
    const elu = performance.eventLoopUtilization(elu0);
    const welu = worker.performance.eventLoopUtilization(welu0);

    const lat = new Float64Array(records);
    let lastAppend = 0;
    const times: number[] = [];
    for (let i = 0; i < records; i++) {
      lat[i] = appendedAt[i] - done.sendTimes[i];
      if (!Number.isNaN(appendedAt[i])) {
        times.push(appendedAt[i]);
        if (appendedAt[i] > lastAppend) lastAppend = appendedAt[i];
      }
    }
    times.sort((a, b) => a - b);
    const sorted = sortedFinite(lat);
    const steady =
      times.length >= 20
        ? (() => {
            const lo = Math.floor(times.length * 0.1);
            const hi = Math.floor(times.length * 0.9);
            const dt = times[hi] - times[lo];
            return dt > 0 ? ((hi - lo) / dt) * 1000 : null;
          })()
        : null;
    const reqSorted = Float64Array.from(done.requestLatencies).sort();
    const result: RunResult = {
      workload: w.key,
      run,
      profiled,
      loadavgAtStart: load,
      records,
      sent,
      appended: cur.appended,
      duplicates: cur.duplicates,
      notAppended: sent - cur.appended,
      sendErrors: done.errors,
      retries: done.retries,
      errorSamples: done.errorSamples,
      recordsPerSec:
        cur.appended > 0 && lastAppend > done.firstSend
          ? round((cur.appended / (lastAppend - done.firstSend)) * 1000, 0)
          : null,
      steadyRecordsPerSec: round(steady, 0),
      sendSeconds: round((done.lastSend - done.firstSend) / 1000, 2) as number,
      wallSeconds: round(wallMs / 1000, 2) as number,
      latencyMs: {
        p50: round(percentile(sorted, 50)),
        p99: round(percentile(sorted, 99)),
        p999: round(percentile(sorted, 99.9)),
        max: round(sorted.length ? sorted[sorted.length - 1] : null),
      },
      cpu: {
        processPct: Math.round(((cpu1.user + cpu1.system) / 1000 / wallMs) * 100),
        pipelineThreadElu: round(elu.utilization, 2) as number,
        clientThreadElu: round(welu.utilization, 2) as number,
        machineBusyPct: Math.round(
          (1 - (m1.idle - m0.idle) / Math.max(1, m1.total - m0.total)) * 100,
        ),
        brokerPct: b0 !== null && b1 !== null ? Math.round(((b1 - b0) * 10 * 100) / wallMs) : null,
      },
      rssPeakMb: Math.round(rssPeak / 1048576),
      perProcess,
      concurrentTransactionRetries: kafkajsRetries.concurrentTransactions - ctx0,
    };
    if (w.path === 'http-single' || w.path === 'http-batch') {
      const span = (done.lastSend - done.firstSend) / 1000;
      result.requestLatencyMs = {
        p50: round(percentile(reqSorted, 50)),
        p99: round(percentile(reqSorted, 99)),
        p999: round(percentile(reqSorted, 99.9)),
        requests: reqSorted.length,
        perSec: span > 0 ? round(reqSorted.length / span, 0) : null,
      };
    }
    current = undefined;
    say(
      `${label} ${result.appended}/${records} appended, ${result.recordsPerSec ?? '-'} rec/s (steady ${result.steadyRecordsPerSec ?? '-'}), latency p50 ${result.latencyMs.p50} p99 ${result.latencyMs.p99} p99.9 ${result.latencyMs.p999} ms` +
        (result.requestLatencyMs
          ? `, request p99 ${result.requestLatencyMs.p99} ms (${result.requestLatencyMs.perSec} req/s)`
          : '') +
        (result.duplicates ? `, ${result.duplicates} DUPLICATES` : '') +
        (result.notAppended ? `, ${result.notAppended} NOT APPENDED` : '') +
        (result.sendErrors
          ? `, ${result.sendErrors} send errors (${result.errorSamples[0]})`
          : '') +
        `, load ${load[0]}`,
    );
    return result;
  };

  const results: RunResult[] = [];
  let queueRssBeforeDeferredMb: number | undefined;
  const skipped: string[] = [];
  const profiles: Record<string, ProfileSummary> = {};
  let failure: unknown;
  try {
    // Warm-up (not reported): group joins, partition preparation, JIT.
    for (const w of WORKLOADS.filter((x) => x.rate === 0 && x.path === 'kafka')) {
      const r = await runOne(w, 0, false, Math.min(2000, RECORDS));
      if (r.notAppended > 0) say(`warm-up of ${w.key}: ${r.notAppended} records never appended`);
    }
    if (stages && !WORKLOADS.some((w) => w.target === 'chariots' && w.path === 'kafka'))
      await runOne({ ...ALL[1], records: 2000 }, 0, false);
    // Runs are interleaved (run 1 of every workload, then run 2, …) so drift and noise from
    // other processes spread over all workloads instead of hitting one.
    // A run that ends with records never appended, after nothing moved for STALL_MS, means the
    // target's pipeline is stuck: its later runs would only wait out the stall timeout again.
    const stuck = new Set<Target>();
    const measure = async (w: WorkloadSpec, run: number, profiled: boolean) => {
      if (stuck.has(w.target)) {
        skipped.push(`${w.key} run ${run}${profiled ? ' (profiled)' : ''}`);
        return;
      }
      const r = await runOne(w, run, profiled);
      results.push(r);
      if (r.notAppended > 0) {
        stuck.add(w.target);
        say(
          `${w.target} pipeline stalled: ${r.notAppended} records of ${w.key} run ${run} not appended, nothing moved for ${STALL_MS} ms; skipping its remaining runs`,
        );
      }
    };
    const regular = WORKLOADS.filter((w) => w.key !== 'deferred');
    for (let run = 1; run <= RUNS; run++) for (const w of regular) await measure(w, run, false);
    const withDeferred = WORKLOADS.find((w) => w.key === 'deferred');
    if (withDeferred && stages?.metricsUrl.queue && DEFERRED > 0) {
      // What the queue holds before any record is deferred: its RSS grows through the whole
      // invocation with the log index (every run appends to the log), so run (a)'s peak —
      // measured earlier, and raised by whatever ran before it — is no fair baseline.
      const rss = procRss(stages.children.find((c) => c.name === 'queue')?.pid);
      if (rss !== null) queueRssBeforeDeferredMb = Math.round(rss / 2 ** 20);
      await seedDeferred(kafka, topics.ingest, DEFERRED, stages.metricsUrl.queue, logger);
      for (let run = 1; run <= RUNS; run++) await measure(withDeferred, run, false);
    }
    for (const key of PROFILE) {
      const w = WORKLOADS.find((x) => x.key === key)!;
      if (stuck.has(w.target) || w.target !== 'chariots') continue;
      if (LAYOUT === 'one') {
        const file = join(RESULTS, 'profiles', `${stamp}-${NAME}-${key}.cpuprofile`);
        const p = new Profiler();
        await p.start();
        await measure(w, RUNS + 1, true);
        const prof = await p.stop(file);
        profiles[key] = summarize(prof, file.slice(ROOT.length + 1));
      } else {
        // Each stage restarted under --cpu-prof for one run; the profile is written at exit.
        const dirOf = (stage: string) =>
          join(RESULTS, 'profiles', `${stamp}-${NAME}-${key}-${stage}`);
        await stages?.close();
        stages = await startPipeline(dirOf);
        await measure(w, RUNS + 1, true);
        await stages.close();
        for (const c of stages.children) {
          const dir = dirOf(c.name);
          const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
          if (!file) continue;
          const path = join(dir, file);
          profiles[`${key} — ${c.name}`] = summarize(
            JSON.parse(readFileSync(path, 'utf8')) as CpuProfile,
            path.slice(ROOT.length + 1),
          );
        }
        stages = undefined;
      }
      for (const [name, p] of Object.entries(profiles).filter(([n]) => n.startsWith(key)))
        say(
          `profile of ${name}: ${p.topFunctions
            .slice(0, 5)
            .map((f) => `${f.fn} ${f.selfPct}%`)
            .join(', ')}`,
        );
    }
  } catch (e) {
    failure = e;
    say(`bench failed: ${String((e as Error)?.stack ?? e)}`);
  }

  // Summary: medians over the measured runs.
  const summary: Record<string, Record<string, number | null>> = {};
  for (const w of WORKLOADS) {
    const rs = results.filter((r) => r.workload === w.key && !r.profiled);
    if (rs.length === 0) continue;
    summary[w.key] = {
      runs: rs.length,
      recordsPerSec: median(rs.map((r) => r.recordsPerSec)),
      steadyRecordsPerSec: median(rs.map((r) => r.steadyRecordsPerSec)),
      p50: median(rs.map((r) => r.latencyMs.p50)),
      p99: median(rs.map((r) => r.latencyMs.p99)),
      p999: median(rs.map((r) => r.latencyMs.p999)),
      requestP99: median(rs.map((r) => r.requestLatencyMs?.p99)),
      requestsPerSec: median(rs.map((r) => r.requestLatencyMs?.perSec)),
      notAppended: rs.reduce((s, r) => s + r.notAppended, 0),
      duplicates: rs.reduce((s, r) => s + r.duplicates, 0),
      processCpuPct: median(rs.map((r) => r.cpu.processPct)),
      pipelineThreadElu: median(rs.map((r) => r.cpu.pipelineThreadElu)),
      brokerCpuPct: median(rs.map((r) => r.cpu.brokerPct)),
      rssPeakMb: median(rs.map((r) => r.rssPeakMb)),
      concurrentTransactionRetries: median(rs.map((r) => r.concurrentTransactionRetries)),
    };
    for (const name of Object.keys(rs[0].perProcess ?? {})) {
      summary[w.key][`cpu:${name}`] = median(rs.map((r) => r.perProcess[name]?.cpuPct));
      summary[w.key][`rss:${name}`] = median(rs.map((r) => r.perProcess[name]?.rssPeakMb));
      summary[w.key][`cpuk:${name}`] = median(rs.map((r) => r.perProcess[name]?.cpuMsPer1kRecords));
    }
  }
  const date = new Date().toISOString();
  const machine = {
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: round(totalmem() / 2 ** 30, 1),
    freeMemoryGbAtStart: round(freemem() / 2 ** 30, 1),
    node: process.version,
    kafka: kafkaVersion,
    broker: broker.kind,
  };
  const report = {
    date,
    git: gitAtStart,
    name: NAME,
    command: commandLine(),
    machine,
    stages: [...PIPELINE_STAGES],
    layout: LAYOUT,
    skipped,
    settings: {
      TOPIC_MAX_MESSAGE_BYTES,
      RECORDS,
      SINGLE_RECORDS,
      RUNS,
      RATE,
      LOW_RATE,
      RATE_SECONDS,
      STALL_MS,
      DEFERRED,
      CONCURRENCY,
      workloads: WORKLOADS.map((w) => w.key),
      profiled: PROFILE,
    },
    summary,
    runs: results,
    profiles,
    strayAppends: strays,
    queueRssBeforeDeferredMb,
    applyTopicsRetries: topicRetries,
    pipelineLog: { file: logFile.slice(ROOT.length + 1), counts: logCounts, samples: logSamples },
    failure: failure ? String((failure as Error)?.message ?? failure) : undefined,
  };
  const out = join(RESULTS, `${date.slice(0, 10)}-${NAME}.json`);
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  const md = renderMarkdown(report);
  if (env.BENCH_WRITE_MD !== '0') updateBenchmarksMd(join(ROOT, 'BENCHMARKS.md'), md);
  process.stdout.write(`${md}\n`);
  say(
    `results: ${out.slice(ROOT.length + 1)}${env.BENCH_WRITE_MD !== '0' ? ' and BENCHMARKS.md' : ''}`,
  );

  // Shut down: clients, followers, stages (upstream first), the baseline, the broker we started.
  await worker.terminate();
  for (const f of followers) await f.close().catch(() => undefined);
  await stages?.close();
  await baseline?.close().catch(() => undefined);
  await broker.stop();
  rmSync(dataDir, { recursive: true, force: true });
  if (failure) process.exitCode = 1;
}

/** The code measured: the commit, and the files that differed from it (others edit concurrently). */
function gitState(): { commit: string; dirty: string[] } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'topics'], {
      cwd: ROOT,
    })
      .toString()
      .split('\n')
      .filter(Boolean);
    return { commit, dirty };
  } catch {
    return { commit: 'unknown', dirty: [] };
  }
}

function commandLine(): string {
  const vars = Object.keys(env)
    .filter((k) => k.startsWith('BENCH_') || k === 'KAFKA_BROKERS')
    .sort()
    .map((k) => `${k}=${env[k]}`);
  return [...vars, 'npm run bench'].join(' ');
}

main().catch((e: unknown) => {
  say(`bench: ${String((e as Error)?.stack ?? e)}`);
  process.exit(1);
});
