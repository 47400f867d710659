/**
 * Memory and speed probe for the queue's log index (issue 8: the queue's RSS grew with the log
 * forever, ~500 bytes per log record before any deferral). Adds COUNT bench-shaped log records
 * (bench/workload.ts: ~100 bytes of tags, 10 000 seeds, 20 % with a prehash on an earlier
 * record of their seed) to a LogIndex and prints, after a full GC, what the index holds, then
 * the add and has throughput.
 *
 *   npx tsx --expose-gc bench/log-index-memory.ts [count]
 *
 * Records are made a chunk at a time and dropped after it, so the deltas are the index alone.
 * `add` is timed twice: with the fresh keys spelled out (someone waits) and without (nobody
 * waits; the Set<string> index ignores that argument). Since logkeys, the index is given what
 * the sequencer computed (src/record/log-keys.ts): the records are turned into that outside
 * the timing. PROBE_SRC=<dir> loads the index from another copy of src/ (e.g. an export of an
 * older commit, whose index takes the log record and hashes its tags) to compare.
 */
import path from 'node:path';
import type * as RecordModule from '../src/record';
import type { LogRecord } from '../src/record';
import { prng } from '../test/helpers/prng';

interface Index {
  // add(logKeys, wanted) since logkeys; add(record, before, wanted) before it.
  add(r: unknown, a?: unknown, b?: unknown): string[];
  has(k: string): boolean;
  readonly size: number;
}
interface PrereqModule {
  LogIndex?: new () => Index;
}

const src = path.resolve(process.env.PROBE_SRC ?? path.join(__dirname, '../src'));
const load = <T>(m: string): T | undefined => {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path.join(src, m)) as T;
  } catch {
    return undefined;
  }
};
// src/record/prerequisites.ts since session 8; in the queue's folder before.
const prereq = (load<PrereqModule>('record/prerequisites') ??
  load<PrereqModule>('stages/queue/prerequisites')) as PrereqModule;
const LogIndex = (load<PrereqModule>('stages/queue/log-index')?.LogIndex ??
  prereq.LogIndex) as new () => Index;
const { hashTag, logKeysOf } = load<typeof RecordModule>('record') as Partial<typeof RecordModule> &
  Pick<typeof RecordModule, 'hashTag'>;
/** What the loaded index's add takes, and its call. */
const prepare = (r: LogRecord): unknown => (logKeysOf ? logKeysOf(r) : r);
const add = (index: Index, r: unknown, wanted: boolean) =>
  // Since session 8 `wanted` is a predicate on digests (no predicate: spell nothing); a
  // PROBE_SRC from sessions 6–7 took a boolean there and spells all keys without one.
  logKeysOf ? index.add(r, wanted ? () => true : undefined) : index.add(r, undefined, wanted);

const COUNT = Number(process.argv[2] ?? 1_000_000);
const SEEDS = 10_000;
const CHUNK = 10_000;
const PAD = 'x'.repeat(56);
const STAMP = new Date(1_700_000_000_000).toISOString();

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc (npx tsx --expose-gc bench/log-index-memory.ts)');

function snapshot(): NodeJS.MemoryUsage {
  for (let i = 0; i < 4; i++) gc?.();
  return process.memoryUsage();
}
const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;

/** bench/workload.ts's shape, made a chunk at a time (its makeRecords holds the whole run). */
function records(tag: string, count: number): (from: number, n: number) => LogRecord[] {
  const rand = prng(count * 31 + SEEDS);
  const lastOfSeed = new Map<number, number>();
  const p = Math.min(1, (0.2 * count) / Math.max(1, count - SEEDS));
  return (from, n) => {
    const out: LogRecord[] = [];
    for (let i = from; i < from + n; i++) {
      const seed = Math.floor(rand() * SEEDS);
      const id = `${tag}-${i}`;
      const prev = lastOfSeed.get(seed);
      const prehash = prev !== undefined && rand() < p ? [hashTag('n', `${tag}-${prev}`)] : [];
      lastOfSeed.set(seed, i);
      out.push({
        id,
        host: 1,
        seed: String(seed),
        prehash,
        parent: [],
        tags: { n: id, kind: 'bench', pad: PAD },
        receivedAt: STAMP,
        lid: i + 1,
        toid: i + 1,
        appendedAt: STAMP,
      });
    }
    return out;
  };
}

/** Adds COUNT records; `wanted`: the fresh keys are asked for. */
function fill(index: Index, tag: string, wanted = true): number {
  const next = records(tag, COUNT);
  let ns = 0n;
  for (let from = 0; from < COUNT; from += CHUNK) {
    const chunk = next(from, Math.min(CHUNK, COUNT - from)).map(prepare);
    const t0 = process.hrtime.bigint();
    for (const r of chunk) add(index, r, wanted);
    ns += process.hrtime.bigint() - t0;
  }
  return Number(ns) / 1e9;
}

/** Queries as the queue makes them: ids and prehashes, half of them in the log. */
function queries(tag: string, n: number): string[] {
  const rand = prng(7);
  const keys: string[] = [];
  for (let q = 0; q < n; q++) {
    const i = Math.floor(rand() * COUNT);
    const seed = Math.floor(rand() * SEEDS);
    const other = rand() < 0.5 ? tag : 'absent';
    keys.push(q % 2 === 0 ? `p:${other}-${i}` : `h:${seed}:${hashTag('n', `${other}-${i}`)}`);
  }
  return keys;
}

function main(): void {
  const tag = 'indexprobe';
  const before = snapshot();
  const index = new LogIndex();
  const addSeconds = fill(index, tag);
  const after = snapshot();
  const d = (k: keyof NodeJS.MemoryUsage) => after[k] - before[k];
  // `arrayBuffers` is part of `external` (Node's docs), so heap + external is the total.
  const total = d('heapUsed') + d('external');

  const keys = queries(tag, 200_000);
  let hits = 0;
  const t0 = process.hrtime.bigint();
  for (let rep = 0; rep < 5; rep++) for (const k of keys) if (index.has(k)) hits++;
  const hasNs = Number(process.hrtime.bigint() - t0) / (5 * keys.length);

  const quiet = new LogIndex();
  const quietSeconds = fill(quiet, `${tag}q`, false);

  console.log(
    JSON.stringify({
      src: path.relative(process.cwd(), src) || '.',
      records: COUNT,
      keys: index.size,
      heapUsedDelta: mb(d('heapUsed')),
      externalDelta: mb(d('external')),
      arrayBuffersDelta: mb(d('arrayBuffers')),
      rssDelta: mb(d('rss')),
      bytesPerRecord: Math.round(total / COUNT),
      addPerSec: Math.round(COUNT / addSeconds),
      addPerSecNobodyWaiting: Math.round(COUNT / quietSeconds),
      hasNsPerQuery: Math.round(hasNs),
      hitShare: (hits / (5 * keys.length)).toFixed(3),
    }),
  );
  // Keeps the indexes reachable until after the measurement.
  if (index.size < 0 || quiet.size < 0) console.log(index, quiet);
}

main();
