/**
 * The pipeline and the baseline as separate OS processes, as they are deployed (one process
 * per stage, docker-compose / `chariots start <stage>`), so that the stages use every core
 * and each stage's CPU and RSS can be read from /proc. Stages run compiled (dist/, built
 * by the bench at start); `--cpu-prof` is added for the profiled run only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One free-port helper for tests and bench alike. */
export { freePort } from '../test/helpers/stage-process';

const ROOT = join(__dirname, '..');

export interface ChildSpec {
  name: string;
  /** Script and arguments after `node [--cpu-prof…] [--import tsx]`. */
  args: string[];
  /** TypeScript through tsx (bench scripts); compiled JavaScript (the stages, from dist/) otherwise. */
  tsx: boolean;
  env: Record<string, string>;
  /** A line of the child's output that says it is ready. */
  ready: string;
  /** Write a V8 CPU profile of the whole life of the process into this directory. */
  cpuProfDir?: string;
}

/** utime + stime of a process, in clock ticks (100 per second), or null once it is gone. */
export function procTicks(pid: number | null | undefined): number | null {
  if (!pid) return null;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return null;
  }
}

/** Resident set size in bytes (VmRSS), or null once the process is gone. */
export function procRss(pid: number | null | undefined): number | null {
  if (!pid) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export class BenchChild {
  private child: ChildProcess | undefined;
  private tail = '';

  constructor(
    readonly spec: ChildSpec,
    private readonly onLine: (name: string, line: string) => void,
  ) {}

  get name(): string {
    return this.spec.name;
  }
  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(timeoutMs = 90_000): Promise<void> {
    const prof = this.spec.cpuProfDir
      ? ['--cpu-prof', `--cpu-prof-dir=${this.spec.cpuProfDir}`, '--cpu-prof-interval=500']
      : [];
    const loader = this.spec.tsx ? ['--import', 'tsx'] : [];
    // BENCH_NODE_FLAGS_QUEUE="--heap-growing-percent=50": V8/Node flags for one process only.
    const flagsVar = `BENCH_NODE_FLAGS_${this.name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
    const flags = (process.env[flagsVar] ?? '').split(/\s+/).filter(Boolean);
    const child = spawn(process.execPath, [...flags, ...prof, ...loader, ...this.spec.args], {
      cwd: ROOT,
      env: { ...process.env, ...this.spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let buf = '';
    let ready = false;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`${this.name} not ready in ${timeoutMs} ms:\n${this.tail.slice(-2000)}`),
          ),
        timeoutMs,
      );
      const onData = (d: Buffer) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          this.tail = (this.tail + line + '\n').slice(-8000);
          this.onLine(this.name, line);
          if (!ready && line.includes(this.spec.ready)) {
            ready = true;
            clearTimeout(timer);
            resolve();
          }
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (!ready)
          reject(
            new Error(`${this.name} exited (${code ?? signal}) early:\n${this.tail.slice(-2000)}`),
          );
      });
    });
  }

  /** SIGTERM (graceful: drain, commit; a profiled process writes its profile), SIGKILL after 30 s. */
  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => c.kill('SIGKILL'), 30_000);
      c.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      c.kill('SIGTERM');
    });
  }
}

/** The pipeline stages a record goes through to flstore, downstream first (as runStages starts them). */
export const PIPELINE_STAGES = ['maintainer', 'sequencer', 'queue', 'filter', 'batcher'] as const;

export function stageSpecs(o: {
  prefix: string;
  brokers: string[];
  dataDir: string;
  httpPort: number;
  tcpPort: number;
  logLevel: string;
  cpuProfDir?: (stage: string) => string;
  /** Stages whose admin server (/metrics) listens, on these ports. */
  adminPorts?: Partial<Record<string, number>>;
}): ChildSpec[] {
  return PIPELINE_STAGES.map((stage) => ({
    name: stage,
    // Compiled, as deployed (`node dist/cli/index.js`, what bin/chariots.js runs): no
    // transpiler in the stage's process or its profile. The bench builds dist/ first.
    args: [join('dist', 'cli', 'index.js'), 'start', stage],
    tsx: false,
    ready: '"msg":"stage started"',
    cpuProfDir: o.cpuProfDir?.(stage),
    env: {
      CHARIOTS_TOPIC_PREFIX: o.prefix,
      CHARIOTS_KAFKA_BROKERS: o.brokers.join(','),
      CHARIOTS_DATA_DIR: o.dataDir,
      // info: the readiness line is logged at info; the bench keeps warn and above.
      CHARIOTS_LOG_LEVEL: o.logLevel,
      CHARIOTS_HTTP_HOST: '127.0.0.1',
      CHARIOTS_HTTP_ADMIN_ENABLED: o.adminPorts?.[stage] ? 'true' : 'false',
      CHARIOTS_HTTP_ADMIN_HOST: '127.0.0.1',
      CHARIOTS_HTTP_ADMIN_PORT: String(o.adminPorts?.[stage] ?? 0),
      CHARIOTS_HTTP_PORT: stage === 'batcher' ? String(o.httpPort) : '0',
      CHARIOTS_TCP_ENABLED: stage === 'batcher' ? 'true' : 'false',
      CHARIOTS_TCP_HOST: '127.0.0.1',
      CHARIOTS_TCP_PORT: String(o.tcpPort),
    },
  }));
}

/** The baseline's three hops, each its own process (bench/baseline-hop.ts), downstream first. */
export function baselineSpecs(o: {
  prefix: string;
  brokers: string[];
  topics: { ingest: string; filtered: string; released: string; log: string };
  concurrency: number;
}): ChildSpec[] {
  const hops = [
    { name: 'baseline released→log', from: o.topics.released, to: o.topics.log, keep: false },
    {
      name: 'baseline filtered→released',
      from: o.topics.filtered,
      to: o.topics.released,
      keep: false,
    },
    { name: 'baseline ingest→filtered', from: o.topics.ingest, to: o.topics.filtered, keep: true },
  ];
  return hops.map((h) => ({
    name: h.name,
    args: [
      join('bench', 'baseline-hop.ts'),
      JSON.stringify({
        brokers: o.brokers,
        prefix: o.prefix,
        from: h.from,
        to: h.to,
        keepPartition: h.keep,
        concurrency: o.concurrency,
      }),
    ],
    ready: 'baseline hop started',
    tsx: true,
    env: {},
  }));
}

/** Starts the children in order (each ready before the next); stops them in reverse. */
export async function startAll(
  specs: ChildSpec[],
  onLine: (name: string, line: string) => void,
): Promise<{ children: BenchChild[]; close(): Promise<void> }> {
  const children: BenchChild[] = [];
  const close = async () => {
    for (const c of [...children].reverse()) await c.stop();
  };
  try {
    for (const s of specs) {
      const c = new BenchChild(s, onLine);
      children.push(c);
      await c.start();
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { children, close };
}
