import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';

// The fetch-decoding half of patches/kafkajs+2.2.4.patch only makes decoding cheaper: the
// patched modules must return what the unpatched kafkajs 2.2.4 files vendored under
// test/fixtures/kafkajs-original (see its README) return — the same values of the same
// types, objects of the same shape — or throw the same error, for any bytes.

interface Decoder {
  offset: number;
  buffer: Buffer;
  readVarInt(): number;
  readVarIntArray(reader: unknown): unknown[];
}
type DecoderClass = { new (buffer: Buffer): Decoder; prototype: Decoder };
type BatchDecoder = (decoder: Decoder) => Promise<unknown>;
type FetchResponse = { decode: (buffer: Buffer) => Promise<FetchData> };
interface FetchData {
  responses: Array<{ topicName: string; partitions: Array<{ messages: unknown[] }> }>;
}
interface Batch {
  [field: string]: unknown;
  firstOffset(): unknown;
  lastOffset(): unknown;
  offsetLag(): unknown;
  offsetLagLow(): unknown;
  isEmpty(): unknown;
  isEmptyIncludingFiltered(): unknown;
  isEmptyDueToFiltering(): unknown;
  isEmptyControlRecord(): unknown;
  isEmptyDueToLogCompactedMessages(): unknown;
}
type BatchClass = new (topic: string, fetchedOffset: unknown, partitionData: unknown) => Batch;
interface Encoder {
  writeInt8(v: number): Encoder;
  writeInt16(v: number): Encoder;
  writeInt32(v: number): Encoder;
  writeInt64(v: bigint): Encoder;
  writeVarInt(v: number): Encoder;
  writeVarLong(v: number | bigint): Encoder;
  writeVarIntBytes(v: Buffer | string | null): Encoder;
  writeVarIntString(v: string | null): Encoder;
  writeString(v: string): Encoder;
  writeBytes(v: Buffer): Encoder;
  writeBuffer(v: Buffer): Encoder;
  buffer: Buffer;
}

const ORIGINAL = join(__dirname, '../../test/fixtures/kafkajs-original/src');
const load = <T>(original: boolean, path: string): T =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(original ? join(ORIGINAL, path) : `kafkajs/src/${path}`) as T;
const both = <T>(path: string): [original: T, patched: T] => [load(true, path), load(false, path)];

const [OriginalDecoder, PatchedDecoder] = both<DecoderClass>('protocol/decoder');
const [originalBatchDecoder, patchedBatchDecoder] = both<BatchDecoder>(
  'protocol/recordBatch/v0/decoder',
);
const [originalFetch, patchedFetch] = both<FetchResponse>('protocol/requests/fetch/v11/response');
const [OriginalBatch, PatchedBatch] = both<BatchClass>('consumer/batch');
// Corrupt bytes can make a record claim up to 2^31 headers. Reading past the record's end
// does not throw (a varint there reads as 0), so the original — and the patch, which leaves
// such a record to it — decodes that many empty headers: minutes and gigabytes. Both sides
// get this guard; a case where both hit it is skipped, one where one side does fails.
class TooManyHeaders extends Error {}
for (const D of [OriginalDecoder, PatchedDecoder]) {
  const readVarIntArray = D.prototype.readVarIntArray;
  D.prototype.readVarIntArray = function (this: Decoder, reader: unknown) {
    const start = this.offset;
    const length = this.readVarInt();
    this.offset = start;
    if (length > this.buffer.length - start + 1000) throw new TooManyHeaders();
    return readVarIntArray.call(this, reader);
  };
}

// Test data is written with the original encoder.
const Encoder = load<new () => Encoder>(true, 'protocol/encoder');

/**
 * `value` as a tree that spells out what toEqual would gloss over: the type of every value,
 * prototypes, own keys in order with their attributes (a "__proto__" header is an own data
 * property), the bytes of Buffers and where in `input` they lie (a view of the fetched
 * bytes or a copy), and which objects are shared (the records of a batch share its
 * context).
 */
function shape(value: unknown, input: ArrayBufferLike, path = '$', seen = new Map()): unknown {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'bigint') return { bigint: String(value) };
  if (typeof value === 'number') return { number: Object.is(value, -0) ? '-0' : value };
  if (typeof value !== 'object' && typeof value !== 'function') return { [typeof value]: value };
  if (value === Object.prototype) return 'Object.prototype';
  if (typeof value === 'function') return `function ${value.name}`;
  if (seen.has(value)) return { sameAs: seen.get(value) };
  seen.set(value, path);
  const proto = Object.getPrototypeOf(value) as object | null;
  const protoName = proto === null ? 'null' : (proto.constructor?.name ?? '?');
  if (Buffer.isBuffer(value))
    return {
      Buffer: value.toString('hex'),
      proto: protoName,
      at: value.buffer === input ? value.byteOffset : 'a copy',
    };
  if (Array.isArray(value) && proto !== Array.prototype) return { proto: protoName };
  // Own keys in order, with their attributes; their values by name (in an object without
  // a prototype, where "__proto__" is a key like any other).
  const keys: string[] = [];
  const values = Object.create(null) as Record<string, unknown>;
  for (const key of Reflect.ownKeys(value)) {
    const d = Object.getOwnPropertyDescriptor(value, key)!;
    const name = String(key);
    keys.push(
      `${name} ${d.enumerable ? 'e' : ''}${d.writable ? 'w' : ''}${d.configurable ? 'c' : ''}`,
    );
    values[name] = 'value' in d ? shape(d.value, input, `${path}.${name}`, seen) : 'accessor';
  }
  return { proto: protoName, keys, values };
}

/** What `f` returns, or the class and message of what it throws. */
async function outcome(f: () => unknown): Promise<{ returns: unknown } | { throws: string }> {
  try {
    return { returns: await f() };
  } catch (e) {
    const error = e as Error;
    return { throws: `${error.constructor.name} ${error.name}: ${error.message}` };
  }
}

/** The first place where two shape trees differ, or null. */
function difference(a: unknown, b: unknown, path = '$'): string | null {
  if (Object.is(a, b)) return null;
  const isTree = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;
  if (!isTree(a) || !isTree(b) || Array.isArray(a) !== Array.isArray(b))
    return `${path}: ${excerpt(a)} where the original has ${excerpt(b)}`;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const d = difference(a[key], b[key], key === 'values' ? path : `${path}.${key}`);
    if (d !== null) return d;
  }
  return null;
}
const excerpt = (x: unknown) => (JSON.stringify(x) ?? String(x)).slice(0, 300);

/**
 * f(false) (patched) returns what f(true) (original) returns, by `shape`, or throws the
 * same. The message names the first difference only: jest's diff of a batch of hundreds of
 * records takes minutes, and fast-check shrinks through many failures.
 */
async function expectSame(f: (original: boolean) => unknown, input: Buffer) {
  const original = await outcome(() => f(true));
  const patched = await outcome(() => f(false));
  const guarded = (o: typeof original) => 'throws' in o && o.throws.startsWith('TooManyHeaders');
  fc.pre(!guarded(original) || !guarded(patched));
  const view = (o: typeof original) =>
    'throws' in o ? o : { returns: shape(o.returns, input.buffer) };
  const d = difference(view(patched), view(original));
  if (d !== null) throw new Error(`the patched kafkajs differs at ${d}`);
}

// --- Record batches, written field by field so that anything can be put in them ---------

type Bytes = Buffer | string | null;
interface RecordSpec {
  attributes: number;
  timestampDelta: number | bigint;
  offsetDelta: number;
  key: Bytes;
  value: Bytes;
  headers: Array<[string | null, Bytes]>;
  trailing: Buffer; // bytes inside the record after its headers (ignored by a decoder)
  lengthChange: number; // the record's length written is its true length + lengthChange
}
interface BatchSpec {
  firstOffset: bigint;
  firstTimestamp: bigint;
  maxTimestamp: bigint;
  producerId: bigint;
  partitionLeaderEpoch: number;
  producerEpoch: number;
  firstSequence: number;
  lastOffsetDelta: number;
  gzip: boolean;
  logAppendTime: boolean;
  transactional: boolean;
  control: boolean;
  records: RecordSpec[];
  countChange: number; // the record count written is records.length + countChange
  corruptRecords: Array<[position: number, byte: number]>; // in the (uncompressed) records
  corruptBatch: Array<[position: number, byte: number]>; // anywhere in the batch
  cut: number | null; // the batch's bytes end after this many (modulo their length)
}

const writeRecord = (out: Encoder, r: RecordSpec) => {
  const body = new Encoder()
    .writeInt8(r.attributes)
    .writeVarLong(r.timestampDelta)
    .writeVarInt(r.offsetDelta)
    .writeVarIntBytes(r.key)
    .writeVarIntBytes(r.value)
    .writeVarInt(r.headers.length);
  for (const [key, value] of r.headers) body.writeVarIntString(key).writeVarIntBytes(value);
  body.writeBuffer(r.trailing);
  out.writeVarInt(body.buffer.length + r.lengthChange).writeBuffer(body.buffer);
};

const corrupt = (bytes: Buffer, changes: Array<[number, number]>) => {
  for (const [position, byte] of changes)
    if (bytes.length > 0) bytes[position % bytes.length] = byte;
  return bytes;
};

function batchBytes(b: BatchSpec): Buffer {
  const records = new Encoder();
  for (const r of b.records) writeRecord(records, r);
  const recordBytes = corrupt(Buffer.from(records.buffer), b.corruptRecords);
  const attributes =
    (b.gzip ? 1 : 0) |
    (b.logAppendTime ? 0x8 : 0) |
    (b.transactional ? 0x10 : 0) |
    (b.control ? 0x20 : 0);
  const batch = new Encoder()
    .writeInt32(b.partitionLeaderEpoch)
    .writeInt8(2) // magic
    .writeInt32(0) // CRC, which kafkajs does not check
    .writeInt16(attributes)
    .writeInt32(b.lastOffsetDelta)
    .writeInt64(b.firstTimestamp)
    .writeInt64(b.maxTimestamp)
    .writeInt64(b.producerId)
    .writeInt16(b.producerEpoch)
    .writeInt32(b.firstSequence)
    .writeInt32(b.records.length + b.countChange)
    .writeBuffer(b.gzip ? gzipSync(recordBytes) : recordBytes);
  const bytes = corrupt(
    Buffer.from(new Encoder().writeInt64(b.firstOffset).writeBytes(batch.buffer).buffer),
    b.corruptBatch,
  );
  return b.cut === null ? bytes : bytes.subarray(0, b.cut % (bytes.length + 1));
}

const int64 = (...near: bigint[]) =>
  fc.oneof(
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    ...near.map((n) => fc.bigInt({ min: n - 1000n, max: n + 1000n })),
  );
const buffer = (maxLength: number) =>
  fc.uint8Array({ maxLength }).map((a) => Buffer.from(a.buffer, a.byteOffset, a.length));
const bytes = fc.oneof(
  fc.constant(null),
  buffer(40),
  // The keys of transaction markers (abort, commit), which a control batch holds.
  fc.constantFrom(Buffer.from([0, 0, 0, 0]), Buffer.from([0, 0, 0, 1])),
  fc.uint8Array({ maxLength: 600, size: 'max' }).map((a) => Buffer.from(a)),
  fc.string({ maxLength: 30, unit: 'binary' }),
);
// Keys that repeat, that Object.prototype has, integer-like ones (ordered first in an
// object), ones the patch's cache of decoded header keys puts in the same slot (by length,
// first and last byte: 'axb' and 'ayb', and 'ab' and its extension 'abC'), longer than
// that cache takes, not ASCII, invalid UTF-8, or null.
const headerKey = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'toString',
    'constructor',
    'hasOwnProperty',
    '0',
    '1',
    '10',
    'lid',
    'vc',
    'off',
    'axb',
    'ayb',
    'ab',
    'abC',
    '',
    'null',
    'é',
    'k'.repeat(33),
    '\udfff',
  ),
  fc.constant(null),
  fc.string({ maxLength: 40, unit: 'binary' }),
);
// Varlong bytes: up to 7 the patch decodes itself (|delta| <= 2^48), more the original.
const timestampDelta = fc.oneof(
  { arbitrary: fc.integer({ min: -10, max: 10_000 }), weight: 6 },
  { arbitrary: fc.integer(), weight: 2 },
  {
    arbitrary: fc.constantFrom(2 ** 48, 2 ** 48 - 1, -(2 ** 48), -(2 ** 48) - 1, 2 ** 53),
    weight: 1,
  },
  { arbitrary: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), weight: 1 },
);
const record: fc.Arbitrary<RecordSpec> = fc.record({
  attributes: fc.oneof(fc.constant(0), fc.integer({ min: -128, max: 127 })),
  timestampDelta,
  offsetDelta: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer()),
  key: bytes,
  value: bytes,
  headers: fc.array(fc.tuple(headerKey, bytes), { maxLength: 6 }),
  trailing: fc.oneof(
    { arbitrary: fc.constant(Buffer.alloc(0)), weight: 9 },
    { arbitrary: buffer(4), weight: 1 },
  ),
  // A record shorter than what is in it: its last field is cut (the original reads within
  // the record's own sub-buffer), and what follows is misread.
  lengthChange: fc.oneof(
    { arbitrary: fc.constant(0), weight: 30 },
    { arbitrary: fc.integer({ min: -4, max: 2 }), weight: 1 },
  ),
});
/** Mostly none (`weight` : 1), else up to three bytes set anywhere. */
const changes = (weight: number): fc.Arbitrary<Array<[number, number]>> =>
  fc.oneof(
    { arbitrary: fc.constant<Array<[number, number]>>([]), weight },
    {
      arbitrary: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 3,
      }),
      weight: 1,
    },
  );
const batch: fc.Arbitrary<BatchSpec> = fc.record({
  firstOffset: fc.oneof(
    fc.bigInt({ min: 0n, max: 10_000_000n }),
    int64(0n, 2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n),
  ),
  firstTimestamp: fc.oneof(
    fc.constant(-1n), // no timestamp
    fc.bigInt({ min: 1_600_000_000_000n, max: 1_800_000_000_000n }),
    int64(0n, 2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n)),
  ),
  maxTimestamp: fc.oneof(fc.constant(-1n), fc.constant(0n), int64()),
  producerId: fc.oneof(fc.constant(-1n), int64()),
  partitionLeaderEpoch: fc.integer(),
  producerEpoch: fc.integer({ min: -1, max: 32767 }),
  firstSequence: fc.integer(),
  lastOffsetDelta: fc.integer({ min: -1, max: 1000 }),
  gzip: fc.boolean(),
  logAppendTime: fc.boolean(),
  transactional: fc.boolean(),
  control: fc.boolean(),
  records: fc.oneof(
    { arbitrary: fc.array(record, { maxLength: 30 }), weight: 4 },
    { arbitrary: fc.array(record, { maxLength: 300, size: 'max' }), weight: 1 },
  ),
  countChange: fc.oneof(
    { arbitrary: fc.constant(0), weight: 8 },
    { arbitrary: fc.integer({ min: -3, max: 3 }), weight: 1 },
  ),
  corruptRecords: changes(4),
  corruptBatch: changes(15),
  cut: fc.oneof({ arbitrary: fc.constant(null), weight: 6 }, { arbitrary: fc.nat(), weight: 1 }),
});

const decodeBatch = (bytes: Buffer) => async (original: boolean) => {
  const decoder = new (original ? OriginalDecoder : PatchedDecoder)(bytes);
  const result = await (original ? originalBatchDecoder : patchedBatchDecoder)(decoder);
  return { result, decoderOffset: decoder.offset };
};

// --- Fetch responses ------------------------------------------------------------------

interface PartitionSpec {
  partition: number;
  errorCode: number;
  highWatermark: bigint;
  abortedTransactions: Array<[producerId: bigint, firstOffset: bigint]>;
  batches: BatchSpec[];
  cut: number | null; // maxBytes cuts the partition's records anywhere
}

function fetchResponse(topics: Array<[string, PartitionSpec[]]>): Buffer {
  const out = new Encoder().writeInt32(0).writeInt16(0).writeInt32(0).writeInt32(topics.length);
  for (const [topic, partitions] of topics) {
    out.writeString(topic).writeInt32(partitions.length);
    for (const p of partitions) {
      out
        .writeInt32(p.partition)
        .writeInt16(p.errorCode)
        .writeInt64(p.highWatermark)
        .writeInt64(p.highWatermark) // last stable offset
        .writeInt64(0n) // log start offset
        .writeInt32(p.abortedTransactions.length);
      for (const [producerId, firstOffset] of p.abortedTransactions)
        out.writeInt64(producerId).writeInt64(firstOffset);
      const records = Buffer.concat(p.batches.map(batchBytes));
      out
        .writeInt32(-1) // preferred read replica
        .writeBytes(p.cut === null ? records : records.subarray(0, p.cut % (records.length + 1)));
    }
  }
  return out.buffer;
}

// Batches of one producer's transactions, with the offsets of a partition's log.
const partitionSpec: fc.Arbitrary<PartitionSpec> = fc
  .record({
    partition: fc.integer({ min: 0, max: 5 }),
    errorCode: fc.constantFrom(0, 0, 0, 1),
    firstOffset: fc.oneof(fc.bigInt({ min: 0n, max: 10_000n }), int64(2n ** 53n)),
    batches: fc.array(batch, { maxLength: 4 }),
    aborted: fc.array(fc.tuple(fc.bigInt({ min: 0n, max: 3n }), fc.nat(40)), { maxLength: 3 }),
    cut: fc.oneof(fc.constant(null), fc.nat()),
  })
  .map(({ firstOffset, batches, aborted, ...p }) => {
    let offset = firstOffset;
    const placed = batches.map((b, i) => {
      const spec: BatchSpec = {
        ...b,
        firstOffset: offset,
        producerId: BigInt(i % 3),
        cut: null,
        corruptBatch: [],
      };
      offset += BigInt(b.records.length);
      return spec;
    });
    return {
      ...p,
      batches: placed,
      highWatermark: offset,
      abortedTransactions: aborted.map(([pid, at]): [bigint, bigint] => [
        pid,
        firstOffset + BigInt(at),
      ]),
    };
  });

describe('the fetch-decoding half of the kafkajs patch', () => {
  it('is installed', () => {
    for (const file of [
      'protocol/recordBatch/record/v0/decoder.js',
      'protocol/recordBatch/v0/decoder.js',
      'consumer/batch.js',
    ])
      expect(readFileSync(require.resolve(`kafkajs/src/${file}`), 'utf8')).toMatch(
        'chariots patch',
      );
  });

  it('decodes record batches as the original, or throws the same', async () => {
    await fc.assert(
      fc.asyncProperty(batch, async (spec) => {
        const bytes = batchBytes(spec);
        await expectSame(decodeBatch(bytes), bytes);
      }),
      { numRuns: 1000, interruptAfterTimeLimit: 40_000 },
    );
  });

  it('decodes fetch responses (v11) and makes consumer batches as the original', async () => {
    const fetchedOffset = fc.oneof(
      fc.bigInt({ min: 0n, max: 10_100n }).map(String),
      fc.bigInt({ min: 2n ** 53n - 1100n, max: 2n ** 53n + 1100n }).map(String),
      fc.constantFrom('007', '1e3', '', ' 1', '-1', '9007199254740993', 12),
    );
    const topics = fc.array(
      fc.tuple(
        fc.string({ maxLength: 8 }),
        fc.array(partitionSpec, { minLength: 1, maxLength: 2 }),
      ),
      { minLength: 1, maxLength: 2 },
    );
    await fc.assert(
      fc.asyncProperty(topics, fetchedOffset, async (spec, offset) => {
        const bytes = fetchResponse(spec);
        await expectSame(async (original) => {
          const { responses } = await (original ? originalFetch : patchedFetch).decode(bytes);
          const Batch = original ? OriginalBatch : PatchedBatch;
          // As consumerGroup.fetch makes them.
          const batches = responses.flatMap(({ topicName, partitions }) =>
            partitions.map((p) => batchView(new Batch(topicName, offset, p))),
          );
          return { responses, batches };
        }, bytes);
      }),
      { numRuns: 300, interruptAfterTimeLimit: 40_000 },
    );
  });

  it('keeps the messages of a consumer batch as the original, whatever their offsets', async () => {
    const offset = fc.oneof(
      fc.bigInt({ min: 0n, max: 2000n }).map(String),
      // Either side of 16 digits and of 2^53, where Numbers stop being exact integers: the
      // patch compares offsets of up to 15 digits as Numbers.
      fc.bigInt({ min: 2n ** 53n - 3n, max: 2n ** 53n + 3n }).map(String),
      fc.bigInt({ min: 10n ** 15n - 3n, max: 10n ** 15n + 3n }).map(String),
      fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map(String),
      fc.stringMatching(/^[0-9]{1,17}$/),
      fc.constantFrom('007', '', '1e3', ' 12', '0x10', '-0', 'abc', '999999999999999', 17, 1.5),
      fc.integer({ min: 0, max: 2000 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(offset, { maxLength: 20 }), offset, async (offsets, fetched) => {
        const messages = offsets.map((o) => ({
          offset: o,
          key: null,
          isControlRecord: false,
          batchContext: { producerId: '1', inTransaction: false },
        }));
        await expectSame((original) => {
          const Batch = original ? OriginalBatch : PatchedBatch;
          return batchView(new Batch('t', fetched, { partition: 0, highWatermark: '5', messages }));
        }, Buffer.alloc(0));
      }),
      { numRuns: 2000 },
    );
  });
});

/** A Batch's fields and what its methods answer (the classes differ). */
function batchView(batch: Batch) {
  const view: Record<string, unknown> = { ...batch };
  for (const method of [
    'isEmpty',
    'isEmptyIncludingFiltered',
    'isEmptyDueToFiltering',
    'isEmptyControlRecord',
    'isEmptyDueToLogCompactedMessages',
    'firstOffset',
    'lastOffset',
    'offsetLag',
    'offsetLagLow',
  ] as const) {
    try {
      view[method] = batch[method]();
    } catch (e) {
      view[method] = `throws ${(e as Error).name}: ${(e as Error).message}`;
    }
  }
  return view;
}
