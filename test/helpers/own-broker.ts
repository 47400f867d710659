/**
 * A broker of the test's own (Kafka from jars), for tests that pause or break the broker
 * itself: the shared one from global-setup serves other test files at the same time.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultCacheDir, ensureKafkaJars } from '../../src/kafka/broker/jars';
import { startKafkaFromJars, type RunningKafka } from '../../src/kafka/broker/kafka-process';
import { testLogger } from './cluster';

export interface OwnBroker extends RunningKafka {
  /** SIGSTOP the broker JVM for `ms`, then SIGCONT: an unresponsive broker, not a refusing one. */
  pause(ms: number): Promise<void>;
}

export async function startOwnBroker(): Promise<OwnBroker> {
  const dist = await ensureKafkaJars({ cacheDir: defaultCacheDir(), logger: testLogger });
  const k = await startKafkaFromJars(dist, { logger: testLogger });
  const pid = Number(readFileSync(join(k.dataDir, 'java.pid'), 'utf8'));
  return {
    ...k,
    pause: async (ms: number) => {
      process.kill(pid, 'SIGSTOP');
      try {
        await new Promise((r) => setTimeout(r, ms));
      } finally {
        process.kill(pid, 'SIGCONT');
      }
    },
  };
}
