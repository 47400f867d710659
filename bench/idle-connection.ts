/**
 * What one idle kafkajs connection costs: connects a producer, waits 1 s, then counts the
 * request queue's pending-request checks and the process's CPU over SECONDS of no traffic.
 * Unpatched kafkajs 2.2.4 re-arms that check as a 1 ms timer forever (~900 a second);
 * patches/kafkajs+2.2.4.patch stops it (docs/performance.md, session 11).
 *
 *   npx tsx bench/idle-connection.ts [seconds]     (KAFKA_BROKERS, else a broker is started)
 */
import { loadConfig } from '../src/config/load';
import { createKafkaClient } from '../src/kafka';
import { acquireBroker } from '../src/kafka/broker';
import { rootLogger } from '../src/logger';

const SECONDS = Number(process.argv[2] ?? 5);

interface QueueProto {
  checkPendingRequests(this: unknown): void;
}

async function main(): Promise<void> {
  const logger = rootLogger.child({ bench: 'idle-connection' });
  logger.level = 'warn';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const proto = (require('kafkajs/src/network/requestQueue') as { prototype: QueueProto })
    .prototype;
  let checks = 0;
  const original = proto.checkPendingRequests;
  proto.checkPendingRequests = function (this: unknown) {
    checks++;
    original.call(this);
  };
  const broker = await acquireBroker({ logger });
  const config = loadConfig({ env: {}, overrides: { kafka: { brokers: broker.brokers } } });
  const producer = createKafkaClient(config.kafka, logger).producer();
  await producer.connect();
  await new Promise((r) => setTimeout(r, 1000));
  checks = 0;
  const before = process.cpuUsage();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const used = process.cpuUsage(before);
  process.stdout.write(
    `${JSON.stringify({ seconds: SECONDS, pendingChecks: checks, cpuMs: Math.round((used.user + used.system) / 1000) })}\n`,
  );
  await producer.disconnect();
  await broker.stop();
}

main().catch((err) => {
  rootLogger.fatal({ err }, 'idle-connection bench failed');
  process.exit(1);
});
