/**
 * Memory probe for issue 8's deferral target (100 000 deferred records < 150 MB of queue RSS):
 * drives the real CausalQueue, Kafka replaced by a transaction that commits at once, with
 * COUNT records shaped as bench/deferred.ts sends them (~100 bytes of tags, a prehash nobody
 * provides) and prints the heap after a full GC, before and after they are all deferred.
 *
 *   npx tsx --expose-gc bench/deferred-memory.ts [count] [same|distinct]
 *
 * `same`: every record waits for one key (the bench's shape); `distinct`: each for its own
 * (one waiting-index entry per record). PROBE_SRC=<dir> loads the queue from another copy
 * of src/ (e.g. an export of an older commit) to compare.
 */
import path from 'node:path';
import type * as CausalQueueModule from '../src/stages/queue/causal-queue';
import type * as RecordModule from '../src/record';
import type { InBatch, InMessage, TxContext } from '../src/kafka';
import { rootLogger } from '../src/logger';

const src = path.resolve(process.env.PROBE_SRC ?? path.join(__dirname, '../src'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { CausalQueue } = require(
  path.join(src, 'stages/queue/causal-queue'),
) as typeof CausalQueueModule;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { encodeIngest, hashTag } = require(path.join(src, 'record')) as typeof RecordModule;

const COUNT = Number(process.argv[2] ?? 100_000);
const KEYS = process.argv[3] === 'same' ? 'same' : 'distinct';
const BATCH = 500;
const PARTITIONS = 4;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc (npx tsx --expose-gc bench/deferred-memory.ts)');

function snapshot(): { heap: number; offHeap: number; rss: number } {
  for (let i = 0; i < 4; i++) gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, offHeap: m.external + m.arrayBuffers, rss: m.rss };
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

async function main(): Promise<void> {
  const logger = rootLogger.child({ probe: 'deferred-memory' });
  logger.level = 'silent';
  let sent = 0;
  const runTx = async (_p: number, fn: (tx: TxContext) => void): Promise<boolean> => {
    const commits: Array<() => void> = [];
    fn({ send: (...m) => (sent += m.length), onCommit: (f) => commits.push(f) });
    for (const f of commits) f();
    return true;
  };
  const q = new CausalQueue(
    { released: 'released', deferred: 'deferred', deadletter: 'dl' },
    60_000,
    runTx,
    logger,
  );
  const before = snapshot();
  const tag = 'orphanprobe';
  for (let from = 0; from < COUNT; from += BATCH) {
    const n = Math.min(BATCH, COUNT - from);
    await runTx(0, (tx) => q.processBatch(batch((from / BATCH) % PARTITIONS, from, n, tag), tx));
  }
  await new Promise((r) => setImmediate(r));
  const after = snapshot();
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
    }),
  );
  // Keeps the queue reachable until after the measurement.
  if (q.deferred.size < 0) console.log(q);
}

void main();
