import { followTopic, type Follower, type KafkaClient } from '../../kafka';
import type { Logger } from '../../logger';
import { decodeLogKeys } from '../../record';
import type { ChangelogView } from './changelog-view';
import type { AppendWaiters } from './waiters';

/** Materializes a compacted topic keyed by record id into `view` (values parsed on read). */
export function followChangelog<T>(
  kafka: KafkaClient,
  topic: string,
  view: ChangelogView<T>,
  logger: Logger,
): Promise<Follower> {
  return followTopic(kafka, {
    topic,
    from: 'earliest',
    logger,
    onBatch: (b) => {
      for (const m of b.messages) {
        if (!m.key) continue;
        const key = m.key.toString('utf8');
        // A control entry of the stage that owns the changelog (never a record id, which
        // cannot contain control characters), e.g. the queue's input offset.
        if (key.charCodeAt(0) < 0x20) continue;
        if (m.value === null) view.delete(key);
        else view.setRaw(key, m.value);
      }
    },
  });
}

/**
 * Tails `logkeys` (what the sequencer appended, written with the log: src/record/log-keys.ts)
 * from its end (records appended before this process started have no waiter here) and wakes
 * `?wait=appended` requests by record id: many records per message instead of the log's one,
 * and no JSON to parse. Not filled in from the log like the queues' index: a sequencer older
 * than logkeys leaves these requests to time out (upgrade sequencers first, docs/operations.md).
 */
export function followLogForWaiters(
  kafka: KafkaClient,
  topic: string,
  waiters: AppendWaiters,
  logger: Logger,
): Promise<Follower> {
  return followTopic(kafka, {
    topic,
    from: 'latest',
    logger,
    onBatch: (b) => {
      if (waiters.size === 0) return;
      for (const m of b.messages) {
        if (!m.value) continue;
        try {
          for (const k of decodeLogKeys(m.value)) waiters.appended(k.id, k.lid);
        } catch (e) {
          logger.warn(
            { err: e, offset: m.offset },
            'undecodable logkeys message ignored by waiters',
          );
        }
      }
    },
  });
}
