import type { Command } from 'commander';
import { topicPrefix } from '../../config/load';
import type { ChariotsConfig } from '../../config/schema';
import { ConfigError } from '../../errors';
import { applyTopics, createKafkaClient, loadTopicDeclarations } from '../../kafka';
import { acquireBroker } from '../../kafka/broker';
import { rootLogger } from '../../logger';
import { runStages, type RunningStages } from '../../runtime/run-stages';
import { STAGE_NAMES } from '../../stages/types';
import { addConfigFlags, configFromFlags } from '../config-flags';
import { onShutdown } from '../shutdown';

/**
 * With `--dcs N`, datacenter i (1..N) gets dcId i, topic prefix `dc<i>.` on the same broker,
 * every other datacenter as a replication peer, and its ports shifted by 10·(i-1)
 * (HTTP 8080, 8090, …; TCP 9000, 9010, …).
 */
function datacenterOverrides(base: Readonly<ChariotsConfig>, dc: number, dcs: number) {
  const shift = (p: number) => (p === 0 ? 0 : p + 10 * (dc - 1));
  return {
    dcId: dc,
    topicPrefix: `dc${dc}.`,
    http: { port: shift(base.http.port), adminPort: shift(base.http.adminPort) },
    tcp: { port: shift(base.tcp.port) },
    maintainer: { port: shift(base.maintainer.port) },
    replication: {
      peers: Array.from({ length: dcs }, (_, i) => i + 1)
        .filter((d) => d !== dc)
        .map((d) => `${d}@dc${d}.`),
    },
  };
}

export function registerDev(program: Command): void {
  addConfigFlags(
    program
      .command('dev')
      .description(
        'Everything in one process: a local broker (unless KAFKA_BROKERS is set), topics, every stage',
      )
      .option(
        '--dcs <n>',
        'run N datacenters replicating to each other (topic prefixes dc1., dc2., …)',
        '1',
      ),
  ).action(async (opts: Record<string, unknown>) => {
    const dcs = Number(opts.dcs);
    if (!Number.isInteger(dcs) || dcs < 1 || dcs > 9)
      throw new ConfigError(`--dcs must be 1..9, got ${String(opts.dcs)}`);
    let config = configFromFlags(opts);
    rootLogger.level = config.log.level;
    const logger = rootLogger.child({ component: 'dev' });
    let broker: { brokers: string[]; stop(): Promise<void> } | undefined;
    if (config.kafka.brokers.length === 0) {
      broker = await acquireBroker({ logger, onProgress: (msg) => logger.info(msg) });
      config = configFromFlags(opts, { kafka: { brokers: broker.brokers } });
    }
    const running: RunningStages[] = [];
    const stopAll = async () => {
      for (const r of running.reverse()) await r.close();
      await broker?.stop();
    };
    try {
      const kafka = createKafkaClient(config.kafka, rootLogger);
      for (let dc = 1; dc <= dcs; dc++) {
        const dcConfig =
          dcs === 1
            ? config
            : configFromFlags(opts, {
                kafka: { brokers: [...config.kafka.brokers] },
                ...datacenterOverrides(config, dc, dcs),
              });
        await applyTopics(kafka, loadTopicDeclarations(), {
          prefix: topicPrefix(dcConfig),
          replicationFactor: 1,
          logger,
        });
        running.push(
          await runStages(dcConfig, [...STAGE_NAMES], rootLogger.child({ dc: dcConfig.dcId })),
        );
        logger.info(
          {
            dc: dcConfig.dcId,
            prefix: topicPrefix(dcConfig),
            http: dcConfig.http.port,
            tcp: dcConfig.tcp.port,
          },
          'datacenter up',
        );
      }
      logger.info({ brokers: config.kafka.brokers, datacenters: dcs }, 'chariots dev is up');
      onShutdown(rootLogger, stopAll);
    } catch (e) {
      await stopAll();
      throw e;
    }
  });
}
