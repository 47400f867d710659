import fc from 'fast-check';
import { encodeIngest, type IngestRecord } from '../../record';
import { DeferredEntry, DeferredSet } from './deferred-set';
import { digestKey } from './key-digest';

const record = (id: string): IngestRecord => ({
  id,
  host: 1,
  seed: '1',
  prehash: [],
  parent: [],
  tags: {},
  receivedAt: '',
});
const entry = (id: string, missing: string[]) =>
  new DeferredEntry(id, 0, encodeIngest(record(id)), null, missing);

const KEYS = [
  'p:a',
  'p:b',
  'p:r0',
  'h:0:1',
  'h:18446744073709551615:9489172654252433228',
  'h:1:2',
  't:2:5',
  't:3:1',
  'h:007:1', // names nothing a record provides: never reported, never needed
  'x:1',
];

describe('WaitingFilter (the deferred set’s keys in digest form)', () => {
  it('says yes for every key a deferred record still waits for, through adds, removes and wakes (property)', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('add' as const),
        id: fc.integer({ min: 0, max: 9 }),
        missing: fc.uniqueArray(fc.constantFrom(...KEYS), { minLength: 1, maxLength: 3 }),
      }),
      fc.record({ kind: fc.constant('remove' as const), id: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ kind: fc.constant('satisfy' as const), key: fc.constantFrom(...KEYS) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const set = new DeferredSet();
        const w = new Uint32Array(4);
        for (const o of ops) {
          if (o.kind === 'add') set.add(entry(`r${o.id}`, o.missing));
          else if (o.kind === 'remove') set.remove(`r${o.id}`);
          else set.satisfy(o.key);
          for (const k of KEYS) {
            const kind = digestKey(k, w);
            if (kind < 0 || set.waitersOf(k).length === 0) continue;
            expect([k, set.mayWait(kind, w)]).toEqual([k, true]);
          }
        }
      }),
    );
  });

  it('forgets keys nobody waits for any more once it has grown past twice the waiting ones', () => {
    const set = new DeferredSet();
    const w = new Uint32Array(4);
    // One record keeps waiting, so the answers come from the filter, not from an empty set.
    set.add(entry('keep', ['p:other']));
    for (let i = 0; i < 3000; i++) set.add(entry(`r${i}`, [`p:k${i}`]));
    digestKey('p:k7', w);
    expect(set.mayWait(0, w)).toBe(true);
    for (let i = 0; i < 3000; i++) set.remove(`r${i}`);
    let reported = 0;
    for (let i = 0; i < 3000; i++) {
      const kind = digestKey(`p:k${i}`, w);
      if (set.mayWait(kind, w)) reported++;
    }
    expect(reported).toBeLessThanOrEqual(1024);
  });
});
