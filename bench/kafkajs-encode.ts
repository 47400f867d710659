/**
 * kafkajs's produce-side encoding, unpatched 2.2.4 (test/fixtures/kafkajs-original) against
 * the patched node_modules/kafkajs: `npx tsx bench/kafkajs-encode.ts`. Prints ms per 1 000
 * messages (median of the rounds; original and patched alternate within each round, so a
 * busy machine slows both alike) for
 * - encode() of a produce request (v3; v4..v7 are the same) with one partition of n
 *   messages, uncompressed: `plain` = ~300-byte string values, key null, no headers (the
 *   profiled case); `chariots` = string key and three short string headers, as the
 *   sequencer's log records have;
 * - groupMessagesPerPartition of n messages to one partition (the original is quadratic);
 * and the CRC-32C of a 1 MB buffer in ms.
 */
import { join } from 'node:path';

// KAFKAJS_ORIGINAL=<a kafkajs/src> compares with another copy, e.g. main's node_modules.
const ORIGINAL =
  process.env.KAFKAJS_ORIGINAL ?? join(__dirname, '../test/fixtures/kafkajs-original/src');
const load = <T>(original: boolean, path: string): T =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(original ? join(ORIGINAL, path) : `kafkajs/src/${path}`) as T;

type Message = { key: string | null; value: string; headers?: Record<string, string> };
type Produce = (args: object) => { encode: () => Promise<{ size: () => number }> };
type Group = (args: object) => Record<string, unknown[]>;
type Crc = (buffer: Buffer) => number;
interface Impl {
  produce: Produce;
  group: Group;
  crc: Crc;
}
const impl = (original: boolean): Impl => ({
  produce: load(original, 'protocol/requests/produce/v3/request'),
  group: load(original, 'producer/groupMessagesPerPartition'),
  crc: load(original, 'protocol/recordBatch/crc32C/crc32C'),
});
const impls = { original: impl(true), patched: impl(false) };

const ROUNDS = Number(process.env.ROUNDS ?? 9);
const SIZES = [500, 2000, 5000];

const messagesOf = (kind: 'plain' | 'chariots', n: number): Message[] =>
  Array.from({ length: n }, (_, i) => {
    const value = `{"id":"run-${i}","tags":{"pad":"${'x'.repeat(260)}"},"n":${i}}`;
    return kind === 'plain'
      ? { key: null, value }
      : {
          key: `run-${i}`,
          value,
          headers: { lid: String(i), vc: `{"1":${i},"2":${i >> 1}}`, off: String(i * 7) },
        };
  });

const produceArgs = (messages: Message[]) => ({
  acks: -1,
  timeout: 30000,
  transactionalId: 'tx-sequencer-0',
  topicData: [{ topic: 'log', partitions: [{ partition: 0, messages }] }],
});

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
const row = (what: string, n: number | string, [o, p]: [number, number], per: number) =>
  rows.push([
    what,
    String(n),
    (o / per).toFixed(3),
    (p / per).toFixed(3),
    `${(o / p).toFixed(1)}×`,
  ]);

async function main() {
  process.stdout.write(`node ${process.version}, ${ROUNDS} rounds, original: ${ORIGINAL}\n`);
  for (const kind of ['plain', 'chariots'] as const) {
    for (const n of SIZES) {
      const args = produceArgs(messagesOf(kind, n));
      row(`encode ${kind}`, n, await compare((i) => () => i.produce(args).encode()), n / 1000);
    }
  }
  for (const n of SIZES) {
    const input = {
      topic: 'log',
      partitionMetadata: [{ partitionId: 0 }],
      messages: messagesOf('plain', n),
      partitioner: () => 0,
    };
    row('groupMessagesPerPartition', n, await compare((i) => () => i.group(input)), n / 1000);
  }
  const mb = Buffer.alloc(1 << 20, 'chariots');
  row('crc32C (ms per MB)', '1 MB', await compare((i) => () => i.crc(mb)), 1);

  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows)
    process.stdout.write(`${r.map((cell, c) => cell.padStart(widths[c])).join('  ')}\n`);
  process.stdout.write('ms per 1 000 messages (crc32C: ms per MB), medians\n');
}

void main();
