/**
 * CPU profiles of the pipeline's thread (inspector Session, same format as `--cpu-prof`)
 * and a summary by self time: where the event loop that runs every stage spends its time.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Sampled time not idle; the percentages below are shares of it. */
  busyMs?: number;
  topFunctions: Array<{ fn: string; where: string; selfMs: number; selfPct: number }>;
  byArea: Array<{ area: string; selfMs: number; selfPct: number }>;
}

export class Profiler {
  private readonly session = new Session();
  private post<T>(method: string, params?: object): Promise<T> {
    return new Promise((resolve, reject) =>
      this.session.post(method, params ?? {}, (err, res) =>
        err ? reject(err) : resolve(res as T),
      ),
    );
  }
  async start(): Promise<void> {
    this.session.connect();
    await this.post('Profiler.enable');
    await this.post('Profiler.setSamplingInterval', { interval: 500 });
    await this.post('Profiler.start');
  }
  async stop(file: string): Promise<CpuProfile> {
    const { profile } = await this.post<{ profile: CpuProfile }>('Profiler.stop');
    await this.post('Profiler.disable');
    this.session.disconnect();
    writeFileSync(file, JSON.stringify(profile));
    return profile;
  }
}

/** Where a frame's code lives: a package, a directory of src/, node internals, or V8 pseudo-frames. */
export function areaOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native / V8 builtins)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const src = url.indexOf('/src/');
  if (src >= 0) {
    const parts = url.slice(src + 1).split('/');
    return parts.slice(0, Math.min(3, parts.length - 1)).join('/') || parts.join('/');
  }
  if (url.includes('/bench/')) return 'bench (load generator / follower)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  return url;
}

export function summarize(profile: CpuProfile, file: string, top = 25): ProfileSummary {
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const all = profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0) || 1;
  const perSample = totalMs / all;
  // Percentages are of the time the thread was BUSY: a stage process is mostly waiting on
  // the network, and "(idle) 80 %" would hide where its CPU goes.
  const idle = profile.nodes
    .filter((n) => n.callFrame.functionName === '(idle)')
    .reduce((s, n) => s + (n.hitCount ?? 0), 0);
  const hits = Math.max(1, all - idle);
  const fns = new Map<string, { fn: string; where: string; self: number }>();
  const areas = new Map<string, number>();
  for (const n of profile.nodes) {
    const h = n.hitCount ?? 0;
    if (h === 0 || n.callFrame.functionName === '(idle)') continue;
    const { functionName, url, lineNumber } = n.callFrame;
    const fn = functionName || '(anonymous)';
    const path = url.replace(/^file:\/\//, '');
    const nm = path.lastIndexOf('node_modules/');
    const short =
      nm >= 0 ? path.slice(nm + 'node_modules/'.length) : path.replace(/^.*\/(src|bench)\//, '$1/');
    // tsx-compiled sources report generated line numbers (useless): name the file only.
    const where = !url ? '' : /\.ts$/.test(path) ? short : `${short}:${lineNumber + 1}`;
    const key = `${fn}@${where}`;
    const e = fns.get(key) ?? { fn, where, self: 0 };
    e.self += h;
    fns.set(key, e);
    const a = areaOf(url.replace(/^file:\/\//, ''), fn);
    areas.set(a, (areas.get(a) ?? 0) + h);
  }
  const pct = (h: number) => Math.round((h / hits) * 1000) / 10;
  const ms = (h: number) => Math.round(h * perSample);
  return {
    file,
    totalMs: Math.round(totalMs),
    busyMs: ms(hits),
    topFunctions: [...fns.values()]
      .sort((a, b) => b.self - a.self)
      .slice(0, top)
      .map((e) => ({ fn: e.fn, where: e.where, selfMs: ms(e.self), selfPct: pct(e.self) })),
    byArea: [...areas.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([area, h]) => ({ area, selfMs: ms(h), selfPct: pct(h) })),
  };
}

/** `tsx bench/profile.ts <file.cpuprofile> [top]`: the same summary for any profile (e.g. from --cpu-prof). */
if (require.main === module) {
  const [file, top] = process.argv.slice(2);
  if (!file) throw new Error('usage: tsx bench/profile.ts <file.cpuprofile> [top]');
  const sum = summarize(
    JSON.parse(readFileSync(file, 'utf8')) as CpuProfile,
    file,
    Number(top ?? 30),
  );
  process.stdout.write(`${JSON.stringify(sum, null, 2)}\n`);
}
