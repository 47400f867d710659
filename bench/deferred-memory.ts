/**
 * Memory probe for issue 8's deferral target (100 000 deferred records < 150 MB of queue RSS):
 * drives the real CausalQueue, Kafka replaced by a transaction that commits at once, with
 * COUNT records shaped as bench/deferred.ts sends them (~100 bytes of tags, a prehash nobody
 * provides) and prints the heap after a full GC, before and after they are all deferred.
 *
 *   npx tsx --expose-gc bench/deferred-memory.ts [count] [same|distinct] [restore]
 *
 * `same`: every record waits for one key (the bench's shape); `distinct`: each for its own
 * (one waiting-index entry per record). `restore`: a takeover instead, a second queue rebuilt
 * from the changelog the first one wrote: heap while the changelog is read (before the
 * rebuild) and after it, and the time it took. PROBE_SRC=<dir> loads the queue from another
 * copy of src/ (e.g. an export of an older commit) to compare.
 */
import path from 'node:path';
import type * as CausalQueueModule from '../src/stages/queue/causal-queue';
import type * as RecordModule from '../src/record';
import type * as RestoreModule from '../src/stages/queue/restore';
import type { InBatch, InMessage, OutMessage, TxContext } from '../src/kafka';
import { rootLogger } from '../src/logger';

const src = path.resolve(process.env.PROBE_SRC ?? path.join(__dirname, '../src'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { CausalQueue } = require(
  path.join(src, 'stages/queue/causal-queue'),
) as typeof CausalQueueModule;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { encodeIngest, hashTag } = require(path.join(src, 'record')) as typeof RecordModule;

const load = <T>(m: string): T | undefined => {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path.join(src, m)) as T;
  } catch {
    return undefined;
  }
};

const COUNT = Number(process.argv[2] ?? 100_000);
const RESTORE = process.argv[4] === 'restore';
const KEYS = process.argv[3] === 'same' ? 'same' : 'distinct';
const BATCH = 500;
const PARTITIONS = 4;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc (npx tsx --expose-gc bench/deferred-memory.ts)');

function snapshot(): { heap: number; offHeap: number; rss: number } {
  for (let i = 0; i < 4; i++) gc?.();
  const m = process.memoryUsage();
  // `external` includes `arrayBuffers` (Buffers): adding both counted Buffers twice.
  return { heap: m.heapUsed, offHeap: m.external, rss: m.rss };
}

const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;

/** One fetch's worth of messages: slices of one buffer, as kafkajs hands them out. */
function batch(partition: number, from: number, n: number, tag: string): InBatch {
  const never = hashTag('n', `${tag}-never-sent`);
  const values: Buffer[] = [];
  for (let i = from; i < from + n; i++) {
    const id = `${tag}-${i}`;
    values.push(
      encodeIngest({
        id,
        host: 1,
        seed: String(i % 10_000),
        prehash: [KEYS === 'same' ? never : hashTag('n', `${id}-never-sent`)],
        parent: [],
        tags: { n: id, kind: 'bench', pad: 'x'.repeat(48) },
        receivedAt: new Date(1_700_000_000_000 + i).toISOString(),
      }),
    );
  }
  const whole = Buffer.concat(values);
  let at = 0;
  const messages: InMessage[] = values.map((v, i) => {
    const value = whole.subarray(at, at + v.length);
    at += v.length;
    return {
      topic: 'filtered',
      partition,
      offset: String(from + i),
      key: null,
      value,
      timestamp: '0',
      headers: {},
    };
  });
  return { topic: 'filtered', partition, highWatermark: '0', messages };
}

const logger = rootLogger.child({ probe: 'deferred-memory' });
logger.level = 'silent';
let sent = 0;
/** The `deferred` changelog of partition 0, when captured. */
let changelog: Array<{ key: Buffer; value: Buffer | null }> | undefined;
const runTx = async (_p: number, fn: (tx: TxContext) => void): Promise<boolean> => {
  const commits: Array<() => void> = [];
  const send = (...ms: OutMessage[]) => {
    sent += ms.length;
    for (const m of ms)
      if (changelog && m.topic === 'deferred' && m.partition === 0)
        changelog.push({
          key: Buffer.from(m.key as string),
          value: m.value === null ? null : Buffer.from(m.value),
        });
  };
  fn({ send, onCommit: (f) => commits.push(f) });
  for (const f of commits) f();
  return true;
};
const newQueue = () =>
  new CausalQueue(
    { released: 'released', deferred: 'deferred', deadletter: 'dl' },
    60_000,
    runTx,
    logger,
  );

/**
 * Rebuilds partition 0 as the stage's onAssign does (the old code: a Map of parsed values).
 * Returns the heap held once the changelog is read (before the rebuild), over `base`.
 */
function takeover(q: InstanceType<typeof CausalQueue>, base: number): Record<string, string> {
  const log = changelog ?? [];
  const restore = load<typeof RestoreModule>('stages/queue/restore');
  let t0 = process.hrtime.bigint();
  let ms = 0;
  const lap = () => {
    ms += Number(process.hrtime.bigint() - t0) / 1e6;
  };
  let read = 0;
  if (restore) {
    const c = new restore.ChangelogRestore();
    for (const m of log) c.add(m.key, m.value);
    lap();
    read = snapshot().heap - base;
    t0 = process.hrtime.bigint();
    q.restore(0, c);
  } else {
    type Old = { parseDeferredValue(b: Buffer): { record: never; deadline: number | null } };
    const { parseDeferredValue } = load<Old>('stages/queue/values') as Old;
    const restored = new Map<string, ReturnType<Old['parseDeferredValue']>>();
    for (const m of log) {
      const key = m.key.toString();
      if (key === '\u0001input-offset') continue;
      if (m.value === null) restored.delete(key);
      else restored.set(key, parseDeferredValue(m.value));
    }
    lap();
    read = snapshot().heap - base;
    t0 = process.hrtime.bigint();
    const old = q as unknown as { defer(r: never, p: number, d: number | null): void };
    for (const { record, deadline } of restored.values()) old.defer(record, 0, deadline);
  }
  lap();
  return { heapWhileReading: mb(read), restoreMs: ms.toFixed(0) };
}

async function main(): Promise<void> {
  if (RESTORE) changelog = [];
  let q = newQueue();
  let extra: Record<string, string> = {};
  const before = snapshot();
  const tag = 'orphanprobe';
  for (let from = 0; from < COUNT; from += BATCH) {
    const n = Math.min(BATCH, COUNT - from);
    await runTx(0, (tx) =>
      q.processBatch(batch(RESTORE ? 0 : (from / BATCH) % PARTITIONS, from, n, tag), tx),
    );
  }
  await new Promise((r) => setImmediate(r));
  let after = snapshot();
  if (RESTORE) {
    q = newQueue();
    const base = snapshot();
    extra = { changelogHeap: mb(base.heap - before.heap), ...takeover(q, base.heap) };
    after = snapshot();
    // Relative to the state before the rebuild (the captured changelog stays on the heap).
    after.heap -= base.heap - before.heap;
  }
  if (q.deferred.size !== COUNT) throw new Error(`${q.deferred.size} deferred, not ${COUNT}`);
  const per = (after.heap - before.heap) / COUNT;
  console.log(
    JSON.stringify({
      src: path.relative(process.cwd(), src) || '.',
      count: COUNT,
      keys: KEYS,
      messagesSent: sent,
      heapBefore: mb(before.heap),
      heapAfter: mb(after.heap),
      heapDelta: mb(after.heap - before.heap),
      offHeapDelta: mb(after.offHeap - before.offHeap),
      rssBefore: mb(before.rss),
      rssAfter: mb(after.rss),
      heapBytesPerRecord: Math.round(per),
      ...extra,
    }),
  );
  // Keeps the queue reachable until after the measurement.
  if (q.deferred.size < 0) console.log(q);
}

void main();
