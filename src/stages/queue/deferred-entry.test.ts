import type { InBatch, OutMessage, TxContext } from '../../kafka';
import { rootLogger } from '../../logger';
import {
  decodeIngest,
  encodeIngest,
  logKeysOf,
  type IngestRecord,
  type LogRecord,
} from '../../record';
import { parseDeferredEntry } from '../batcher/entries';
import { CausalQueue } from './causal-queue';
import { DeferredEntry, DeferredSet } from './deferred-set';
import { ChangelogRestore } from './restore';
import { deadLetterValue, deferredValue, INPUT_OFFSET_KEY } from './values';

/**
 * A deferred record is kept as its encoded bytes (one char per byte) and decoded only when
 * released: the release must send exactly the bytes it arrived with, whatever they hold
 * (multi-byte UTF-8, a replicated record's origin), also after a takeover restored it.
 */
const logger = rootLogger.child({ test: 'deferred-entry' });
logger.level = 'silent';

const tricky: IngestRecord = {
  id: 'r-ünïcödé-1',
  host: 2,
  seed: '18446744073709551615',
  prehash: ['42'],
  parent: ['p"1\\'],
  prehost: 3,
  pretoid: 7,
  tags: { 'é"x': 'naïve ☃ 日本語 😀', '10': 'numeric key', pad: 'x'.repeat(40) },
  receivedAt: '2026-01-01T00:00:00.000Z',
  remote: { toid: 9, clock: { '2': 9, '3': 7 } },
};

function harness() {
  const sent: OutMessage[] = [];
  const runTx = async (_p: number, fn: (tx: TxContext) => void) => {
    const commits: Array<() => void> = [];
    fn({ send: (...m) => sent.push(...m), onCommit: (f) => commits.push(f) });
    for (const f of commits) f();
    return true;
  };
  const q = new CausalQueue(
    { released: 'released', deferred: 'deferred', deadletter: 'dl' },
    1000,
    runTx,
    logger,
  );
  const arrive = (value: Buffer, offset = 0) => {
    const batch: InBatch = {
      topic: 'filtered',
      partition: 0,
      highWatermark: '0',
      messages: [
        {
          topic: 'filtered',
          partition: 0,
          offset: String(offset),
          key: null,
          value,
          timestamp: '0',
          headers: {},
        },
      ],
    };
    return runTx(0, (tx) => q.processBatch(batch, tx));
  };
  return { q, sent, arrive, released: () => sent.filter((m) => m.topic === 'released') };
}

/** Log records that provide everything `tricky` waits for. */
function providers(): LogRecord[] {
  const base = { seed: tricky.seed, prehash: [], parent: [], receivedAt: '', appendedAt: '' };
  return [
    { ...base, id: 'p"1\\', host: 1, lid: 1, toid: 1, tags: {} },
    { ...base, id: 'o3', host: 3, lid: 3, toid: 7, tags: {}, remote: { toid: 7, clock: {} } },
    { ...base, id: 'o2', host: 2, lid: 4, toid: 8, tags: {}, remote: { toid: 8, clock: {} } },
  ];
}

const settle = () => new Promise((r) => setTimeout(r, 10));

describe('compact deferred entry', () => {
  // Waits for its parent, its pretoid (also named by its clock) and its origin's previous TOId.
  const value = encodeIngest({ ...tricky, prehash: [] });
  const record = decodeIngest(value);

  it('releases the identical bytes it was deferred with, decoded to the same record', async () => {
    const { q, arrive, released } = harness();
    await arrive(value);
    expect(q.deferred.get(record.id)?.missing.length).toBe(3);
    q.onLog(providers().map(logKeysOf));
    await settle();
    expect(released()).toHaveLength(1);
    const out = released()[0].value as Buffer;
    expect(out.equals(value)).toBe(true);
    expect(decodeIngest(out)).toEqual(record);
    expect(q.deferred.size).toBe(0);
  });

  it('releases the identical bytes after a takeover restored it from the changelog', async () => {
    const first = harness();
    await first.arrive(value, 41);
    const changelog = new ChangelogRestore();
    for (const m of first.sent.filter((x) => x.topic === 'deferred'))
      changelog.add(Buffer.from(String(m.key)), m.value as Buffer);
    expect(changelog.resume).toBe(42n);
    const second = harness();
    expect(second.q.restore(0, changelog)).toBe(1);
    expect(changelog.size).toBe(0);
    second.q.onLog(providers().map(logKeysOf));
    await settle();
    const out = second.released()[0].value as Buffer;
    expect(out.equals(value)).toBe(true);
  });

  it('restores the latest value of each id, skipping tombstoned ones, in changelog order', () => {
    const changelog = new ChangelogRestore();
    const v = (id: string) => deferredValue(encodeIngest({ ...tricky, id }), 5_000, ['p:x']);
    changelog.add(Buffer.from('a'), v('a'));
    changelog.add(Buffer.from('b'), v('b'));
    changelog.add(Buffer.from('c'), v('c'));
    changelog.add(Buffer.from('b'), null);
    changelog.add(Buffer.from(INPUT_OFFSET_KEY), Buffer.from('9'));
    changelog.add(Buffer.from('a'), v('a'));
    const got = [...changelog.drain()];
    expect(got.map((d) => d.record.id)).toEqual(['a', 'c']);
    expect(got[0].deadline).toBe(5_000);
    expect(changelog.resume).toBe(10n);
  });

  it('reads a changelog value an older queue wrote (decoded record, no "v")', () => {
    const old = Buffer.from(
      JSON.stringify({ record, deadline: '1970-01-01T00:00:05.000Z', missing: ['p:x'] }),
    );
    const changelog = new ChangelogRestore();
    changelog.add(Buffer.from(record.id), old);
    const [d] = [...changelog.drain()];
    expect(d.record).toEqual(record);
    expect(d.value.equals(value)).toBe(true);
    expect(d.deadline).toBe(5_000);
  });

  it('keeps the changelog readable as JSON by GET /deferred', () => {
    const v = deferredValue(value, null, ['p:x', 'h:1:2']);
    expect(parseDeferredEntry(record.id, v)).toEqual({
      id: record.id,
      record,
      missing: ['p:x', 'h:1:2'],
      deadline: null,
    });
  });

  it('dead-letters the decoded record, as before', () => {
    const e = new DeferredEntry(record.id, 0, value, 0, ['p:x']);
    const o = JSON.parse(deadLetterValue(e, 1000, 'now')) as { record: unknown; missing: unknown };
    expect(o.record).toEqual(record);
    expect(o.missing).toEqual(['p:x']);
  });
});

describe('DeferredSet waiting index', () => {
  const entry = (id: string, missing: string[]) =>
    new DeferredEntry(id, 0, encodeIngest({ ...tricky, id }), null, missing);

  it('wakes each waiter of a key once, whether it waits alone or with others', () => {
    const s = new DeferredSet();
    s.add(entry('a', ['k1', 'k2']));
    s.add(entry('b', ['k1']));
    s.add(entry('c', ['k3']));
    expect(s.waitersOf('k1').map((e) => e.id)).toEqual(['a', 'b']);
    s.remove('b');
    expect(s.waitersOf('k1').map((e) => e.id)).toEqual(['a']);
    const [a] = s.satisfy('k1');
    expect(a.missing).toEqual(['k2']);
    expect(a.ready(() => false)).toBe(false);
    expect(s.satisfy('k2').map((e) => e.ready(() => false))).toEqual([true]);
    expect(s.satisfy('k1')).toEqual([]);
    s.add(entry('c', ['k4'])); // replaces c: no longer a waiter of k3
    expect(s.waitersOf('k3')).toEqual([]);
    expect(s.waitersOf('k4').map((e) => e.id)).toEqual(['c']);
    expect(s.size).toBe(2);
  });
});
