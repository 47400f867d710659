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
import { ChangelogRestore } from './restore';

/**
 * Queue failover, modelled on Kafka's semantics: several queue processes share the
 * partitions of `filtered`; each partition has an owner epoch, and a transaction of a
 * superseded owner is refused at commit (fencing); a committed transaction's messages
 * (released records, changelog entries and tombstones, the input offset) appear atomically;
 * the group's committed offset may lag the transactions that committed it (KIP-447);
 * a new owner rebuilds the partition from the changelog exactly as the stage's onAssign does,
 * and its log index catches up with the log at its own pace. Rebalances and crashes happen
 * at any step, also while transactions are between building and committing. The log must
 * hold every record exactly once, each after its prerequisite.
 */
const logger = rootLogger.child({ test: 'queue-takeover' });
logger.level = 'silent';

const PARTITIONS = 3;
const tick = () => new Promise((r) => setImmediate(r));

interface Proc {
  q: CausalQueue;
  alive: boolean;
  /** Log records delivered to this process's log follower so far. */
  logPos: number;
  /** Partition → the epoch this process holds it at, and its consumer position. */
  owned: Map<number, { epoch: number; pos: number }>;
}

interface World {
  input: IngestRecord[][];
  committedOffset: number[];
  /** Offsets committed by transactions but not yet visible to a group offset fetch (KIP-447). */
  lateOffsets: Array<[number, number]>;
  changelog: Array<Array<{ key: string; value: Buffer | null }>>;
  epoch: number[];
  fifo: IngestRecord[];
  log: LogRecord[];
  procs: Proc[];
}

function newProc(w: World): Proc {
  const proc: Proc = {
    q: undefined as unknown as CausalQueue,
    alive: true,
    logPos: 0,
    owned: new Map(),
  };
  const runTx = async (partition: number, fn: (tx: TxContext) => void): Promise<boolean> => {
    const held = proc.owned.get(partition);
    if (!proc.alive || !held || held.epoch !== w.epoch[partition]) return false;
    const out: OutMessage[] = [];
    const commits: Array<() => void> = [];
    fn({ send: (...m) => out.push(...m), onCommit: (f) => commits.push(f) });
    await tick(); // the transaction is in flight: anything may happen meanwhile
    if (!proc.alive || held.epoch !== w.epoch[partition]) throw new Error('fenced');
    for (const m of out) {
      if (m.topic === 'released') w.fifo.push(decodeIngest(m.value as Buffer));
      else if (m.topic === 'deferred')
        w.changelog[m.partition as number].push({
          key: String(m.key),
          value: m.value === null ? null : Buffer.from(m.value as Buffer | string),
        });
    }
    await tick(); // committed; the answer may arrive after a rebalance
    if (proc.owned.get(partition) !== held) return true; // superseded: state changes dropped
    for (const f of commits) f();
    return true;
  };
  proc.q = new CausalQueue(
    { released: 'released', deferred: 'deferred', deadletter: 'dl' },
    0,
    runTx,
    logger,
  );
  // A process starts after its log follower caught up (the stage awaits it).
  deliverLog(w, proc, w.log.length);
  return proc;
}

function deliverLog(w: World, proc: Proc, upTo: number): void {
  const batch = w.log.slice(proc.logPos, upTo);
  proc.logPos = Math.max(proc.logPos, upTo);
  if (batch.length > 0) proc.q.onLog(batch.map(logKeysOf));
}

/** Fencing first (epoch bump), then the rebuild from the changelog: as TransactionalStage.prepare. */
function assign(w: World, proc: Proc, partition: number): void {
  for (const other of w.procs)
    if (other !== proc && other.owned.delete(partition)) other.q.forgetPartition(partition);
  w.epoch[partition]++;
  proc.owned.set(partition, { epoch: w.epoch[partition], pos: 0 });
  proc.q.forgetPartition(partition);
  const changelog = new ChangelogRestore();
  for (const m of w.changelog[partition]) changelog.add(Buffer.from(m.key), m.value);
  proc.q.restore(partition, changelog);
  (proc.owned.get(partition) as { pos: number }).pos = Math.max(
    w.committedOffset[partition],
    Number(changelog.resume ?? 0),
  );
}

async function consume(w: World, proc: Proc, partition: number, n: number): Promise<void> {
  const held = proc.owned.get(partition);
  if (!held || !proc.alive) return;
  const from = held.pos;
  const recs = w.input[partition].slice(from, from + n);
  if (recs.length === 0) return;
  const batch: InBatch = {
    topic: 'filtered',
    partition,
    highWatermark: '0',
    messages: recs.map((r, i) => ({
      topic: 'filtered',
      partition,
      offset: String(from + i),
      key: null,
      value: encodeIngest(r),
      timestamp: '0',
      headers: {},
    })),
  };
  try {
    const ok = await (async () => {
      const out: OutMessage[] = [];
      const commits: Array<() => void> = [];
      if (!proc.alive || held.epoch !== w.epoch[partition]) return false;
      proc.q.processBatch(batch, {
        send: (...m) => out.push(...m),
        onCommit: (f) => commits.push(f),
      });
      await tick();
      if (!proc.alive || held.epoch !== w.epoch[partition]) throw new Error('fenced');
      for (const m of out) {
        if (m.topic === 'released') w.fifo.push(decodeIngest(m.value as Buffer));
        else
          w.changelog[partition].push({
            key: String(m.key),
            value: m.value === null ? null : Buffer.from(m.value as Buffer | string),
          });
      }
      w.lateOffsets.push([partition, from + recs.length]);
      held.pos = from + recs.length;
      await tick();
      if (proc.owned.get(partition) !== held) return true;
      for (const f of commits) f();
      return true;
    })();
    void ok;
  } catch {
    // fenced: the new owner has it
  }
}

const stepArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('consume' as const),
      p: fc.nat(PARTITIONS - 1),
      n: fc.integer({ min: 1, max: 4 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('sequence' as const),
      n: fc.integer({ min: 0, max: 6 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('follow' as const),
      proc: fc.nat(1),
      n: fc.integer({ min: 0, max: 8 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('move' as const),
      p: fc.nat(PARTITIONS - 1),
      proc: fc.nat(1),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('crash' as const), proc: fc.nat(1) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('tick' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('offsets' as const) }) },
);

function chains(nChains: number, perChain: number, partitionOf: number[]): IngestRecord[][] {
  const input: IngestRecord[][] = Array.from({ length: PARTITIONS }, () => []);
  for (let c = 0; c < nChains; c++)
    for (let i = 0; i < perChain; i++) {
      const r: IngestRecord = {
        id: `c${c}-${i}`,
        host: 1,
        seed: String(c),
        tags: { pos: String(i) },
        prehash: i === 0 ? [] : [hashTag('pos', String(i - 1))],
        parent: [],
        receivedAt: '',
      };
      input[partitionOf[(c * perChain + i) % partitionOf.length] % PARTITIONS].push(r);
    }
  return input;
}

describe('CausalQueue failover (property: rebalances, crashes, fencing, lagging followers)', () => {
  it('appends every record exactly once, each after its predecessor', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.nat(PARTITIONS - 1), { minLength: 1, maxLength: 24 }),
        fc.array(stepArb, { maxLength: 80 }),
        async (nChains, perChain, partitionOf, steps) => {
          const w: World = {
            input: chains(nChains, perChain, partitionOf),
            committedOffset: new Array(PARTITIONS).fill(0),
            lateOffsets: [],
            changelog: Array.from({ length: PARTITIONS }, () => []),
            epoch: new Array(PARTITIONS).fill(0),
            fifo: [],
            log: [],
            procs: [],
          };
          const sequence = (n: number) => {
            for (const r of w.fifo.splice(0, n))
              w.log.push({ ...r, lid: w.log.length + 1, toid: w.log.length + 1, appendedAt: '' });
          };
          w.procs.push(newProc(w), newProc(w));
          for (let p = 0; p < PARTITIONS; p++) assign(w, w.procs[p % 2], p);
          const pending: Promise<void>[] = [];
          for (const s of steps) {
            if (s.kind === 'consume') {
              const owner = w.procs.find((x) => x.owned.has(s.p));
              if (owner) pending.push(consume(w, owner, s.p, s.n));
            } else if (s.kind === 'sequence') sequence(s.n);
            else if (s.kind === 'offsets')
              for (const [p, off] of w.lateOffsets.splice(0))
                w.committedOffset[p] = Math.max(w.committedOffset[p], off);
            else if (s.kind === 'follow') {
              const pr = w.procs[s.proc];
              deliverLog(w, pr, Math.min(w.log.length, pr.logPos + s.n));
            } else if (s.kind === 'move') assign(w, w.procs[s.proc], s.p);
            else if (s.kind === 'crash') {
              const dead = w.procs[s.proc];
              dead.alive = false;
              const fresh = newProc(w);
              w.procs[s.proc] = fresh;
              for (const p of [...dead.owned.keys()]) assign(w, fresh, p);
            }
            await tick();
          }
          // Drain: consume everything, follow and sequence until quiet.
          for (let quiet = 0; quiet < 4;) {
            const before = w.log.length + w.fifo.length;
            for (let p = 0; p < PARTITIONS; p++) {
              const owner = w.procs.find((x) => x.owned.has(p)) as Proc;
              await consume(w, owner, p, 1000);
            }
            sequence(w.fifo.length);
            for (const pr of w.procs) deliverLog(w, pr, w.log.length);
            for (let i = 0; i < 4; i++) await tick();
            await Promise.all(pending.splice(0));
            quiet = w.log.length + w.fifo.length === before && w.fifo.length === 0 ? quiet + 1 : 0;
          }
          const ids = w.log.map((r) => r.id);
          const dups = ids.filter((id, i) => ids.indexOf(id) !== i);
          expect(dups).toEqual([]);
          expect(ids.length).toBe(nChains * perChain);
          const at = new Map(w.log.map((r) => [r.id, r.lid]));
          for (const r of w.log) {
            const [c, i] = r.id.slice(1).split('-').map(Number);
            if (i > 0) expect(at.get(`c${c}-${i - 1}`)).toBeLessThan(r.lid);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
