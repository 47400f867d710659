/**
 * Feeding an ingest topic directly, as applications may (no batcher): a connected producer
 * with the tests' usual settings, and records turned into the messages an application sends.
 */
import {
  BatchingProducer,
  type BatchingProducerOptions,
  type KafkaClient,
  type OutMessage,
} from '../../src/kafka';
import { testLogger } from './cluster';

/**
 * A connected producer for a test's fixtures: sent within a millisecond, room for any
 * test's burst; `o` changes what a test needs otherwise.
 */
export async function testProducer(
  kafka: KafkaClient,
  o: Partial<Omit<BatchingProducerOptions, 'logger'>> = {},
): Promise<BatchingProducer> {
  const producer = new BatchingProducer(kafka, {
    lingerMs: 1,
    maxBatchMessages: 500,
    maxPending: 100000,
    logger: testLogger,
    ...o,
  });
  await producer.connect();
  return producer;
}

/** Records as §1 JSON keyed by their seed (so a seed's records share a partition; none = 0). */
export function ingestMessages(topic: string, records: object[]): OutMessage[] {
  return records.map((r) => ({
    topic,
    key: String((r as { seed?: string }).seed ?? '0'),
    value: JSON.stringify(r),
  }));
}
