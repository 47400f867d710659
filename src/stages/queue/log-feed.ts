import { followTopic, partitionOffsets, readToEnd, type KafkaClient } from '../../kafka';
import type { Logger } from '../../logger';
import { decodeLog, decodeLogKeys, logKeysOf, type LogKeys } from '../../record';
import { PoisonMessageError } from '../../errors';

export interface LogFeedOptions {
  kafka: KafkaClient;
  topics: { log: string; logkeys: string };
  logger: Logger;
  /** The highest LId the index holds: entries beyond lastLid + 1 mean some are missing. */
  lastLid: () => number;
  /** Receives the keys of log records in LId order (possibly again: the index skips those). */
  onKeys: (keys: readonly LogKeys[]) => void;
}

export interface LogFeed {
  /** Resolves once the index holds the whole log as of start. */
  caughtUp: Promise<void>;
  close(): Promise<void>;
}

/**
 * Feeds the queue's log index from the `logkeys` topic (src/record/log-keys.ts), which the
 * sequencer writes in the same transaction as the log: what a queue needs of every log record,
 * many records per message, instead of the log's full JSON one record per message.
 *
 * Where `logkeys` lacks LIds the log has, the log itself fills them in: a log written before
 * the topic existed (an upgrade: logkeys empty, or starting after LId 1), or a logkeys message
 * that could not be decoded. A gap is detected when an entry's LId is beyond the index's last
 * LId + 1; the log is then read to its end from where the previous fill stopped. That costs
 * what every queue start cost before `logkeys` existed, once.
 */
export async function startLogFeed(opts: LogFeedOptions): Promise<LogFeed> {
  const { kafka, topics, logger } = opts;
  let logNext: string | undefined;
  const fill = async (why: string) => {
    const started = Date.now();
    const from = opts.lastLid();
    let read = 0;
    await readToEnd(kafka, {
      topic: topics.log,
      partitions: [0],
      from: logNext === undefined ? 'earliest' : { 0: logNext },
      logger,
      onBatch: (b) => {
        const keys: LogKeys[] = [];
        for (const m of b.messages) if (m.value) keys.push(logKeysOf(decodeLog(m.value)));
        read += keys.length;
        logNext = (BigInt(b.messages[b.messages.length - 1].offset) + 1n).toString();
        opts.onKeys(keys);
      },
    });
    logger.warn(
      { why, fromLid: from, toLid: opts.lastLid(), read, ms: Date.now() - started },
      'log index filled in from the log topic',
    );
  };

  const [keysOffsets, logOffsets] = await Promise.all([
    partitionOffsets(kafka, topics.logkeys, 0, logger),
    partitionOffsets(kafka, topics.log, 0, logger),
  ]);
  const keysEmpty = !keysOffsets || keysOffsets.high === keysOffsets.low;
  const logEmpty = !logOffsets || logOffsets.high === logOffsets.low;
  if (keysEmpty && !logEmpty) await fill('the logkeys topic is empty and the log is not');

  const follower = await followTopic(kafka, {
    topic: topics.logkeys,
    partitions: [0],
    from: 'earliest',
    logger,
    onBatch: async (b) => {
      for (const m of b.messages) {
        if (!m.value) continue;
        let keys: LogKeys[];
        try {
          keys = decodeLogKeys(m.value);
        } catch (e) {
          if (!(e instanceof PoisonMessageError)) throw e;
          // Its LIds are not lost: the next message's gap sends the index to the log for them.
          logger.error({ err: e, offset: m.offset }, 'undecodable logkeys message skipped');
          continue;
        }
        if (keys.length === 0) continue;
        if (keys[0].lid > opts.lastLid() + 1)
          await fill(`logkeys at offset ${m.offset} starts at LId ${keys[0].lid}`);
        opts.onKeys(keys);
      }
    },
  });
  return { caughtUp: follower.caughtUp, close: () => follower.close() };
}
