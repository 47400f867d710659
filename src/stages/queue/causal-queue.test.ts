import fc from 'fast-check';
import type { InBatch, OutMessage, TxContext } from '../../kafka';
import { rootLogger } from '../../logger';
import {
  decodeIngest,
  encodeIngest,
  hashTag,
  logKeysOf,
  type IngestRecord,
  type LogRecord,
} from '../../record';
import { CausalQueue } from './causal-queue';
import { prerequisitesOf, providedBy } from '../../record/prerequisites';

/**
 * The real CausalQueue, with Kafka replaced by its semantics: a transaction's messages become
 * visible only at commit, `released` is one FIFO, and the sequencer appends a prefix of it to
 * the log at arbitrary moments (so releases are often in flight, not yet in the log). For any
 * arrival order, partitioning and sequencer timing, the log must be a topological order of
 * exactly the satisfiable records, each once.
 */
const logger = rootLogger.child({ test: 'causal-queue' });
logger.level = 'silent';

interface Spec {
  seed: string;
  tag: string;
  pre: Array<{ tag: string; otherSeed: boolean }>;
  parents: number[];
}

const specArb = (n: number) =>
  fc.record({
    seed: fc.constantFrom('1', '2', '3'),
    tag: fc.constantFrom('a', 'b', 'c', 'd'),
    pre: fc.array(
      fc.record({ tag: fc.constantFrom('a', 'b', 'c', 'd', 'zz'), otherSeed: fc.boolean() }),
      { maxLength: 2 },
    ),
    parents: fc.array(fc.integer({ min: 0, max: n }), { maxLength: 1 }),
  });

const scenarioArb = fc.integer({ min: 1, max: 30 }).chain((n) =>
  fc.record({
    specs: fc.array(specArb(n), { minLength: n, maxLength: n }),
    order: fc.array(fc.nat(), { minLength: n, maxLength: n }),
    // Per step: how many arrivals go in the next batch, and how many released records the sequencer appends.
    steps: fc.array(
      fc.record({
        arrive: fc.integer({ min: 0, max: 4 }),
        sequence: fc.integer({ min: 0, max: 5 }),
      }),
      { maxLength: 40 },
    ),
    partitions: fc.integer({ min: 1, max: 3 }),
  }),
);

function build(specs: Spec[]): IngestRecord[] {
  return specs.map((s, i) => ({
    id: `r${i}`,
    host: 1,
    seed: s.seed,
    tags: { [s.tag]: String(i % 2) },
    prehash: [...new Set(s.pre.map((p) => hashTag(p.tag, String(i % 2))))],
    parent: [...new Set(s.parents.filter((p) => p !== i).map((p) => `r${p}`))],
    receivedAt: '',
    ...(s.pre.some((p) => p.otherSeed) ? { seed: String((Number(s.seed) % 3) + 1) } : {}),
  }));
}

function satisfiable(records: IngestRecord[]): Set<string> {
  const provided = new Set<string>();
  const done = new Set<string>();
  for (let changed = true; changed;) {
    changed = false;
    for (const r of records) {
      if (done.has(r.id) || !prerequisitesOf(r).every((k) => provided.has(k))) continue;
      done.add(r.id);
      changed = true;
      for (const k of providedBy({ ...r, lid: 0, toid: 0, appendedAt: '' })) provided.add(k);
    }
  }
  return done;
}

const tick = () => new Promise((r) => setImmediate(r));

async function run(
  records: IngestRecord[],
  arrival: IngestRecord[],
  steps: Array<{ arrive: number; sequence: number }>,
  partitions: number,
) {
  const releasedFifo: IngestRecord[] = [];
  const log: LogRecord[] = [];
  let lock = Promise.resolve();
  const runTx = (_partition: number, fn: (tx: TxContext) => void): Promise<boolean> => {
    const p = lock.then(() => {
      const out: OutMessage[] = [];
      const commits: Array<() => void> = [];
      fn({ send: (...m) => out.push(...m), onCommit: (f) => commits.push(f) });
      for (const m of out)
        if (m.topic === 'released') releasedFifo.push(decodeIngest(m.value as Buffer));
      for (const f of commits) f();
      return true;
    });
    lock = p.then(() => undefined);
    return p;
  };
  const q = new CausalQueue(
    { released: 'released', deferred: 'deferred', deadletter: 'dl' },
    0,
    runTx,
    logger,
  );
  const partitionOf = (r: IngestRecord) => Number(r.seed) % partitions;
  const sequence = (n: number) => {
    const batch = releasedFifo
      .splice(0, n)
      .map((r, i) => ({ ...r, lid: log.length + i + 1, toid: log.length + i + 1, appendedAt: '' }));
    log.push(...batch);
    if (batch.length > 0) q.onLog(batch.map(logKeysOf));
  };
  let next = 0;
  const arrive = async (n: number) => {
    const byPartition = new Map<number, IngestRecord[]>();
    for (const r of arrival.slice(next, next + n)) {
      const p = partitionOf(r);
      byPartition.set(p, [...(byPartition.get(p) ?? []), r]);
    }
    next = Math.min(arrival.length, next + n);
    for (const [partition, recs] of byPartition) {
      const batch: InBatch = {
        topic: 'filtered',
        partition,
        highWatermark: '0',
        messages: recs.map((r, i) => ({
          topic: 'filtered',
          partition,
          offset: String(i),
          key: null,
          value: encodeIngest(r),
          timestamp: '0',
          headers: {},
        })),
      };
      await runTx(partition, (tx) => q.processBatch(batch, tx));
    }
  };
  for (const s of steps) {
    await arrive(s.arrive);
    sequence(s.sequence);
    await tick();
  }
  await arrive(arrival.length);
  for (let quiet = 0; quiet < 3;) {
    const before = log.length + releasedFifo.length;
    sequence(releasedFifo.length);
    await tick();
    await tick();
    quiet =
      log.length + releasedFifo.length === before && releasedFifo.length === 0 ? quiet + 1 : 0;
  }
  return log;
}

describe('CausalQueue (property, with in-flight releases and a lagging sequencer)', () => {
  it('appends a topological order of exactly the satisfiable records, each once', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ({ specs, order, steps, partitions }) => {
        const records = build(specs);
        const arrival = records
          .map((r, i) => ({ r, k: order[i] }))
          .sort((a, b) => a.k - b.k)
          .map((x) => x.r);
        const log = await run(records, arrival, steps, partitions);
        const ids = log.map((r) => r.id);
        expect(new Set(ids).size).toBe(ids.length);
        expect(new Set(ids)).toEqual(satisfiable(records));
        const provided = new Set<string>();
        for (const r of log) {
          for (const k of prerequisitesOf(r)) expect(provided.has(k)).toBe(true);
          for (const k of providedBy(r)) provided.add(k);
        }
      }),
      { numRuns: 300 },
    );
  });
});
