/**
 * What a pipeline costs while nothing happens: starts every stage as its own process (as
 * `npm run bench` does, from dist/: run `npm run build` first), lets it settle, then reads
 * each process's CPU over SECONDS with no traffic at all. Kafka consumers poll: an idle stage
 * still fetches, heartbeats and reads its followers' topics.
 *
 *   npm run build && npx tsx bench/idle-cpu.ts [seconds]     (KAFKA_BROKERS, else a broker is started)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config/load';
import { applyTopics, createKafkaClient, loadTopicDeclarations } from '../src/kafka';
import { acquireBroker } from '../src/kafka/broker';
import { rootLogger } from '../src/logger';
import { procTicks } from './processes';
import { startChariots } from './targets';

const SECONDS = Number(process.argv[2] ?? 20);
const TICKS_PER_SECOND = 100;
const say = (m: string) => process.stdout.write(`${m}\n`);

async function main(): Promise<void> {
  const logger = rootLogger.child({ bench: 'idle-cpu' });
  logger.level = 'warn';
  const broker = await acquireBroker({ logger, onProgress: (m) => say(`broker: ${m}`) });
  const prefix = `bench-idle-${randomBytes(3).toString('hex')}.`;
  const config = loadConfig({
    env: {},
    overrides: {
      topicPrefix: prefix,
      dataDir: mkdtempSync(join(tmpdir(), 'chariots-idle-')),
      kafka: { brokers: broker.brokers },
    },
  });
  const kafka = createKafkaClient(config.kafka, logger);
  await applyTopics(kafka, loadTopicDeclarations(), { prefix, replicationFactor: 1 });
  const target = await startChariots('processes', { config, logger, childLine: () => undefined });
  say(`stages started; settling 10 s, then measuring ${SECONDS} s with no traffic`);
  await new Promise((r) => setTimeout(r, 10_000));
  const before = target.children.map((c) => procTicks(c.pid) ?? 0);
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const pct = target.children.map(
    (c, i) =>
      Math.round((((procTicks(c.pid) ?? 0) - before[i]) / TICKS_PER_SECOND / SECONDS) * 1000) / 10,
  );
  const byStage = Object.fromEntries(target.children.map((c, i) => [c.name, pct[i]]));
  const sum = Math.round(pct.reduce((a, b) => a + b, 0) * 10) / 10;
  say(JSON.stringify({ seconds: SECONDS, cpuPctOfOneCore: byStage, sum }));
  await target.close();
  await broker.stop();
}

main().catch((e: unknown) => {
  process.stderr.write(`${String((e as Error).stack ?? e)}\n`);
  process.exit(1);
});
