/**
 * CPU of each stage's own logic per 1 000 bench records, without Kafka: what the filter, the
 * queue and the sequencer do to a record between kafkajs handing it over and kafkajs sending
 * what comes out (records as in `npm run bench` (a): 20 % with a prehash, 10 000 seeds).
 *
 *   npx tsx bench/stage-logic.ts [records=200000] [rounds=5]
 *
 * Filter: parse + validate the raw JSON, dedup window, encode v1. Queue: CausalQueue over
 * 8 partitions in batches of 500, the log (logkeys) one batch behind, so releases are in
 * flight as in the pipeline. Sequencer: decode, number, log value + logkeys. Medians of
 * `rounds`; the first round (JIT warm-up) is dropped.
 */
import { performance } from 'node:perf_hooks';
import type { InBatch, OutMessage, TxContext } from '../src/kafka';
import { rootLogger } from '../src/logger';
import {
  decodeIngest,
  encodeIngest,
  encodeLogKeys,
  encodeLogText,
  logKeysOf,
  DEFAULT_RECORD_LIMITS,
  type IngestRecord,
  type LogKeys,
} from '../src/record';
import { parseExternalIngest } from '../src/record/external';
import { DedupWindow } from '../src/stages/filter/dedup-window';
import { CausalQueue } from '../src/stages/queue/causal-queue';
import { numberRecords } from '../src/stages/sequencer/numbering';
import { RecentIds } from '../src/stages/sequencer/recent-ids';
import { makeRecords, toGoJson } from './workload';

const N = Number(process.argv[2] ?? 200_000);
const ROUNDS = Number(process.argv[3] ?? 5);
const PARTITIONS = 8;
const BATCH = 500;
const logger = rootLogger.child({ bench: 'stage-logic' });
logger.level = 'silent';

function filterRound(raw: Buffer[]): { ms: number; values: Buffer[] } {
  const t0 = performance.now();
  const w = new DedupWindow(24 * 3600_000);
  const values: Buffer[] = [];
  let i = 0;
  for (const buf of raw) {
    const now = new Date(1_764_000_000_000 + (i >> 6));
    const off = i++;
    const r = parseExternalIngest(buf, DEFAULT_RECORD_LIMITS, now, () => `ingest-0-${off}`, 1);
    if (w.has(r.id, now.getTime())) continue;
    w.add(r.id, now.getTime());
    values.push(encodeIngest(r));
  }
  return { ms: performance.now() - t0, values };
}

function queueRound(values: Buffer[]): { ms: number; released: Buffer[] } {
  const released: Buffer[] = [];
  const tx = (sink: OutMessage[], commits: Array<() => void>): TxContext => ({
    send: (...m) => sink.push(...m),
    onCommit: (fn) => commits.push(fn),
  });
  const run = (fn: (t: TxContext) => void) => {
    const sink: OutMessage[] = [];
    const commits: Array<() => void> = [];
    fn(tx(sink, commits));
    for (const m of sink) if (m.topic === 'released') released.push(m.value as Buffer);
    for (const c of commits) c();
  };
  const q = new CausalQueue(
    { released: 'released', deferred: 'deferred', deadletter: 'dl' },
    0,
    async (_p, fn) => {
      run(fn);
      return true;
    },
    logger,
  );
  let lid = 0;
  let logged = 0;
  const toLog = (upTo: number) => {
    const keys: LogKeys[] = [];
    for (; logged < upTo; logged++) {
      const r = decodeIngest(released[logged]);
      keys.push(logKeysOf({ ...r, lid: ++lid, toid: lid, appendedAt: '' }));
    }
    return keys;
  };
  // The log's keys are prepared outside the timed part (that is the sequencer's work).
  let ms = 0;
  for (let at = 0; at < values.length; at += BATCH * PARTITIONS) {
    const before = released.length;
    const t0 = performance.now();
    for (let p = 0; p < PARTITIONS; p++) {
      const slice = values.slice(at + p * BATCH, at + (p + 1) * BATCH);
      if (slice.length === 0) break;
      const batch: InBatch = {
        topic: 'filtered',
        partition: p,
        highWatermark: '0',
        messages: slice.map((value, k) => ({
          topic: 'filtered',
          partition: p,
          offset: String(at + k),
          key: null,
          value,
          headers: {},
          timestamp: '0',
        })),
      };
      run((t) => q.processBatch(batch, t));
    }
    ms += performance.now() - t0;
    const keys = toLog(before);
    const t1 = performance.now();
    q.onLog(keys);
    ms += performance.now() - t1;
  }
  const rest = toLog(released.length);
  const t2 = performance.now();
  q.onLog(rest);
  ms += performance.now() - t2;
  return { ms, released };
}

function sequencerRound(released: Buffer[]): number {
  const t0 = performance.now();
  const recent = new RecentIds(200_000);
  let state = { lastLid: 0, clock: {} };
  for (let at = 0; at < released.length; at += 2000) {
    const records: IngestRecord[] = released.slice(at, at + 2000).map((b) => decodeIngest(b));
    const { out, next } = numberRecords(state, records, 1, new Date().toISOString(), (id) =>
      recent.has(id),
    );
    let bytes = 0;
    for (const o of out) bytes += encodeLogText(o.record).length;
    for (const v of encodeLogKeys(out.map((o) => logKeysOf(o.record)))) bytes += v.length;
    if (bytes < 0) throw new Error('unreachable');
    state = next;
    for (const o of out) recent.add(o.record.id);
  }
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const raw = makeRecords('run', N).map((r) => Buffer.from(toGoJson(r)));
const times = { filter: [] as number[], queue: [] as number[], sequencer: [] as number[] };
for (let round = 0; round <= ROUNDS; round++) {
  const f = filterRound(raw);
  const q = queueRound(f.values);
  if (q.released.length !== N) throw new Error(`queue released ${q.released.length} of ${N}`);
  const s = sequencerRound(q.released);
  if (round === 0) continue;
  times.filter.push(f.ms);
  times.queue.push(q.ms);
  times.sequencer.push(s);
}
const per1k = (ms: number) => ((ms / N) * 1000).toFixed(2);
process.stdout.write(
  `stage logic, CPU ms per 1 000 records (median of ${ROUNDS}, ${N} records): ` +
    `filter ${per1k(median(times.filter))}, queue ${per1k(median(times.queue))}, ` +
    `sequencer ${per1k(median(times.sequencer))}\n`,
);
