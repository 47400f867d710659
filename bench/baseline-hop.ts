/**
 * One hop of the baseline chain in its own process (the process layout of `npm run bench`):
 *   node --import tsx bench/baseline-hop.ts '{"brokers":[…],"prefix":…,"from":…,"to":…,
 *                                            "keepPartition":bool,"concurrency":n}'
 * Logs pino JSON to stdout ("baseline hop started" once consuming); SIGTERM stops it.
 */
import pino from 'pino';
import { loadConfig } from '../src/config/load';
import { createKafkaClient } from '../src/kafka';
import { startHop } from './baseline';

async function main() {
  const o = JSON.parse(process.argv[2] ?? '{}') as {
    brokers: string[];
    prefix: string;
    from: string;
    to: string;
    keepPartition: boolean;
    concurrency: number;
  };
  const logger = pino({ level: 'info', base: { pid: process.pid, hop: o.from } });
  const config = loadConfig({ env: {}, overrides: { kafka: { brokers: o.brokers } } });
  const kafka = createKafkaClient(config.kafka, logger);
  const close = await startHop(
    kafka,
    { from: o.from, to: o.to, partition: (p) => (o.keepPartition ? p : 0) },
    o.prefix,
    logger,
    o.concurrency,
  );
  logger.info('baseline hop started');
  const stop = () => {
    void close()
      .catch((err) => logger.error({ err }, 'baseline hop close failed'))
      .finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err) => {
  pino().fatal({ err }, 'baseline hop failed');
  process.exit(1);
});
