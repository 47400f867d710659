import { join } from 'node:path';
import type { KafkaClient } from '../../src/kafka';
import { hashTag, toPublicJson, type LogRecord, type PublicRecord } from '../../src/record';
import type { testEnvironment } from '../helpers/cluster';
import { ingestMessages, testProducer } from '../helpers/ingest';
import { StageProcess } from '../helpers/stage-process';

/**
 * `n` records for the ingest topic, produced directly as applications would: a handful of
 * seeds and repeating tags (so tag/seed queries return many records), every 10th one
 * depending (prehash) on an earlier record of its seed.
 */
export function workload(n: number, base = 0): object[] {
  const out: object[] = [];
  for (let i = base; i < base + n; i++) {
    const seed = i % 11 === 0 ? '18446744073709551615' : String(i % 5);
    const dep = i % 10 === 9 && i - 5 >= base ? [hashTag('n', String(i - 5))] : [];
    const sameSeed = dep.length > 0 && (i - 5) % 11 !== 0 && (i - 5) % 5 === i % 5 && i % 11 !== 0;
    out.push({
      id: `r-${i}`,
      seed,
      tags: { n: String(i), k: `v${i % 3}`, ...(i % 7 === 0 ? { pad: 'p'.repeat(i % 500) } : {}) },
      ...(sameSeed ? { prehash: dep } : {}),
    });
  }
  return out;
}

export async function produceAll(
  kafka: KafkaClient,
  topic: string,
  records: object[],
): Promise<void> {
  const producer = await testProducer(kafka, { lingerMs: 2, maxBatchMessages: 1000 });
  try {
    await producer.sendMany(ingestMessages(topic, records));
  } finally {
    await producer.close();
  }
}

export const pub = (r: LogRecord): PublicRecord => JSON.parse(JSON.stringify(toPublicJson(r)));

export async function getJson<T = unknown>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as T };
}

export async function until(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 120000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * `chariots start maintainer` as a child process (so it can be killed -9) on the test's
 * topics, storing under `dataDir` in 64 KiB segments (several segments from a few thousand
 * records) and serving its read API on `port`; `storeDir` is where its flstore lands.
 */
export function maintainerProcess(
  env: Awaited<ReturnType<typeof testEnvironment>>,
  dataDir: string,
  port: number,
): { proc: StageProcess; url: string; storeDir: string } {
  const proc = new StageProcess('maintainer', {
    CHARIOTS_KAFKA_BROKERS: env.config.kafka.brokers.join(','),
    CHARIOTS_TOPIC_PREFIX: env.prefix,
    CHARIOTS_DATA_DIR: dataDir,
    CHARIOTS_MAINTAINER_PORT: String(port),
    CHARIOTS_MAINTAINER_SEGMENT_BYTES: '65536',
    CHARIOTS_HTTP_HOST: '127.0.0.1',
  });
  return {
    proc,
    url: `http://127.0.0.1:${port}`,
    storeDir: join(dataDir, `${env.prefix}flstore`),
  };
}
