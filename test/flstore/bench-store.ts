/**
 * flstore micro-benchmark (no Kafka): append throughput, read latency by LId and by tag,
 * index memory, reopen time. Run: `npx tsx test/flstore/bench-store.ts [records] [fsync]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { FlStore, type FsyncPolicy } from '../../src/flstore';
import { appRecord } from '../../src/flstore/test-records';
import { appendNumbered } from '../../src/flstore/test-store';

const N = Number(process.argv[2] ?? 1_000_000);
const fsync = (process.argv[3] ?? 'always') as FsyncPolicy;
const BATCH = 1000;
const logger = pino({ level: 'silent' });

const rec = (lid: number) =>
  appRecord(lid, { user: `u${lid % 10000}`, kind: `k${lid % 10}`, n: String(lid) });

const pct = (xs: number[], p: number) => xs.sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)];

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'flbench-'));
  const opts = { dir, segmentBytes: 64 * 1024 * 1024, fsync, fsyncIntervalMs: 1000, logger };
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const store = await FlStore.open(opts);
  let t = process.hrtime.bigint();
  const bytes = await appendNumbered(store, N, rec, BATCH);
  const appendS = Number(process.hrtime.bigint() - t) / 1e9;
  global.gc?.();
  const heapMb = (process.memoryUsage().heapUsed - heap0) / 1e6;
  const lat = async (f: () => Promise<unknown>) => {
    const xs: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const s = process.hrtime.bigint();
      await f();
      xs.push(Number(process.hrtime.bigint() - s) / 1e6);
    }
    return { p50: pct(xs, 0.5).toFixed(3), p99: pct(xs, 0.99).toFixed(3) };
  };
  const byLid = await lat(() => store.get(1 + Math.floor(Math.random() * N)));
  const byTag = await lat(() =>
    store.query({ by: 'tag', tag: `user:u${Math.floor(Math.random() * 10000)}` }, 0, 100),
  );
  await store.close();
  t = process.hrtime.bigint();
  const again = await FlStore.open(opts);
  const reopenS = Number(process.hrtime.bigint() - t) / 1e9;
  await again.close();
  process.stdout.write(
    `${JSON.stringify({
      records: N,
      fsync,
      appendRecordsPerS: Math.round(N / appendS),
      appendMBPerS: +(bytes / 1e6 / appendS).toFixed(1),
      avgValueBytes: Math.round(bytes / N),
      getByLidMs: byLid,
      tagQuery100Ms: byTag,
      indexHeapMB: +heapMb.toFixed(1),
      reopenS: +reopenS.toFixed(2),
    })}\n`,
  );
  rmSync(dir, { recursive: true, force: true });
}
void main();
