/**
 * Test helpers for integration tests: a unique topic prefix per test (so tests never see
 * each other's records), topics applied on the real broker, a config pointing at it.
 */
import { randomBytes } from 'node:crypto';
import { loadConfig, type DeepPartial } from '../../src/config/load';
import type { ChariotsConfig } from '../../src/config/schema';
import {
  applyTopics,
  createKafkaClient,
  loadTopicDeclarations,
  readToEnd,
  topicNames,
  type InMessage,
  type KafkaClient,
} from '../../src/kafka';
import { rootLogger } from '../../src/logger';
import { decodeLog, unpack, type LogRecord } from '../../src/record';

export const testLogger = rootLogger.child({ test: true });
testLogger.level = process.env.TEST_LOG_LEVEL ?? 'warn';

export function uniquePrefix(name: string): string {
  return `t-${name}-${randomBytes(4).toString('hex')}.`;
}

export async function testEnvironment(name: string, overrides: DeepPartial<ChariotsConfig> = {}) {
  const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
  if (brokers.length === 0)
    throw new Error(
      'KAFKA_BROKERS is not set: integration tests run through the jest integration project',
    );
  const prefix = uniquePrefix(name);
  const config = loadConfig({
    env: {},
    overrides: {
      ...overrides,
      topicPrefix: prefix,
      log: { level: (process.env.TEST_LOG_LEVEL as 'warn') ?? 'warn' },
      kafka: { brokers, ...(overrides.kafka ?? {}) },
      http: { port: 0, adminPort: 0, host: '127.0.0.1', ...(overrides.http ?? {}) },
      tcp: { port: 0, host: '127.0.0.1', ...(overrides.tcp ?? {}) },
    },
  });
  const kafka = createKafkaClient(config.kafka, testLogger);
  await applyTopics(kafka, loadTopicDeclarations(), { prefix, replicationFactor: 1 });
  return { config, kafka, prefix, topics: topicNames(prefix) };
}

export async function readAll(kafka: KafkaClient, topic: string): Promise<InMessage[]> {
  const out: InMessage[] = [];
  await readToEnd(kafka, {
    topic,
    logger: testLogger,
    onBatch: (b) => void out.push(...b.messages),
  });
  return out;
}

/**
 * The record values of `filtered` or `released` (or ingest), one per record: packs are
 * unpacked (each record keeps its message's partition and offset), other messages kept as
 * they are (a corrupt pack too: the caller's decoding says what is wrong with it).
 */
export async function readRecordValues(kafka: KafkaClient, topic: string): Promise<InMessage[]> {
  const values = (v: Buffer): Buffer[] => {
    try {
      return unpack(v);
    } catch {
      return [v];
    }
  };
  return (await readAll(kafka, topic)).flatMap((m) =>
    m.value ? values(m.value).map((value) => ({ ...m, value })) : [m],
  );
}

/** The records of a log topic, decoded. */
export async function readLog(kafka: KafkaClient, topic: string): Promise<LogRecord[]> {
  return (await readAll(kafka, topic))
    .filter((m) => m.value)
    .map((m) => decodeLog(m.value as Buffer));
}

/** Reads the log topic until it holds `count` records (or the timeout passes). */
export async function waitForLog(
  kafka: KafkaClient,
  topic: string,
  count: number,
  timeoutMs = 60000,
): Promise<LogRecord[]> {
  const deadline = Date.now() + timeoutMs;
  let records: LogRecord[] = [];
  while (Date.now() < deadline) {
    records = await readLog(kafka, topic);
    if (records.length >= count) return records;
    await new Promise((r) => setTimeout(r, 500));
  }
  return records;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `what` until it returns at least `n` items or `timeoutMs` passed; returns the last answer. */
export async function untilCount<T>(
  what: () => Promise<T[]>,
  n: number,
  timeoutMs = 30_000,
): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await what();
    if (got.length >= n || Date.now() > deadline) return got;
    await sleep(300);
  }
}
