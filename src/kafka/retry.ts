import type { Admin } from 'kafkajs';
import type { Logger } from '../logger';
import type { KafkaClient } from './client';

/**
 * Retries a metadata/admin call that can fail transiently: right after a topic is created
 * (or while a leader moves) ListOffsets answers NOT_LEADER_OR_FOLLOWER, which kafkajs's admin
 * does not retry by itself. Exponential backoff, capped; the last error is rethrown.
 */
export async function withRetry<T>(
  what: string,
  fn: () => Promise<T>,
  logger?: Logger,
  attempts = 10,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= attempts) throw e;
      logger?.debug({ err: e, attempt }, `${what} failed; retrying`);
      await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** attempt)));
    }
  }
}

/**
 * One admin call on a fresh admin client (connected, then disconnected whatever happens),
 * retried like withRetry. `admin` makes the client when the default one will not do (e.g. the
 * patched `readUncommitted` option of stable.ts).
 */
export function withAdmin<T>(
  kafka: KafkaClient,
  what: string,
  call: (admin: Admin) => Promise<T>,
  logger?: Logger,
  admin: () => Admin = () => kafka.admin(),
): Promise<T> {
  return withRetry(
    what,
    async () => {
      const a = admin();
      await a.connect();
      try {
        return await call(a);
      } finally {
        await a.disconnect();
      }
    },
    logger,
  );
}

/**
 * Retry settings of every transactional producer (consume→produce stages, out-of-band
 * transactions, the bench's baseline). A transaction that starts right after the same
 * producer's previous commit is answered CONCURRENT_TRANSACTIONS until the broker has
 * written that commit's markers (a few ms). The patched kafkajs retries AddPartitionsToTxn
 * itself for ~126 ms first (patches/kafkajs+2.2.4.patch, session 11); beyond that, kafkajs
 * retries the whole send after initialRetryTime. With the client default of 100 ms, back-to-back transactions took
 * ~106 ms each instead of ~5 (p50 of 60, measured on the jar-started broker, 2026-11-27):
 * the floor of every hop's latency under load. The Java client retries this case after
 * 20 ms (KAFKA-5477); 10 ms doubling to 5 s keeps the total patience of the default (~20 s).
 */
export const TRANSACTIONAL_RETRY = Object.freeze({
  initialRetryTime: 10,
  retries: 12,
  maxRetryTime: 5000,
});

/**
 * Runs `f` again while the transaction coordinator answers CONCURRENT_TRANSACTIONS, on the
 * backoff of TRANSACTIONAL_RETRY. kafkajs retries that answer for AddPartitionsToTxn (inside
 * sendBatch) but not for AddOffsetsToTxn: a transaction with nothing to send — a batch of
 * duplicates only — begun right after the same producer's commit failed (46 of 50 such
 * transactions in a loop, 2026-11-27) and the partition was rebuilt from Kafka for nothing.
 * AddOffsetsToTxn is idempotent on the coordinator: sending it again is safe.
 */
export async function retryConcurrentTransactions<T>(f: () => Promise<T>): Promise<T> {
  let wait: number = TRANSACTIONAL_RETRY.initialRetryTime;
  for (let attempt = 0; ; attempt++) {
    try {
      return await f();
    } catch (e) {
      const busy = (e as { type?: string }).type === 'CONCURRENT_TRANSACTIONS';
      if (!busy || attempt >= TRANSACTIONAL_RETRY.retries) throw e;
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, TRANSACTIONAL_RETRY.maxRetryTime);
    }
  }
}
