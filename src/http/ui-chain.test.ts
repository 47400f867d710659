import fc from 'fast-check';
import { hashTag as serverHash } from '../record';
import { buildChain, hashTag, type ChainRecord } from './ui/chain';

const rec = (lid: number, extra: Partial<ChainRecord> = {}): ChainRecord => ({
  lid,
  toid: lid,
  host: 1,
  id: `r${lid}`,
  seed: '7',
  prehash: [],
  parent: [],
  tags: { step: String(lid) },
  ...extra,
});

describe('the dashboard chain (src/http/ui/chain.js)', () => {
  it("hashes tags as the server does (FNV-1a 64 of UTF-8 'key:value')", () => {
    expect(hashTag('k1', 'v1')).toBe('9489172654252433228');
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 20 }),
        fc.string({ unit: 'binary', maxLength: 20 }),
        (k, v) => {
          expect(hashTag(k, v)).toBe(serverHash(k, v).toString());
        },
      ),
    );
  });

  it('draws an edge from the first record with the hash, from parents and TOIds', () => {
    const g = buildChain([
      rec(3, { prehash: [hashTag('step', '1')], parent: ['r2'] }),
      rec(1),
      rec(2, { tags: { step: '1' } }),
      rec(4, { prehost: 1, pretoid: 3, prehash: ['0', '123'] }),
    ]);
    expect(g.nodes.map((n) => n.lid)).toEqual([1, 2, 3, 4]);
    expect(g.edges).toEqual([
      { from: 1, to: 3, kind: 'prehash' },
      { from: 2, to: 3, kind: 'parent' },
      { from: 3, to: 4, kind: 'toid' },
    ]);
    expect(g.missing).toEqual([{ to: 4, kind: 'prehash', what: '123' }]);
  });

  it('every prerequisite of a generated chain is an edge, and edges only go forward', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.nat(), { maxLength: 3 }), { minLength: 1, maxLength: 30 }),
        fc.boolean(),
        (deps, shuffled) => {
          // Record i (LId i+1) depends on some earlier ones, by hash or by id.
          const records = deps.map((d, i) => {
            const pre = i === 0 ? [] : [...new Set(d.map((x) => (x % i) + 1))];
            return rec(i + 1, {
              prehash: pre.filter((l) => l % 2 === 0).map((l) => hashTag('step', String(l))),
              parent: pre.filter((l) => l % 2 === 1).map((l) => `r${l}`),
            });
          });
          const g = buildChain(shuffled ? [...records].reverse() : records);
          expect(g.missing).toEqual([]);
          for (const e of g.edges) expect(e.from).toBeLessThan(e.to);
          const want = records.flatMap((r) =>
            [
              ...r.prehash.map((h) => records.find((x) => hashTag('step', x.tags.step) === h)!.lid),
              ...r.parent.map((p) => Number(p.slice(1))),
            ].map((from) => `${from}->${r.lid}`),
          );
          expect(g.edges.map((e) => `${e.from}->${e.to}`).sort()).toEqual(want.sort());
        },
      ),
    );
  });
});
