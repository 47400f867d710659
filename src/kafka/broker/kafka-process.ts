import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { KafkaDist } from './jars';
import { cdsPlan } from './cds';
import { pidAlive } from './lock';
import { freePort } from './ports';
import { waitReady } from './ready';
import { run, tail } from './tools';
import { WATCHDOG_SCRIPT } from './watchdog';

const DIR_PREFIX = 'chariots-kafka-';
/** SIGTERM→SIGKILL grace; a clean stop takes <1 s, a run dumping its CDS archive ~5–10 s. */
const STOP_GRACE_S = 10;
const STOP_GRACE_DUMPING_S = 40;

/**
 * Fast, small JVM: the broker is tiny and short-lived, so C1 only (TieredStopAtLevel=1)
 * and the serial GC start quickest and use the least memory on a 2-core machine.
 * CHARIOTS_KAFKA_JVM_OPTS (whitespace-separated) comes last and so wins, e.g.
 * `-XX:TieredStopAtLevel=4` for the full JIT where the broker's throughput matters (bench).
 * Another GC flag would clash with -XX:+UseSerialGC: the JVM refuses two collectors.
 */
function jvmArgs(dist: KafkaDist, dataDir: string): string[] {
  return [
    `-Xmx${process.env.CHARIOTS_KAFKA_HEAP || '512m'}`,
    '-Xms64m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-XX:-UsePerfData',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${dist.log4jConfig}`,
    `-Dchariots.kafka.log.level=${process.env.CHARIOTS_KAFKA_LOG_LEVEL || 'WARN'}`,
    `-Dkafka.logs.dir=${dataDir}`,
    ...(process.env.CHARIOTS_KAFKA_JVM_OPTS ?? '').split(/\s+/).filter(Boolean),
    '-cp',
    join(dist.libDir, '*'),
  ];
}

function serverProperties(dataDir: string, port: number, controllerPort: number): string {
  return `${[
    'process.roles=broker,controller',
    'node.id=1',
    // A static voter set: `format` then needs no --standalone / --initial-controllers.
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${join(dataDir, 'data')}`,
    // One node: every internal topic has RF 1 and a single partition (fast to create).
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'share.coordinator.state.topic.num.partitions=1',
    'min.insync.replicas=1',
    'default.replication.factor=1',
    'num.partitions=1',
    // Tests create groups constantly: no 3 s wait for more members before the first rebalance.
    'group.initial.rebalance.delay.ms=0',
    // Small thread pools: this broker serves one developer or one test run.
    'num.network.threads=2',
    'num.io.threads=2',
    'num.replica.fetchers=1',
    'num.recovery.threads.per.data.dir=1',
    'background.threads=2',
    'log.cleaner.threads=1',
    'log.cleaner.dedupe.buffer.size=4194304',
    // Throwaway data: never fsync eagerly, and keep segments small.
    'log.segment.bytes=16777216',
    'auto.create.topics.enable=true',
    'delete.topic.enable=true',
  ].join('\n')}\n`;
}

/** A Kafka cluster id, as `StorageTool random-uuid` makes it (base64url of 16 random bytes),
 * minus one JVM start (~1 s). Kafka rejects ids starting with '-', so those are redrawn. */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export interface RunningKafka {
  brokers: string[];
  dataDir: string;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let hooked = false;

/** Belt and braces beside the watchdog: on exit/SIGINT/SIGTERM, signal every live watchdog
 * at once (sync) so brokers stop without waiting for pipe EOF; then keep default behavior. */
function hookParentSignals(): void {
  if (hooked) return;
  hooked = true;
  const killAll = (): void => {
    for (const c of live) c.kill('SIGTERM');
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    const onSig = (): void => {
      process.removeListener(sig, onSig);
      // Someone else handles the signal (chariots dev's graceful shutdown): let it drain its
      // stages against a live broker and stop the broker itself; the 'exit' hook and the
      // watchdog still guarantee the JVM ends with this process.
      if (process.listenerCount(sig) > 0) return;
      // Nobody else handles it: stop the brokers now and re-raise so the process ends as it would have.
      killAll();
      process.kill(process.pid, sig);
    };
    process.on(sig, onSig);
  }
}

/** Removes data dirs of earlier runs whose owner died before its watchdog could clean up. */
async function sweepStale(logger: Logger): Promise<void> {
  const base = tmpdir();
  for (const name of await readdir(base).catch(() => [] as string[])) {
    if (!name.startsWith(DIR_PREFIX)) continue;
    const dir = join(base, name);
    try {
      const owner = Number(await readFile(join(dir, 'owner.pid'), 'utf8'));
      const java = Number(await readFile(join(dir, 'java.pid'), 'utf8').catch(() => '0'));
      if (pidAlive(owner) || (java > 0 && pidAlive(java))) continue;
      await rm(dir, { recursive: true, force: true });
      logger.debug({ dir }, 'removed stale kafka data dir');
    } catch {
      // Being created right now (no owner.pid yet) or not ours: leave it.
    }
  }
}

export async function startKafkaFromJars(
  dist: KafkaDist,
  opts: { logger: Logger; readyTimeoutMs?: number },
): Promise<RunningKafka> {
  const { logger } = opts;
  await sweepStale(logger);
  const dataDir = await mkdtemp(join(tmpdir(), DIR_PREFIX));
  await writeFile(join(dataDir, 'owner.pid'), String(process.pid));
  const logFile = join(dataDir, 'kafka.log');
  const keep = process.env.CHARIOTS_KAFKA_KEEP_DATA === '1';
  try {
    const [port, controllerPort] = [await freePort(), await freePort()];
    const props = join(dataDir, 'server.properties');
    await writeFile(props, serverProperties(dataDir, port, controllerPort));

    const format = ['kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', props];
    const tv = process.env.CHARIOTS_KAFKA_TRANSACTION_VERSION;
    if (tv) format.push('--feature', `transaction.version=${tv}`);
    const fmtCds = await cdsPlan(dist.cdsDir, 'format');
    const fmt = await run('java', [...jvmArgs(dist, dataDir), ...fmtCds.jvmArgs, ...format], {
      timeoutMs: 120_000,
      watchdog: true,
    });
    await fmtCds.finish();
    if (fmt.code !== 0)
      throw new Error(`kafka StorageTool format failed:\n${tail(fmt.stdout + fmt.stderr)}`);

    const brokerCds = await cdsPlan(dist.cdsDir, 'broker');
    let wasReady = false; // only a broker that came up dumps a complete class archive
    const grace = brokerCds.dumping ? STOP_GRACE_DUMPING_S : STOP_GRACE_S;
    const logFd = openSync(logFile, 'a');
    const child = spawn(
      'sh',
      [
        '-c',
        WATCHDOG_SCRIPT,
        'chariots-kafka-watchdog',
        join(dataDir, 'java.pid'),
        String(grace),
        keep ? '' : dataDir,
        'java',
        ...jvmArgs(dist, dataDir),
        ...brokerCds.jvmArgs,
        'kafka.Kafka',
        props,
      ],
      { stdio: ['pipe', logFd, logFd] },
    );
    closeSync(logFd);
    live.add(child);
    hookParentSignals();
    let exited: number | null | undefined;
    const exitedP = new Promise<void>((resolve) =>
      child.on('exit', (code) => {
        exited = code;
        live.delete(child);
        child.stdin?.destroy(); // lets the watchdog's leftover `cat` see EOF and end
        resolve();
      }),
    );
    child.stdin?.on('error', () => undefined); // EPIPE once the watchdog is gone

    const brokers = [`127.0.0.1:${port}`];
    const stop = async (): Promise<void> => {
      if (exited === undefined) {
        child.stdin?.end(); // the watchdog's stop path: SIGTERM java, SIGKILL after grace
        const killTimer = setTimeout(() => killHard(child, dataDir), (grace + 5) * 1000);
        await exitedP;
        clearTimeout(killTimer);
      }
      if (wasReady) await brokerCds.finish().catch(() => undefined);
      if (!keep) await rm(dataDir, { recursive: true, force: true });
    };

    try {
      await waitReady(brokers, opts.readyTimeoutMs ?? 120_000, () => exited !== undefined);
    } catch (e) {
      const log = readTail(logFile);
      await stop();
      throw new Error(`${(e as Error).message}; broker log ${logFile}:\n${log}`, { cause: e });
    }
    wasReady = true;
    logger.debug({ brokers, dataDir, pid: child.pid }, 'kafka started from jars');
    return { brokers, dataDir, stop };
  } catch (e) {
    if (!keep) await rm(dataDir, { recursive: true, force: true });
    throw e;
  }
}

function killHard(child: ChildProcess, dataDir: string): void {
  try {
    const javaPid = Number(readFileSync(join(dataDir, 'java.pid'), 'utf8'));
    if (javaPid > 0) process.kill(javaPid, 'SIGKILL');
  } catch {
    // already gone
  }
  child.kill('SIGKILL');
}

function readTail(file: string): string {
  try {
    return tail(readFileSync(file, 'utf8'), 40);
  } catch {
    return '(no log)';
  }
}
