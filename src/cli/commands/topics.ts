import type { Command } from 'commander';
import { topicPrefix } from '../../config/load';
import {
  applyTopics,
  createKafkaClient,
  loadTopicDeclarations,
  DEFAULT_TOPICS_DIR,
} from '../../kafka';
import { rootLogger } from '../../logger';
import { addConfigFlags, configFromFlags } from '../config-flags';

export function registerTopics(program: Command): void {
  const topics = program.command('topics').description('Topic declarations (topics/*.json)');
  addConfigFlags(
    topics
      .command('apply')
      .description('Create missing topics, leave matching ones alone, refuse a mismatch')
      .option('--dir <dir>', 'directory of topic declarations', DEFAULT_TOPICS_DIR)
      .option('--replication-factor <n>', 'override every declared replication factor'),
  ).action(async (opts: Record<string, unknown>) => {
    const config = configFromFlags(opts);
    const kafka = createKafkaClient(config.kafka, rootLogger);
    const results = await applyTopics(kafka, loadTopicDeclarations(String(opts.dir)), {
      prefix: topicPrefix(config),
      replicationFactor: opts.replicationFactor ? Number(opts.replicationFactor) : undefined,
      logger: rootLogger,
    });
    for (const r of results) process.stdout.write(`${r.action.padEnd(10)} ${r.topic}\n`);
  });
}
