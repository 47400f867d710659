/**
 * The filter's dedup window at the sizes a 24 h window reaches:
 *   npx tsx bench/dedup-window.ts [ids=17000000]
 * Adds that many ids (one partition's day at ~200 records/s), then looks each up; prints µs
 * per add / has and the table's memory per id, and what the Map<string, number> it replaced
 * does with the same ids (a V8 Map stops at 2^24 = 16 777 216 entries: RangeError).
 */
import { DedupWindow } from '../src/stages/filter/dedup-window';

const N = Number(process.argv[2] ?? 17_000_000);
const T = 1_764_000_000_000;
const w = new DedupWindow(24 * 3600_000);
const t0 = performance.now();
for (let i = 0; i < N; i++) w.add(`ingest-3-${i}`, T);
const t1 = performance.now();
let hits = 0;
for (let i = 0; i < N; i++) if (w.has(`ingest-3-${i}`, T + 1)) hits++;
const t2 = performance.now();
const bytes = w.bytes;
process.stdout.write(
  `DedupWindow: ${N} ids, add ${(((t1 - t0) * 1000) / N).toFixed(2)} µs, has ${(((t2 - t1) * 1000) / N).toFixed(2)} µs, ` +
    `${(bytes / N).toFixed(1)} bytes/id (${Math.round(bytes / 1048576)} MB), ${hits} found\n`,
);

const map = new Map<string, number>();
const t3 = performance.now();
try {
  for (let i = 0; i < N; i++) map.set(`ingest-3-${i}`, T);
  process.stdout.write(
    `Map<string, number>: ${N} ids, set ${(((performance.now() - t3) * 1000) / N).toFixed(2)} µs\n`,
  );
} catch (e) {
  process.stdout.write(`Map<string, number>: ${(e as Error).message} at ${map.size} ids\n`);
}
