import type { InBatch, InMessage, OutMessage } from '../kafka';
import { PoisonMessageError } from '../errors';
import type { Logger } from '../logger';
import { chunkForPacks, encodePack, isPack, MAX_PACK_BYTES, unpack } from '../record';

/** Only a keyed-by-partition record value without headers can go into a pack. */
function packable(m: OutMessage): boolean {
  return (
    m.partition !== undefined &&
    m.value !== null &&
    (m.headers === undefined || Object.keys(m.headers).length === 0)
  );
}

/**
 * A TransactionalStage `pack` option: the messages bound for `topics` become packs
 * (src/record/pack.ts), one run of consecutive records per partition at a time, so each
 * partition still holds them in the order they were sent. A pack has no key (its records
 * have one each); a record alone in its run stays a plain message with its own key. Other
 * topics' messages pass unchanged.
 */
export function packFor(
  topics: readonly string[],
  maxBytes = MAX_PACK_BYTES,
): (out: OutMessage[]) => OutMessage[] {
  const packed = new Set(topics);
  return (out) => {
    const rest: OutMessage[] = [];
    const perPartition = new Map<string, OutMessage[]>();
    for (const m of out) {
      if (!packed.has(m.topic)) {
        rest.push(m);
        continue;
      }
      const key = `${m.partition ?? ''}:${m.topic}`;
      const list = perPartition.get(key);
      if (list) list.push(m);
      else perPartition.set(key, [m]);
    }
    for (const list of perPartition.values()) {
      let run: Array<{ m: OutMessage; value: Buffer }> = [];
      const flush = () => {
        for (const group of chunkForPacks(run, (r) => r.value.length, maxBytes)) {
          const { m, value } = group[0];
          if (group.length === 1 && !isPack(value)) rest.push(m);
          else
            rest.push({
              topic: m.topic,
              partition: m.partition,
              key: null,
              value: encodePack(group.map((r) => r.value)),
            });
        }
        run = [];
      };
      for (const m of list) {
        if (packable(m)) {
          const v = m.value as string | Buffer;
          run.push({ m, value: typeof v === 'string' ? Buffer.from(v) : v });
        } else {
          flush();
          rest.push(m);
        }
      }
      flush();
    }
    return rest;
  };
}

/**
 * `batch` with each pack replaced by its records: one message per record, all with the
 * pack's offset (a pack is processed whole, in one transaction, so the input offset stays
 * exact). A corrupt pack is logged and becomes a value-less message (skipped by the
 * stages, its offset still committed): Chariots alone writes these topics, so it is a bug
 * or damage upstream, and it must not block the partition.
 */
export function unpackBatch(batch: InBatch, logger: Logger): InBatch {
  if (!batch.messages.some((m) => m.value && isPack(m.value))) return batch;
  const messages: InMessage[] = [];
  for (const m of batch.messages) {
    if (!m.value || !isPack(m.value)) {
      messages.push(m);
      continue;
    }
    let values: Buffer[] = [];
    try {
      values = unpack(m.value);
    } catch (err) {
      if (!(err instanceof PoisonMessageError)) throw err;
      logger.error(
        { err, topic: m.topic, partition: m.partition, offset: m.offset },
        'undecodable pack skipped',
      );
    }
    // Literals rather than `{ ...m, value }`: one message per record of every pack.
    const { topic, partition, offset, key, timestamp, headers } = m;
    if (values.length === 0)
      messages.push({ topic, partition, offset, key, value: null, timestamp, headers });
    for (const value of values)
      messages.push({ topic, partition, offset, key, value, timestamp, headers });
  }
  return { ...batch, messages };
}
