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
import { PatchComparison } from './patch-compare';

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

const cmp = new PatchComparison(impls, ROUNDS);

async function main() {
  process.stdout.write(`node ${process.version}, ${ROUNDS} rounds, original: ${ORIGINAL}\n`);
  for (const kind of ['plain', 'chariots'] as const) {
    for (const n of SIZES) {
      const args = produceArgs(messagesOf(kind, n));
      await cmp.row(`encode ${kind}`, n, (i) => () => i.produce(args).encode(), n / 1000);
    }
  }
  for (const n of SIZES) {
    const input = {
      topic: 'log',
      partitionMetadata: [{ partitionId: 0 }],
      messages: messagesOf('plain', n),
      partitioner: () => 0,
    };
    await cmp.row('groupMessagesPerPartition', n, (i) => () => i.group(input), n / 1000);
  }
  const mb = Buffer.alloc(1 << 20, 'chariots');
  await cmp.row('crc32C (ms per MB)', '1 MB', (i) => () => i.crc(mb), 1);

  cmp.print('ms per 1 000 messages (crc32C: ms per MB), medians');
}

void main();
