import { readFileSync } from 'node:fs';
import { ChariotsError } from '../errors';

type AbortedFilter = (input: {
  messages: Array<{
    offset: string;
    key: Buffer | null;
    isControlRecord: boolean;
    batchContext: { producerId: string; inTransaction: boolean };
  }>;
  abortedTransactions: Array<{ producerId: string; firstOffset: string }>;
}) => Array<{ offset: string }>;

let checked = false;

/**
 * kafkajs 2.2.4 returns data of an aborted transaction to a read_committed consumer when
 * transactions of several producers interleave on one partition and the later one is
 * aborted first (the broker lists aborted transactions in abort order; kafkajs assumed
 * first-offset order). `released` is written exactly like that — one producer per queue
 * partition, a fenced owner's transaction aborted by its successor — so the sequencer
 * appended records twice (src/kafka/read-committed.int.test.ts). patches/kafkajs+2.2.4.patch
 * (applied by patch-package at npm install) fixes the filter; a stage refuses to run without
 * it rather than break exactly-once silently.
 */
export function assertKafkajsPatched(): void {
  if (checked) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const filter = require('kafkajs/src/consumer/filterAbortedMessages') as AbortedFilter;
  const data = (offset: string, producerId: string) => ({
    offset,
    key: Buffer.from(offset),
    isControlRecord: false,
    batchContext: { producerId, inTransaction: true },
  });
  // Producer 1 began at offset 0, producer 2 at offset 1; 2 was aborted first.
  const kept = filter({
    messages: [data('0', '1'), data('1', '2')],
    abortedTransactions: [
      { producerId: '2', firstOffset: '1' },
      { producerId: '1', firstOffset: '0' },
    ],
  });
  if (kept.length > 0) throw unpatched('shows aborted transactions to read_committed consumers');
  // The patch's second half: admin({ readUncommitted }) asks ListOffsets for the high
  // watermark, without which awaitStable (stable.ts) cannot tell a pending transaction.
  const client = readFileSync(require.resolve('kafkajs/src/index.js'), 'utf8');
  if (!client.includes('chariots patch: readUncommitted'))
    throw unpatched('has no admin({ readUncommitted }) to read high watermarks');
  checked = true;
}

const unpatched = (what: string) =>
  new ChariotsError(
    'CHARIOTS_ERR_KAFKA_CLIENT_UNPATCHED',
    `the installed kafkajs ${what}: run \`npm install\` (its postinstall applies patches/kafkajs+2.2.4.patch with patch-package)`,
  );
