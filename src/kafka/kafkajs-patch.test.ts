import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { assertKafkajsPatched } from './kafkajs-patch';

it('the installed kafkajs carries patches/kafkajs+2.2.4.patch (read_committed hides aborted data)', () => {
  expect(() => assertKafkajsPatched()).not.toThrow();
});

// The produce-side half of the patch only makes encoding cheaper: the patched modules must
// give the bytes (and groupings) of the unpatched kafkajs 2.2.4 files vendored under
// test/fixtures/kafkajs-original (see its README) for any input.

type Bytes = string | Buffer | null;
interface Message {
  key?: Bytes;
  value: Bytes;
  headers?: Record<string, string | Buffer | Array<string | Buffer>>;
  timestamp?: number | string;
}
interface ProduceArgs {
  acks: number;
  timeout: number;
  compression?: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  topicData: Array<{
    topic: string;
    partitions: Array<{ partition: number; firstSequence?: number; messages: Message[] }>;
  }>;
}
type ProduceRequest = (args: ProduceArgs) => { encode: () => Promise<{ buffer: Buffer }> };
type Group = (args: {
  topic: string;
  partitionMetadata: unknown[];
  messages: unknown[];
  partitioner: (args: { message: unknown }) => number | string;
}) => Record<string, unknown[]>;
type Crc = (buffer: Buffer) => number;
interface Encoder {
  writeVarInt(v: unknown): Encoder;
  writeUVarInt(v: unknown): Encoder;
  writeVarLong(v: unknown): Encoder;
  buffer: Buffer;
}
type EncoderClass = { new (): Encoder; sizeOfVarLong(v: unknown): number };

const ORIGINAL = join(__dirname, '../../test/fixtures/kafkajs-original/src');
const load = <T>(original: boolean, path: string): T =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(original ? join(ORIGINAL, path) : `kafkajs/src/${path}`) as T;
const both = <T>(path: string): [original: T, patched: T] => [load(true, path), load(false, path)];

const [originalProduce, patchedProduce] = both<ProduceRequest>(
  'protocol/requests/produce/v3/request',
);
const [originalGroup, patchedGroup] = both<Group>('producer/groupMessagesPerPartition');
const [originalCrc, patchedCrc] = both<Crc>('protocol/recordBatch/crc32C/crc32C');
const [originalCrcIndex, patchedCrcIndex] = both<Crc>('protocol/recordBatch/crc32C');
const [OriginalEncoder, PatchedEncoder] = both<EncoderClass>('protocol/encoder');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Long = require('kafkajs/src/utils/long') as { fromValue: (v: unknown) => unknown };

const encode = async (produce: ProduceRequest, args: ProduceArgs) =>
  (await produce(args).encode()).buffer;

// Multi-byte UTF-8 (2-, 3- and 4-byte code points) and lone surrogates, which Buffer
// writes as U+FFFD (3 bytes): sizes are counted in bytes, not characters. fast-check keeps
// lengths near 10 unless told a size; 'max' spreads them up to maxLength.
const text = (maxLength: number, size: fc.SizeForArbitrary = 'small') =>
  fc.oneof(
    fc.string({ maxLength, size }),
    fc.string({ maxLength, size, unit: 'binary' }),
    fc.string({ maxLength, size, unit: fc.constantFrom('a', 'é', '€', '😀', '\ud800', '\udfff') }),
  );
const buffer = (maxLength: number, size: fc.SizeForArbitrary = 'small') =>
  fc.uint8Array({ maxLength, size }).map((a) => Buffer.from(a.buffer, a.byteOffset, a.length));
const bytes = (maxLength: number) =>
  fc.oneof(
    text(maxLength),
    text(maxLength, 'max'),
    buffer(maxLength),
    buffer(maxLength, 'max'),
    fc.constant(null),
  );
// Values mostly up to 600 bytes (a one- or two-byte varint length), some up to 20 000 (three).
const value = fc.oneof(
  { arbitrary: bytes(600), weight: 20 },
  { arbitrary: buffer(20_000, 'max'), weight: 1 },
);
const headerValue = fc.oneof(text(20), buffer(20));
const headers = fc.dictionary(
  text(8),
  fc.oneof(headerValue, fc.array(headerValue, { maxLength: 3 })),
  { maxKeys: 4 },
);
// Numbers and digit strings of different lengths: the original orders them as strings.
const timestamp = fc.oneof(
  fc.integer({ min: 1_600_000_000_000, max: 1_800_000_000_000 }),
  fc.integer({ min: 0, max: 99_999 }),
  fc.integer({ min: 0, max: 2_000_000_000_000 }).map(String),
);
const message = fc.record(
  {
    key: bytes(40),
    value,
    headers,
    timestamp,
    notPlain: fc.integer({ min: 0, max: 7 }).map((n) => n === 0),
  },
  { requiredKeys: ['value', 'notPlain'] },
);
class NotPlain {}
// Most batches have no timestamps (Date.now() for all); a message that is no plain object
// takes the original per-record encoder.
const finish = (
  { notPlain, timestamp, ...m }: Message & { notPlain: boolean },
  stampless: boolean,
): Message => {
  const done = stampless || timestamp === undefined ? m : { ...m, timestamp };
  return notPlain ? Object.assign(new NotPlain(), done) : done;
};

const produceArgs: fc.Arbitrary<ProduceArgs> = fc.record({
  acks: fc.constantFrom(-1, 0, 1),
  timeout: fc.integer({ min: 0, max: 60_000 }),
  compression: fc.constantFrom(0, 0, 0, 1), // None mostly, GZIP (the per-record path) too
  transactionalId: fc.option(text(10), { nil: undefined }),
  producerId: fc.option(
    fc.bigInt({ min: 0n, max: 2n ** 62n }).map((v) => Long.fromValue(v)),
    { nil: undefined },
  ),
  producerEpoch: fc.option(fc.integer({ min: 0, max: 32_767 }), { nil: undefined }),
  topicData: fc.array(
    fc.record({
      topic: text(10),
      partitions: fc.array(
        fc
          .record(
            {
              partition: fc.integer({ min: 0, max: 100 }),
              firstSequence: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
              messages: fc.array(message, { minLength: 1, maxLength: 300, size: 'max' }),
              stampless: fc.boolean(),
            },
            { requiredKeys: ['partition', 'messages', 'stampless'] },
          )
          .map(({ stampless, ...p }) => ({
            ...p,
            messages: p.messages.map((m) => finish(m, stampless)),
          })),
        { minLength: 1, maxLength: 3 },
      ),
    }),
    { minLength: 1, maxLength: 2 },
  ),
});

describe('the produce-encoding half of the kafkajs patch', () => {
  afterEach(() => jest.restoreAllMocks());

  it('is installed', () => {
    const record = load<{ writeRecord?: unknown }>(false, 'protocol/recordBatch/record/v0');
    expect(typeof record.writeRecord).toBe('function');
    for (const file of [
      'protocol/recordBatch/crc32C/crc32C.js',
      'protocol/requests/produce/v3/request.js',
      'producer/groupMessagesPerPartition.js',
    ])
      expect(readFileSync(require.resolve(`kafkajs/src/${file}`), 'utf8')).toMatch(
        'chariots patch',
      );
  });

  it('encodes produce requests (v3, also v4..v7) to the bytes of the original', async () => {
    await fc.assert(
      fc.asyncProperty(produceArgs, fc.integer({ min: 0, max: 2 ** 42 }), async (args, now) => {
        // Messages without a timestamp are stamped with Date.now().
        jest.spyOn(Date, 'now').mockReturnValue(now);
        const patched = await encode(patchedProduce, args);
        expect(patched.equals(await encode(originalProduce, args))).toBe(true);
      }),
      // Shrinking hundreds of messages can take many minutes: a failure reports the
      // smallest counterexample found in the time left.
      { numRuns: 80, interruptAfterTimeLimit: 30_000 },
    );
  });

  it('encodes what the original encodes oddly or rejects the same way', async () => {
    jest.spyOn(Date, 'now').mockReturnValue(1_700_000_000_000);
    const args = (messages: unknown[]) =>
      ({
        acks: -1,
        timeout: 1,
        topicData: [{ topic: 't', partitions: [{ partition: 0, messages }] }],
      }) as ProduceArgs;
    // A Uint8Array is counted as bytes but written as its String() (a corrupt record), and
    // the original's spread drops inherited fields: unchanged, as are timestamps ordered as
    // strings and deltas beyond 32 bits.
    for (const messages of [
      [{ value: new Uint8Array([1, 2, 3]) }],
      [Object.create({ key: 'k', value: 'inherited' }) as unknown],
      [{ value: 'a', timestamp: 999 }, { value: 'b', timestamp: 1000 }, { value: 'c' }],
      [
        { value: 'a', timestamp: '1700000000000' },
        { value: 'b', timestamp: 1700000000000 },
      ],
      [
        { value: 'a', timestamp: 1 },
        { value: 'b', timestamp: 2 ** 40 },
        { value: 'c', timestamp: 0 },
      ],
      [
        { value: 'a', timestamp: 5 },
        { value: 'b', timestamp: Number.NaN },
      ],
      [
        { value: 'a', headers: { h: [] } },
        { value: 'b', headers: undefined },
      ],
      [],
    ])
      expect((await encode(patchedProduce, args(messages))).toString('hex')).toBe(
        (await encode(originalProduce, args(messages))).toString('hex'),
      );
    for (const messages of [
      [{ value: 'a', headers: { h: 1 } }],
      [{ value: 'a', headers: { h: null } }],
      [{ value: 'a', headers: null }],
      [{ value: 1 }],
      [
        { value: 'a', timestamp: 1 },
        { value: 'b', timestamp: 1.5 },
        { value: 'c', timestamp: 2 },
      ],
    ]) {
      const error = await encode(originalProduce, args(messages)).catch((e: Error) => e.message);
      expect(typeof error).toBe('string');
      await expect(encode(patchedProduce, args(messages))).rejects.toThrow(error as string);
    }
  });

  it('writes varints and varlongs (used by other requests too) as the original', () => {
    const anyInteger = fc.oneof(
      fc.integer(),
      fc.integer({ min: -64, max: 64 }),
      fc.maxSafeInteger(),
      // Either side of 32 bits, where varlongs leave the varint shortcut.
      fc.bigInt({ min: -(2n ** 33n), max: 2n ** 33n }).map(Number),
      fc.constantFrom(2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, -(2 ** 31), -(2 ** 31) - 1),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    );
    fc.assert(
      fc.property(anyInteger, anyInteger, (a, b) => {
        const write = (E: EncoderClass) => {
          const e = new E();
          if (typeof a === 'number') e.writeVarInt(a).writeUVarInt(a);
          e.writeVarLong(a).writeVarLong(typeof b === 'number' ? String(b) : Long.fromValue(b));
          return e.buffer.toString('hex');
        };
        expect(write(PatchedEncoder)).toBe(write(OriginalEncoder));
        expect(PatchedEncoder.sizeOfVarLong(a)).toBe(OriginalEncoder.sizeOfVarLong(a));
      }),
      { numRuns: 1000 },
    );
  });

  it('groups messages per partition as the original does', () => {
    fc.assert(
      fc.property(
        // Partitioners answer numbers; strings show that the keys keep their order too.
        fc.array(fc.oneof(fc.integer({ min: 0, max: 7 }), fc.constantFrom('b', 'a')), {
          maxLength: 500,
          size: 'max',
        }),
        fc.integer({ min: 0, max: 3 }),
        (partitions, metadataLength) => {
          const input = {
            topic: 't',
            partitionMetadata: Array.from({ length: metadataLength }, () => ({})),
            messages: partitions.map((partition, i) => ({ partition, i })),
            partitioner: ({ message }: { message: unknown }) =>
              (message as { partition: number | string }).partition,
          };
          const patched = patchedGroup(input);
          const original = originalGroup(input);
          expect(Object.keys(patched)).toEqual(Object.keys(original));
          for (const key of Object.keys(original)) {
            expect(patched[key]).toHaveLength(original[key].length);
            // The very message objects, in input order.
            original[key].forEach((m, i) => expect(patched[key][i]).toBe(m));
          }
        },
      ),
    );
  });

  it('computes the CRC-32C of the original, at any length and offset', () => {
    expect(patchedCrc(Buffer.from('123456789'))).toBe(0xe3069283); // the standard check value
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 5007, size: 'max' }),
        fc.integer({ min: 0, max: 7 }),
        (array, offset) => {
          const data = Buffer.from(array.buffer, array.byteOffset, array.length).subarray(offset);
          expect(patchedCrc(data)).toBe(originalCrc(data));
          expect(patchedCrcIndex(data)).toBe(originalCrcIndex(data));
        },
      ),
      { numRuns: 300 },
    );
  });
});
