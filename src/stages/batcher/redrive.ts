import type { OutMessage } from '../../kafka';
import { encodeIngest, type IngestRecord } from '../../record';

/**
 * A re-drive puts the record back where the queue reads (the `filtered` topic, key = seed
 * like the filter's output, past the dedup that already admitted it once) and tombstones
 * its dead letter. Both are written in ONE transaction: a crash in between can neither
 * lose the record nor re-drive it twice from a dead letter that stayed listed.
 */
/** `key` is the dead letter's key (the record id). */
export function redriveMessages(
  key: string,
  record: IngestRecord,
  topics: { filtered: string; deadletter: string },
): OutMessage[] {
  return [
    { topic: topics.filtered, key: record.seed, value: encodeIngest(record) },
    { topic: topics.deadletter, key, value: null },
  ];
}
