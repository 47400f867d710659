import fc from 'fast-check';
import type { InBatch, InMessage, OutMessage } from '../kafka';
import { rootLogger } from '../logger';
import { encodeIngest, encodePack, isPack, unpack, type IngestRecord } from '../record';
import { packFor, unpackBatch } from './packing';

const testLogger = rootLogger.child({ test: 'packing' });
testLogger.level = 'silent';

const rec = (i: number): IngestRecord => ({
  id: `r${i}`,
  host: 1,
  seed: String(i % 3),
  prehash: [],
  parent: [],
  tags: { i: String(i) },
  receivedAt: '2026-11-27T00:00:00.000Z',
});

/** Per topic-partition, the record values in the order a reader unpacks them. */
function readBack(out: OutMessage[]): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  for (const m of out) {
    const k = `${m.topic}/${m.partition}`;
    const list = seen.get(k) ?? [];
    const v = m.value;
    if (v === null) list.push('<tombstone>');
    else for (const x of unpack(Buffer.from(v))) list.push(x.toString());
    seen.set(k, list);
  }
  return seen;
}

describe('packFor', () => {
  const pack = packFor(['released', 'filtered']);

  it('packs the records of one partition into one message and leaves other topics alone', () => {
    const out: OutMessage[] = [
      { topic: 'released', partition: 0, key: 'r1', value: encodeIngest(rec(1)) },
      { topic: 'deferred', partition: 3, key: 'r9', value: null },
      { topic: 'released', partition: 0, key: 'r2', value: encodeIngest(rec(2)) },
      { topic: 'released', partition: 0, key: 'r3', value: encodeIngest(rec(3)) },
    ];
    const sent = pack(out);
    const released = sent.filter((m) => m.topic === 'released');
    expect(released).toHaveLength(1);
    expect(released[0].key).toBeNull();
    expect(isPack(released[0].value as Buffer)).toBe(true);
    expect(unpack(released[0].value as Buffer)).toEqual([1, 2, 3].map((i) => encodeIngest(rec(i))));
    expect(sent.filter((m) => m.topic === 'deferred')).toEqual([out[1]]);
  });

  it('sends a lone record as a plain message with its key', () => {
    const m: OutMessage = {
      topic: 'filtered',
      partition: 2,
      key: '7',
      value: encodeIngest(rec(7)),
    };
    expect(pack([m])).toEqual([m]);
  });

  it('keeps every partition in send order, whatever the mix (property)', () => {
    const msg = fc.record({
      topic: fc.constantFrom('released', 'filtered', 'deferred'),
      partition: fc.integer({ min: 0, max: 2 }),
      tombstone: fc.boolean(),
      header: fc.boolean(),
      size: fc.integer({ min: 0, max: 400 }),
    });
    fc.assert(
      fc.property(
        fc.array(msg, { maxLength: 60 }),
        fc.integer({ min: 20, max: 1500 }),
        (ms, max) => {
          let n = 0;
          const out: OutMessage[] = ms.map((x) => ({
            topic: x.topic,
            partition: x.partition,
            key: `k${n}`,
            value: x.tombstone ? null : `{"n":${n++},"pad":"${'x'.repeat(x.size)}"}`,
            ...(x.header ? { headers: { h: '1' } } : {}),
          }));
          const sent = packFor(['released', 'filtered'], max)(out);
          expect(readBack(sent)).toEqual(readBack(out));
          for (const m of sent)
            if (
              m.value !== null &&
              Buffer.byteLength(m.value) > max &&
              isPack(Buffer.from(m.value))
            )
              expect(unpack(Buffer.from(m.value))).toHaveLength(1);
        },
      ),
    );
  });
});

describe('unpackBatch', () => {
  const message = (offset: string, value: Buffer | null): InMessage => ({
    topic: 'filtered',
    partition: 4,
    offset,
    key: null,
    value,
    timestamp: '0',
    headers: {},
  });
  const batch = (...messages: InMessage[]): InBatch => ({
    topic: 'filtered',
    partition: 4,
    highWatermark: '100',
    messages,
  });

  it('gives each record of a pack the pack offset, and passes plain records through', () => {
    const values = [1, 2, 3].map((i) => encodeIngest(rec(i)));
    const plain = encodeIngest(rec(0));
    const out = unpackBatch(
      batch(message('5', plain), message('6', encodePack(values)), message('7', null)),
      testLogger,
    );
    expect(out.messages.map((m) => [m.offset, m.value?.toString() ?? null])).toEqual([
      ['5', plain.toString()],
      ['6', values[0].toString()],
      ['6', values[1].toString()],
      ['6', values[2].toString()],
      ['7', null],
    ]);
  });

  it('turns a corrupt pack into a value-less message at its offset (skipped, still committed)', () => {
    const bad = encodePack([encodeIngest(rec(1))]).subarray(0, 12);
    const out = unpackBatch(batch(message('9', bad)), testLogger);
    expect(out.messages).toHaveLength(1);
    expect(out.messages[0].offset).toBe('9');
    expect(out.messages[0].value).toBeNull();
  });

  it('returns a batch without packs as it is', () => {
    const b = batch(message('1', encodeIngest(rec(1))));
    expect(unpackBatch(b, testLogger)).toBe(b);
  });
});
