/**
 * kafkajs's consume-side decoding, unpatched 2.2.4 (test/fixtures/kafkajs-original) against
 * the patched node_modules/kafkajs: `npx tsx bench/kafkajs-decode.ts`. Prints ms per 1 000
 * records (median of the rounds; original and patched alternate within each round, so a
 * busy machine slows both alike) for
 * - the RecordBatch decoder (protocol/recordBatch/v0/decoder.js) on one uncompressed batch of
 *   n records: `plain` = ~300-byte values and a short string key, no headers (the profiled
 *   case); `chariots` = the same with three short headers, as the sequencer's log records
 *   have;
 * - a whole Fetch v11 response (the version kafkajs 2.2.4 negotiates with Kafka 4) of n
 *   `chariots` records in batches of 250, its last batch cut short as maxBytes leaves it,
 *   decoded and made into the consumer's Batch (consumer/batch.js), as consumerGroup.fetch
 *   does.
 */
import { join } from 'node:path';
import { PatchComparison } from './patch-compare';

// KAFKAJS_ORIGINAL=<a kafkajs/src> compares with another copy, e.g. main's node_modules.
const ORIGINAL =
  process.env.KAFKAJS_ORIGINAL ?? join(__dirname, '../test/fixtures/kafkajs-original/src');
const load = <T>(original: boolean, path: string): T =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(original ? join(ORIGINAL, path) : `kafkajs/src/${path}`) as T;

interface Decoder {
  offset: number;
}
type DecoderClass = new (buffer: Buffer) => Decoder;
type BatchDecoder = (decoder: Decoder) => Promise<{ records: unknown[] }>;
type FetchResponse = { decode: (buffer: Buffer) => Promise<FetchData> };
interface FetchData {
  responses: Array<{ topicName: string; partitions: Array<{ messages: unknown[] }> }>;
}
type BatchClass = new (
  topic: string,
  fetchedOffset: string,
  partitionData: unknown,
) => {
  messages: unknown[];
};
interface Impl {
  Decoder: DecoderClass;
  decodeBatch: BatchDecoder;
  fetch: FetchResponse;
  Batch: BatchClass;
}
const impl = (original: boolean): Impl => ({
  Decoder: load(original, 'protocol/decoder'),
  decodeBatch: load(original, 'protocol/recordBatch/v0/decoder'),
  fetch: load(original, 'protocol/requests/fetch/v11/response'),
  Batch: load(original, 'consumer/batch'),
});
const impls = { original: impl(true), patched: impl(false) };

// Test data is encoded with the original (unpatched) encoders.
interface Encoder {
  writeInt8(v: number): Encoder;
  writeInt16(v: number): Encoder;
  writeInt32(v: number): Encoder;
  writeInt64(v: number | string): Encoder;
  writeString(v: string): Encoder;
  writeBytes(v: Buffer): Encoder;
  writeBuffer(v: Buffer): Encoder;
  buffer: Buffer;
}
const Encoder = load<new () => Encoder>(true, 'protocol/encoder');
const Record = load<(r: object) => unknown>(true, 'protocol/recordBatch/record/v0');
const { RecordBatch } = load<{ RecordBatch: (b: object) => Promise<Encoder> }>(
  true,
  'protocol/recordBatch/v0',
);

const ROUNDS = Number(process.env.ROUNDS ?? 9);
const SIZES = [500, 2000, 5000];
const FIRST_TIMESTAMP = 1_764_000_000_000;
const FIRST_OFFSET = 123_456_789;

const recordsOf = (kind: 'plain' | 'chariots', from: number, n: number) =>
  Array.from({ length: n }, (_, j) => {
    const i = from + j;
    const value = `{"id":"run-${i}","tags":{"pad":"${'x'.repeat(260)}"},"n":${i}}`;
    return Record({
      offsetDelta: j,
      timestampDelta: j >> 3,
      key: `run-${i}`,
      value,
      headers:
        kind === 'plain'
          ? {}
          : { lid: String(i), vc: `{"1":${i},"2":${i >> 1}}`, off: String(i * 7) },
    });
  });

const batchOf = async (kind: 'plain' | 'chariots', from: number, n: number) =>
  (
    await RecordBatch({
      firstOffset: FIRST_OFFSET + from,
      firstTimestamp: FIRST_TIMESTAMP + from,
      maxTimestamp: FIRST_TIMESTAMP + from + (n >> 3),
      lastOffsetDelta: n - 1,
      transactional: true,
      producerId: 4242,
      producerEpoch: 3,
      records: recordsOf(kind, from, n),
    })
  ).buffer;

/** A Fetch v11 response: one partition, n records in batches of 250, the last one cut. */
async function fetchResponseOf(n: number): Promise<Buffer> {
  const batches: Buffer[] = [];
  for (let from = 0; from < n; from += 250)
    batches.push(await batchOf('chariots', from, Math.min(250, n - from)));
  const next = await batchOf('chariots', n, 250);
  batches.push(next.subarray(0, next.length >> 1));
  const records = Buffer.concat(batches);
  return new Encoder()
    .writeInt32(0) // throttle_time_ms
    .writeInt16(0) // error_code
    .writeInt32(0) // session_id
    .writeInt32(1) // responses
    .writeString('log')
    .writeInt32(1) // partitions
    .writeInt32(0) // partition
    .writeInt16(0) // error_code
    .writeInt64(FIRST_OFFSET + n + 250) // high_watermark
    .writeInt64(FIRST_OFFSET + n + 250) // last_stable_offset
    .writeInt64(0) // log_start_offset
    .writeInt32(0) // aborted_transactions
    .writeInt32(-1) // preferred_read_replica
    .writeBytes(records).buffer;
}

const cmp = new PatchComparison(impls, ROUNDS);

async function main() {
  process.stdout.write(`node ${process.version}, ${ROUNDS} rounds, original: ${ORIGINAL}\n`);
  const only = process.env.BENCH_ONLY?.split(',');
  for (const kind of ['plain', 'chariots'] as const) {
    if (only && !only.includes(kind)) continue;
    for (const n of SIZES) {
      const batch = await batchOf(kind, 0, n);
      const decode = (i: Impl) => async () => {
        const { records } = await i.decodeBatch(new i.Decoder(batch));
        if (records.length !== n) throw new Error(`decoded ${records.length} of ${n}`);
      };
      await cmp.row(`recordBatch ${kind}`, n, decode, n / 1000);
    }
  }
  for (const n of SIZES) {
    if (only && !only.includes('fetch')) continue;
    const response = await fetchResponseOf(n);
    const fetch = (i: Impl) => async () => {
      const { responses } = await i.fetch.decode(response);
      const [partitionData] = responses[0].partitions;
      const batch = new i.Batch('log', String(FIRST_OFFSET), partitionData);
      if (batch.messages.length !== n) throw new Error(`fetched ${batch.messages.length}`);
    };
    await cmp.row('fetch v11 + Batch', n, fetch, n / 1000);
  }

  cmp.print('ms per 1 000 records, medians');
}

void main();
