import fc from 'fast-check';
import {
  applyDedupMessage,
  dedupInputOffset,
  dedupMessages,
  IDS_PER_MESSAGE,
} from './dedup-changelog';
import { DedupWindow } from './dedup-window';

const restore = (msgs: Array<{ key: string | null; value: string | null }>) => {
  const w = new DedupWindow(60_000);
  for (const m of msgs)
    applyDedupMessage(
      w,
      m.key === null ? null : Buffer.from(m.key),
      m.value === null ? null : Buffer.from(m.value),
    );
  return w;
};

describe('dedup changelog', () => {
  it('round-trips any set of ids through one message per chunk', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 128 }), { maxLength: 5000 }),
        (ids) => {
          const msgs = dedupMessages('t', 3, '41', ids, 1000);
          expect(msgs.length).toBe(Math.max(1, Math.ceil(ids.length / IDS_PER_MESSAGE)));
          expect(new Set(msgs.map((m) => m.key)).size).toBe(msgs.length);
          const w = restore(msgs.map((m) => ({ key: m.key as string, value: m.value as string })));
          expect(w.size).toBe(ids.length);
          for (const id of ids) expect(w.has(id, 1000 + 59_999)).toBe(true);
          for (const id of ids) expect(w.has(id, 1000 + 60_000)).toBe(false);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('records the input offset in every transaction, with no ids too, for a takeover to resume after', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 7 }),
        fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
        fc.nat({ max: 4500 }),
        (partition, offset, n) => {
          const ids = Array.from({ length: n }, (_, i) => `id-${i}`);
          const msgs = dedupMessages('t', partition, offset.toString(), ids, 1000);
          expect(msgs.length).toBeGreaterThanOrEqual(1);
          for (const m of msgs) {
            const key = Buffer.from(m.key as string);
            const value = Buffer.from(m.value as string);
            expect(dedupInputOffset(partition, key, value)).toBe(offset);
            // Another partition's entry (a key copied by hand) says nothing about this one.
            expect(dedupInputOffset(partition + 1, key, value)).toBeUndefined();
          }
        },
      ),
    );
  });

  it('takes no offset from an entry of the per-id format, even an id that looks like a key', () => {
    expect(dedupInputOffset(3, Buffer.from('3:41:0'), Buffer.from('1000'))).toBeUndefined();
    expect(dedupInputOffset(3, Buffer.from('3:41:0'), null)).toBeUndefined();
    expect(dedupInputOffset(3, Buffer.from('some-id'), Buffer.from('{"t":1,"ids":[]}'))).toBe(
      undefined,
    );
  });

  it('still reads the per-id format of earlier versions, tombstones included', () => {
    const w = restore([
      { key: 'a', value: '1000' },
      { key: 'b', value: '1000' },
      { key: 'b', value: null },
      { key: '0:7:0', value: JSON.stringify({ t: 2000, ids: ['c'] }) },
    ]);
    expect(w.has('a', 1500)).toBe(true);
    expect(w.has('b', 1500)).toBe(false);
    expect(w.has('c', 2500)).toBe(true);
  });

  it('ignores a value it cannot read instead of failing the restore', () => {
    const w = restore([
      { key: 'x', value: '{not json' },
      { key: 'y', value: JSON.stringify({ ids: 'nope' }) },
    ]);
    expect(w.size).toBe(0);
  });
});
