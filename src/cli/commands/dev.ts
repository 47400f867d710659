import type { Command } from 'commander';
import { topicPrefix } from '../../config/load';
import { applyTopics, createKafkaClient, loadTopicDeclarations } from '../../kafka';
import { acquireBroker } from '../../kafka/broker';
import { rootLogger } from '../../logger';
import { runStages } from '../../runtime/run-stages';
import { STAGE_NAMES } from '../../stages/types';
import { addConfigFlags, configFromFlags } from '../config-flags';
import { onShutdown } from '../shutdown';

export function registerDev(program: Command): void {
  addConfigFlags(
    program
      .command('dev')
      .description(
        'Everything in one process: a local broker (unless KAFKA_BROKERS is set), topics, every stage',
      ),
  ).action(async (opts: Record<string, unknown>) => {
    let config = configFromFlags(opts);
    rootLogger.level = config.log.level;
    const logger = rootLogger.child({ component: 'dev' });
    let broker: { brokers: string[]; stop(): Promise<void> } | undefined;
    if (config.kafka.brokers.length === 0) {
      broker = await acquireBroker({ logger, onProgress: (msg) => logger.info(msg) });
      config = configFromFlags(opts, { kafka: { brokers: broker.brokers } });
    }
    const stopBroker = async () => {
      await broker?.stop();
    };
    try {
      const kafka = createKafkaClient(config.kafka, rootLogger);
      await applyTopics(kafka, loadTopicDeclarations(), {
        prefix: topicPrefix(config),
        replicationFactor: 1,
        logger,
      });
      const running = await runStages(config, [...STAGE_NAMES], rootLogger);
      logger.info(
        { brokers: config.kafka.brokers, http: config.http.port, tcp: config.tcp.port },
        'chariots dev is up',
      );
      onShutdown(rootLogger, async () => {
        await running.close();
        await stopBroker();
      });
    } catch (e) {
      await stopBroker();
      throw e;
    }
  });
}
