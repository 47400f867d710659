/**
 * The `deferred` workload's setup: DEFERRED records whose prerequisite never comes (a prehash
 * on a tag nobody sends), produced straight to ingest, then wait until the queue reports
 * them all deferred (its `chariots_deferred_records` gauge on its admin port's /metrics).
 */
import type { KafkaClient } from '../src/kafka';
import { BatchingProducer } from '../src/kafka';
import type { Logger } from '../src/logger';
import { hashTag } from '../src/record';
import { SEEDS } from './workload';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function deferredNow(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  let n = 0;
  for (const line of text.split('\n'))
    if (line.startsWith('chariots_deferred_records')) n += Number(line.split(' ').pop());
  return n;
}

export async function seedDeferred(
  kafka: KafkaClient,
  ingestTopic: string,
  count: number,
  metricsUrl: string,
  logger: Logger,
  say: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<void> {
  const tag = `orphan${Date.now().toString(36)}`;
  const never = hashTag('n', `${tag}-never-sent`);
  const producer = new BatchingProducer(kafka, {
    lingerMs: 5,
    maxBatchMessages: 1000,
    maxPending: count + 1,
    logger,
  });
  await producer.connect();
  const before = await deferredNow(metricsUrl);
  const t0 = Date.now();
  try {
    const sends: Array<Promise<void>> = [];
    for (let i = 0; i < count; i++) {
      const seed = i % SEEDS;
      sends.push(
        producer.send({
          topic: ingestTopic,
          key: String(seed),
          value: `{"id":"${tag}-${i}","seed":${seed},"prehash":"${never}","tags":{"n":"${tag}-${i}","kind":"bench","pad":"${'x'.repeat(48)}"}}`,
        }),
      );
    }
    await Promise.all(sends);
  } finally {
    await producer.close();
  }
  for (;;) {
    const n = (await deferredNow(metricsUrl)) - before;
    say(`deferred: ${n}/${count} records waiting in the queue`);
    if (n >= count) break;
    if (Date.now() - t0 > 300_000)
      throw new Error(`only ${n} of ${count} records deferred after 5 minutes`);
    await sleep(2000);
  }
}
