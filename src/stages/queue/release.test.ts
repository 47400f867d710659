import fc from 'fast-check';
import { encodeIngest, hashTag, logKeysOf, type IngestRecord, type LogRecord } from '../../record';
import { DeferredEntry, DeferredSet } from './deferred-set';
import { LogIndex } from './log-index';
import { prerequisitesOf, providedBy } from '../../record/prerequisites';

/**
 * The queue's release algorithm, driven exactly as the stage drives it (check on arrival,
 * defer with the missing keys, wake on each appended record), with the sequencer reduced to
 * "append immediately". For ANY arrival order the log must be a topological order of the
 * dependency graph and hold exactly the satisfiable records, each once.
 */
function simulate(arrivals: IngestRecord[]): LogRecord[] {
  const index = new LogIndex();
  const deferred = new DeferredSet();
  const log: LogRecord[] = [];
  const toids = new Map<number, number>();
  const release = (first: IngestRecord) => {
    const work = [first];
    while (work.length > 0) {
      const r = work.shift() as IngestRecord;
      const toid = (toids.get(r.host) ?? 0) + 1;
      toids.set(r.host, toid);
      const rec: LogRecord = { ...r, lid: log.length + 1, toid, appendedAt: '' };
      log.push(rec);
      // As the stage does: spell out only the keys the waiting filter lets through.
      for (const k of index.add(logKeysOf(rec), (kind, w) => deferred.mayWait(kind, w))) {
        for (const e of deferred.satisfy(k).filter((x) => x.missing.length === 0)) {
          deferred.remove(e.id);
          work.push(e.record());
        }
      }
    }
  };
  for (const r of arrivals) {
    const missing = index.missing(r);
    if (missing.length === 0) release(r);
    else deferred.add(new DeferredEntry(r.id, 0, encodeIngest(r), null, missing));
  }
  return log;
}

/** Which records can ever be appended: the fixpoint of "all prerequisites provided". */
function satisfiable(records: IngestRecord[]): Set<string> {
  const provided = new Set<string>();
  const toids = new Map<number, number>();
  const done = new Set<string>();
  for (let changed = true; changed;) {
    changed = false;
    for (const r of records) {
      if (done.has(r.id)) continue;
      const ok = prerequisitesOf(r).every((k) => {
        if (!k.startsWith('t:')) return provided.has(k);
        const [, host, toid] = k.split(':');
        return (toids.get(Number(host)) ?? 0) >= Number(toid);
      });
      if (!ok) continue;
      done.add(r.id);
      changed = true;
      const toid = (toids.get(r.host) ?? 0) + 1;
      toids.set(r.host, toid);
      for (const k of providedBy({ ...r, lid: 0, toid, appendedAt: '' })) provided.add(k);
    }
  }
  return done;
}

const recordsArb = fc
  .integer({ min: 1, max: 40 })
  .chain((n) =>
    fc.tuple(
      fc.array(
        fc.record({
          seed: fc.constantFrom('0', '1', '18446744073709551615'),
          tag: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'),
          prehash: fc.array(
            fc.record({
              tag: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'zz'),
              seedOffset: fc.constantFrom(0, 0, 0, 1),
            }),
            { maxLength: 2 },
          ),
          parents: fc.array(fc.integer({ min: 0, max: n }), { maxLength: 2 }),
        }),
        { minLength: n, maxLength: n },
      ),
      fc.array(fc.nat(), { minLength: n, maxLength: n }),
    ),
  )
  .map(([specs, order]) => {
    const seeds = ['0', '1', '18446744073709551615'];
    const records: IngestRecord[] = specs.map((s, i) => {
      const otherSeed = seeds[(seeds.indexOf(s.seed) + 1) % seeds.length];
      return {
        id: `r${i}`,
        host: 1,
        seed: s.seed,
        tags: { [s.tag]: String(i % 3) },
        // A prehash on a tag of the same seed (satisfiable if some record has it) or of another seed.
        prehash: [...new Set(s.prehash.map((p) => hashTag(p.tag, String(i % 3))))],
        parent: [...new Set(s.parents.filter((p) => p !== i).map((p) => `r${p}`))],
        receivedAt: '',
        ...(s.prehash.some((p) => p.seedOffset === 1) ? { seed: otherSeed } : {}),
      };
    });
    const arrival = records
      .map((r, i) => ({ r, k: order[i] }))
      .sort((a, b) => a.k - b.k)
      .map((x) => x.r);
    return { records, arrival };
  });

describe('causal release (property)', () => {
  it('releases a topological order of exactly the satisfiable records, each once, for any arrival order', () => {
    fc.assert(
      fc.property(recordsArb, ({ records, arrival }) => {
        const log = simulate(arrival);
        const ids = log.map((r) => r.id);
        expect(new Set(ids).size).toBe(ids.length);
        expect(new Set(ids)).toEqual(satisfiable(records));
        const provided = new Set<string>();
        const toids = new Map<number, number>();
        for (const r of log) {
          for (const k of prerequisitesOf(r)) {
            if (k.startsWith('t:')) {
              const [, host, toid] = k.split(':');
              expect((toids.get(Number(host)) ?? 0) >= Number(toid)).toBe(true);
            } else expect(provided.has(k)).toBe(true);
          }
          toids.set(r.host, r.toid);
          for (const k of providedBy(r)) provided.add(k);
        }
        expect(log.map((r) => r.lid)).toEqual(log.map((_, i) => i + 1));
      }),
      { numRuns: 500 },
    );
  });

  it('wakes only the waiters of an appended record (no scan of the deferred set)', () => {
    const deferred = new DeferredSet();
    for (let i = 0; i < 5000; i++) {
      const r: IngestRecord = {
        id: `w${i}`,
        host: 1,
        seed: '0',
        tags: {},
        prehash: [],
        parent: [`missing${i}`],
        receivedAt: '',
      };
      deferred.add(new DeferredEntry(r.id, 0, encodeIngest(r), null, [`p:missing${i}`]));
    }
    expect(deferred.satisfy('p:missing42').map((e) => e.id)).toEqual(['w42']);
    expect(deferred.satisfy('p:unrelated')).toEqual([]);
  });
});

describe('prerequisites of a replicated record', () => {
  it('waits for the previous TOId of its origin and for every other origin in its clock', () => {
    const r: IngestRecord = {
      id: 'x',
      host: 3,
      seed: '1',
      prehash: [],
      parent: [],
      tags: {},
      receivedAt: '',
      remote: { toid: 21, clock: { '1': 5, '2': 0, '3': 21 } },
    };
    expect(prerequisitesOf(r).sort()).toEqual(['t:1:5', 't:3:20']);
    expect(prerequisitesOf({ ...r, remote: { toid: 1, clock: { '3': 1 } } })).toEqual([]);
  });
});
