import type { Logger } from '../logger';

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
