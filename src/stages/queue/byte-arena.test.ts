import fc from 'fast-check';
import { ByteArena, type ArenaSlot } from './byte-arena';
import { DeferredEntry, DeferredSet } from './deferred-set';

const CHUNK = 64;

/** Random puts (sizes up to 2.5 chunks: some get a chunk of their own), frees and moves. */
const ops = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant('put' as const), size: fc.integer({ min: 1, max: 160 }) }),
    fc.record({ op: fc.constant('free' as const), pick: fc.nat() }),
    fc.record({ op: fc.constant('compact' as const) }),
  ),
  { maxLength: 300 },
);

test('every live slot reads back its bytes; accounting matches; compaction bounds the waste', () => {
  fc.assert(
    fc.property(ops, (script) => {
      const arena = new ByteArena(CHUNK);
      const live: Array<{ slot: ArenaSlot; bytes: Buffer }> = [];
      const views: Array<{ view: Buffer; bytes: Buffer }> = [];
      let seq = 0;
      for (const s of script) {
        if (s.op === 'put') {
          const bytes = Buffer.alloc(s.size, seq++ % 251);
          live.push({ slot: arena.put(bytes), bytes });
        } else if (s.op === 'free' && live.length > 0) {
          const [gone] = live.splice(s.pick % live.length, 1);
          // A view taken before the free (a record being released) stays as it was.
          views.push({ view: arena.view(gone.slot), bytes: gone.bytes });
          arena.free(gone.slot);
        } else if (s.op === 'compact' || arena.wasteful) {
          arena.restart();
          for (const l of live) {
            const old = l.slot;
            l.slot = arena.put(arena.view(old));
            arena.free(old);
          }
          expect(arena.held).toBeLessThanOrEqual(2 * arena.live + 2 * CHUNK);
        }
        for (const l of live) expect(arena.view(l.slot).equals(l.bytes)).toBe(true);
        expect(arena.live).toBe(live.reduce((n, l) => n + l.bytes.length, 0));
        expect(arena.held).toBeGreaterThanOrEqual(arena.live);
      }
      for (const v of views) expect(v.view.equals(v.bytes)).toBe(true);
      for (const l of live) arena.free(l.slot);
      expect(arena.live).toBe(0);
      // At most the chunk still being written is kept.
      expect(arena.held).toBeLessThanOrEqual(CHUNK);
    }),
  );
});

test('a DeferredSet keeps its entries bytes through removals that trigger compaction', () => {
  const set = new DeferredSet();
  const value = (i: number) => Buffer.from(`{"v":1,"id":"r${i}","pad":"${'x'.repeat(i % 700)}"}`);
  const n = 6000;
  for (let i = 0; i < n; i++) set.add(new DeferredEntry(`r${i}`, 0, value(i), null, ['p:x']));
  const before = set.bytes;
  // Remove 9 of every 10: the chunks hold mostly holes until the set moves the rest.
  for (let i = 0; i < n; i++) if (i % 10 !== 0) set.remove(`r${i}`);
  const after = set.bytes;
  expect(after.live).toBeLessThan(before.live / 5);
  expect(after.held).toBeLessThanOrEqual(2 * after.live + 4 * 256 * 1024);
  for (let i = 0; i < n; i += 10) expect(set.get(`r${i}`)?.encoded().equals(value(i))).toBe(true);
});
