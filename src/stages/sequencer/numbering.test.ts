import fc from 'fast-check';
import type { IngestRecord } from '../../record';
import { numberRecords, type NumberingState } from './numbering';

const rec = (i: number, host: number, toid?: number): IngestRecord => ({
  id: `r${i}`,
  host,
  seed: '0',
  tags: {},
  prehash: [],
  parent: [],
  receivedAt: '',
  ...(toid !== undefined ? { remote: { toid, clock: { [String(host)]: toid } } } : {}),
});

describe('LId and TOId assignment (property)', () => {
  it('gives dense LIds and dense local TOIds across any split into batches, continuing from any state', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 1000 }),
        fc.nat({ max: 1000 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 10 }),
        (lid0, toid0, sizes) => {
          let state: NumberingState = { lastLid: lid0, clock: { '1': toid0 } };
          const lids: number[] = [];
          const toids: number[] = [];
          let i = 0;
          for (const n of sizes) {
            const batch = Array.from({ length: n }, () => rec(i++, 1));
            const { out, next } = numberRecords(state, batch, 1, 'now');
            for (const o of out) {
              lids.push(o.record.lid);
              toids.push(o.record.toid);
              expect(JSON.parse(o.clock)['1']).toBe(o.record.toid);
            }
            state = next;
          }
          expect(lids).toEqual(lids.map((_, k) => lid0 + k + 1));
          expect(toids).toEqual(toids.map((_, k) => toid0 + k + 1));
          expect(state.lastLid).toBe(lid0 + lids.length);
        },
      ),
    );
  });

  it('keeps the TOId a remote origin gave and advances that origin in the clock', () => {
    const { out, next } = numberRecords(
      { lastLid: 5, clock: { '1': 2 } },
      [rec(0, 2, 7), rec(1, 1)],
      1,
      'now',
    );
    expect(out.map((o) => [o.record.lid, o.record.host, o.record.toid])).toEqual([
      [6, 2, 7],
      [7, 1, 3],
    ]);
    expect(next.clock).toEqual({ '1': 3, '2': 7 });
  });

  it("gives each record the clock's JSON right after it, whatever the mix of origins (property)", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.integer({ min: 1, max: 600 }).map(String), fc.nat({ max: 2 ** 40 }), {
          maxKeys: 4,
        }),
        fc.array(
          fc.record({
            host: fc.constantFrom(1, 2, 7, 10, 300),
            remoteToid: fc.option(fc.integer({ min: 1, max: 2 ** 41 }), { nil: undefined }),
            again: fc.boolean(),
          }),
          { maxLength: 40 },
        ),
        (clock0, specs) => {
          const records = specs.map((x, i) =>
            rec(x.again && i > 0 ? i - 1 : i, x.host, x.remoteToid),
          );
          const { out } = numberRecords({ lastLid: 0, clock: clock0 }, records, 1, 'now');
          // Reference: the clock as a plain object advanced by each record that got an LId.
          const ref: Record<string, number> = { ...clock0 };
          for (const o of out) {
            const k = String(o.record.host);
            ref[k] = Math.max(ref[k] ?? 0, o.record.toid);
            expect(o.clock).toBe(JSON.stringify(ref));
          }
        },
      ),
    );
  });

  it('does not change the input state (a failed transaction leaves no trace)', () => {
    const state: NumberingState = { lastLid: 1, clock: { '1': 1 } };
    numberRecords(state, [rec(0, 1)], 1, 'now');
    expect(state).toEqual({ lastLid: 1, clock: { '1': 1 } });
  });

  it('drops a replicated record whose TOId the log already holds (a copy that came another way)', () => {
    const { out, next } = numberRecords(
      { lastLid: 5, clock: { '1': 2, '2': 6 } },
      [rec(0, 2, 6), rec(1, 2, 7), rec(2, 2, 7), rec(3, 1), rec(4, 2, 8)],
      1,
      'now',
    );
    expect(out.map((o) => [o.record.id, o.record.lid, o.record.toid])).toEqual([
      ['r1', 6, 7],
      ['r3', 7, 3],
      ['r4', 8, 8],
    ]);
    expect(next).toEqual({ lastLid: 8, clock: { '1': 3, '2': 8 } });
  });
});

describe('numberRecords drops records the log already holds', () => {
  it('skips an id the log holds and a second copy within the batch, without using an LId', () => {
    const { out, next, duplicates } = numberRecords(
      { lastLid: 10, clock: { '1': 10 } },
      [rec(1, 1), rec(2, 1), rec(1, 1), rec(3, 1)],
      1,
      'now',
      (id) => id === 'r2',
    );
    expect(out.map((o) => [o.record.id, o.record.lid, o.record.toid])).toEqual([
      ['r1', 11, 11],
      ['r3', 12, 12],
    ]);
    expect(duplicates.map((r) => r.id)).toEqual(['r2', 'r1']);
    expect(next).toEqual({ lastLid: 12, clock: { '1': 12 } });
  });
});
