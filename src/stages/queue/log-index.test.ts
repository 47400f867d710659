import fc from 'fast-check';
import { hashTag, logKeysOf, type IngestRecord, type LogRecord } from '../../record';
import { digestKey } from './key-digest';
import { LogIndex } from './log-index';
import { prerequisitesOf, providedBy, type PrereqKey } from '../../record/prerequisites';

/** The index as it was before it went compact: a Set of the string keys. */
class ReferenceIndex {
  private readonly keys = new Set<string>();
  private readonly maxToid = new Map<number, number>();
  lastLid = 0;

  add(r: LogRecord): PrereqKey[] {
    if (r.lid <= this.lastLid) return [];
    this.lastLid = r.lid;
    const fresh: PrereqKey[] = [];
    for (const k of providedBy(r)) {
      if (k.startsWith('t:')) {
        if ((this.maxToid.get(r.host) ?? 0) < r.toid) this.maxToid.set(r.host, r.toid);
        fresh.push(k);
      } else if (!this.keys.has(k)) {
        this.keys.add(k);
        fresh.push(k);
      }
    }
    return fresh;
  }

  has(k: PrereqKey): boolean {
    if (k.startsWith('t:')) {
      const [, host, toid] = k.split(':');
      return (this.maxToid.get(Number(host)) ?? 0) >= Number(toid);
    }
    return this.keys.has(k);
  }

  get size(): number {
    return this.keys.size;
  }
}

const flipBit = (n: bigint, bit: number) => (n ^ (1n << BigInt(bit))).toString();
const flipUnit = (s: string, at: number, bit: number) => {
  if (s.length === 0) return String.fromCharCode(1 << bit);
  const i = at % s.length;
  return s.slice(0, i) + String.fromCharCode(s.charCodeAt(i) ^ (1 << bit)) + s.slice(i + 1);
};

/** Seeds at the edges (above 2^53, 2^64 - 1) and their one-bit neighbours. */
const BASE_SEEDS = [0n, 1n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 64n - 1n, 9489172654252433228n];
const seedArb = fc.oneof(
  fc.constantFrom(...BASE_SEEDS.map(String)),
  fc
    .tuple(fc.constantFrom(...BASE_SEEDS), fc.integer({ min: 0, max: 63 }))
    .map(([s, b]) => flipBit(s, b)),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String),
);
const BASE_IDS = ['', 'a', 'r1', 'run-0001', 'h:1:2', 'p:a', '\ud800', '\ufffd', 'é中😀'];
const idArb = fc.oneof(
  fc.constantFrom(...BASE_IDS),
  fc
    .tuple(fc.constantFrom(...BASE_IDS), fc.nat(), fc.integer({ min: 0, max: 15 }))
    .map(([s, at, b]) => flipUnit(s, at, b)),
);
const TEXTS = ['', 'a', 'b', 'k1', 'v1', ':', 'é'];
const tagsArb = fc.dictionary(fc.constantFrom(...TEXTS), fc.constantFrom(...TEXTS), {
  maxKeys: 3,
});

const stepArb = fc.record({
  id: idArb,
  seed: seedArb,
  tags: tagsArb,
  host: fc.integer({ min: 1, max: 3 }),
  remote: fc.boolean(),
  wanted: fc.boolean(),
  replay: fc.boolean(),
});

/** Keys as the queue asks them: what was added, one-bit neighbours, junk. */
const queryArb = fc.oneof(
  fc
    .tuple(
      seedArb,
      fc.constantFrom(...TEXTS),
      fc.constantFrom(...TEXTS),
      fc.integer({ min: -1, max: 63 }),
    )
    .map(([seed, k, v, bit]) => {
      const h = hashTag(k, v);
      return `h:${seed}:${bit < 0 ? h : flipBit(BigInt(h), bit)}`;
    }),
  idArb.map((id) => `p:${id}`),
  fc
    .tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 30 }))
    .map(([h, t]) => `t:${h}:${t}`),
  fc.constantFrom('h:007:1', 'h:1', 'h:1:', 'h::1', 'h:18446744073709551616:1', 'p', 'x:1', ''),
);

describe('LogIndex', () => {
  it('answers has, add and size exactly like the Set of string keys (property)', () => {
    fc.assert(
      fc.property(
        fc.array(stepArb, { maxLength: 60 }),
        fc.array(queryArb, { maxLength: 60 }),
        (steps, queries) => {
          const index = new LogIndex();
          const ref = new ReferenceIndex();
          const toids = new Map<number, number>();
          const added: LogRecord[] = [];
          for (const s of steps) {
            let r: LogRecord;
            if (s.replay && added.length > 0) r = added[s.id.length % added.length];
            else {
              const toid = (toids.get(s.host) ?? 0) + 1;
              toids.set(s.host, toid);
              const remote = s.remote ? { toid, clock: { [String(s.host)]: toid } } : undefined;
              r = {
                ...{ id: s.id, host: s.host, seed: s.seed, tags: s.tags, prehash: [], parent: [] },
                ...(remote ? { remote } : {}),
                receivedAt: '',
                lid: added.length + 1,
                toid,
                appendedAt: '',
              };
              added.push(r);
            }
            const expected = ref.add(r);
            // Wanted: all keys, none, or those whose digest's last word is even (a filter
            // that sees keys only in digest form must spell exactly the ones it let through).
            const some = (kind: number, w: Uint32Array) => (w[3] & 1) === 0;
            const wanted = s.wanted ? (s.id.length % 2 === 0 ? () => true : some) : undefined;
            const w = new Uint32Array(4);
            expect(index.add(logKeysOf(r), wanted)).toEqual(
              !wanted
                ? []
                : expected.filter((k) => {
                    const kind = digestKey(k, w);
                    return kind >= 0 && wanted(kind, w);
                  }),
            );
            expect(index.size).toBe(ref.size);
            expect(index.lastLid).toBe(ref.lastLid);
          }
          for (const k of queries) expect([k, index.has(k)]).toEqual([k, ref.has(k)]);
          for (const r of added) {
            for (const k of providedBy(r)) expect(index.has(k)).toBe(true);
            expect(index.hasId(r.id)).toBe(true);
            expect(index.hasToid(r.host, r.toid)).toBe(true);
            expect(index.hasToid(r.host, r.toid + 100)).toBe(false);
          }
          for (const q of queries.filter((k) => k.startsWith('p:')))
            expect(index.hasId(q.slice(2))).toBe(ref.has(q));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reports what a record still misses like the reference', () => {
    const index = new LogIndex();
    const big = '18446744073709551615';
    index.add(
      logKeysOf({
        ...{ id: 'a', host: 1, seed: big, tags: { k1: 'v1' }, prehash: [], parent: [] },
        ...{ receivedAt: '', lid: 1, toid: 1, appendedAt: '' },
      }),
    );
    const r: IngestRecord = {
      ...{ id: 'b', host: 1, seed: big, tags: {}, receivedAt: '' },
      prehash: [hashTag('k1', 'v1'), hashTag('k1', 'v2')],
      parent: ['a', 'c'],
      prehost: 1,
      pretoid: 2,
    };
    expect(prerequisitesOf(r).length).toBe(5);
    expect(index.missing(r)).toEqual([`h:${big}:${hashTag('k1', 'v2')}`, 'p:c', 't:1:2']);
  });

  it('stays exact across many rehashes (100 000 keys from 1 024 slots)', () => {
    const index = new LogIndex();
    const ref = new ReferenceIndex();
    const n = 50_000;
    const rec = (i: number): LogRecord => ({
      ...{ id: `run-${i}`, host: 1, seed: String(2n ** 60n + BigInt(i % 977)), prehash: [] },
      ...{ parent: [], tags: { n: `run-${i}` }, receivedAt: '', lid: i + 1, toid: i + 1 },
      appendedAt: '',
    });
    for (let i = 0; i < n; i++) {
      const r = rec(i);
      index.add(logKeysOf(r));
      ref.add(r);
    }
    expect(index.size).toBe(ref.size);
    expect(index.size).toBe(2 * n);
    const wrong: string[] = [];
    for (let i = 0; i < n + 100; i += 7) {
      const r = rec(i);
      const keys = [
        ...providedBy(r),
        `p:run-${i}x`,
        `h:${r.seed}:${flipBit(BigInt(hashTag('n', r.id)), i % 64)}`,
      ];
      for (const k of keys) if (index.has(k) !== ref.has(k)) wrong.push(k);
    }
    expect(wrong).toEqual([]);
    // 50 000 keys a table: past 0.75 of 2^16 slots, so 2^17 slots of 16 bytes each.
    expect(index.bytes).toBe(2 * 2 ** 17 * 16);
  });
});
