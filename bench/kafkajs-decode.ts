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

/** ms per call of `f`, over enough calls to take ~50 ms. */
async function timeOf(f: () => unknown): Promise<number> {
  let calls = 1;
  for (;;) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) await f();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (ms >= 50) return ms / calls;
    calls *= 2;
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Median ms per call of each implementation's `f`, alternating which goes first. */
async function compare(f: (i: Impl) => () => unknown): Promise<[number, number]> {
  const original = f(impls.original);
  const patched = f(impls.patched);
  await timeOf(original); // warm-up
  await timeOf(patched);
  const o: number[] = [];
  const p: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2) {
      o.push(await timeOf(original));
      p.push(await timeOf(patched));
    } else {
      p.push(await timeOf(patched));
      o.push(await timeOf(original));
    }
  }
  return [median(o), median(p)];
}

const rows: string[][] = [['what', 'n', 'original', 'patched', 'speed-up']];
const row = (what: string, n: number, [o, p]: [number, number], per: number) =>
  rows.push([
    what,
    String(n),
    (o / per).toFixed(3),
    (p / per).toFixed(3),
    `${(o / p).toFixed(1)}×`,
  ]);

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
      row(`recordBatch ${kind}`, n, await compare(decode), n / 1000);
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
    row('fetch v11 + Batch', n, await compare(fetch), n / 1000);
  }

  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows)
    process.stdout.write(`${r.map((cell, c) => cell.padStart(widths[c])).join('  ')}\n`);
  process.stdout.write('ms per 1 000 records, medians\n');
}

void main();
