/**
 * Jest global setup for the `integration` project: find or start ONE broker for the whole
 * run (KAFKA_BROKERS, Redpanda in Docker, or Kafka from jars; see src/kafka/broker/) and
 * hand its address to the test workers through process.env, which they inherit.
 */
import { acquireBroker, type AcquiredBroker } from '../src/kafka/broker';
import { rootLogger } from '../src/logger';

declare global {
  var __chariotsBroker: AcquiredBroker | undefined;
}

export default async function globalSetup(): Promise<void> {
  const logger = rootLogger.child({ stage: 'jest-global-setup' });
  const broker = await acquireBroker({ logger, onProgress: (msg) => logger.info(msg) });
  process.env.KAFKA_BROKERS = broker.brokers.join(',');
  globalThis.__chariotsBroker = broker;
}
