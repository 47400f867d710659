import { ConfigResourceTypes, type Admin } from 'kafkajs';
import type { Logger } from '../logger';
import type { KafkaClient } from './client';
import { withAdmin, withRetry } from './retry';
import { TopicMismatchError, type TopicDeclaration } from './topics';

export interface TopicApplyResult {
  topic: string;
  action: 'created' | 'unchanged';
}

export interface ApplyOptions {
  prefix: string;
  /** >0 replaces every declaration's replication factor (a single-broker dev cluster needs 1). */
  replicationFactor?: number;
  logger?: Logger;
}

/**
 * The topics of `names` the cluster does not have. Stages check theirs at start: producing to
 * a topic that does not exist only retries forever inside kafkajs (a stalled pipeline with no
 * clear cause), e.g. after an upgrade that declares a new topic without `topics apply`.
 */
export async function missingTopics(
  kafka: KafkaClient,
  names: readonly string[],
  logger: Logger,
): Promise<string[]> {
  const existing = new Set(await withAdmin(kafka, 'list topics', (a) => a.listTopics(), logger));
  return names.filter((n) => !existing.has(n));
}

/**
 * Creates missing topics and checks existing ones against their declarations. It never
 * alters an existing topic: a mismatch (partition count, replication, a declared config)
 * is refused with every problem listed, because silently "fixing" a topic that stages
 * already use (e.g. adding partitions, which remaps seeds) could break causal order.
 */
export async function applyTopics(
  kafka: KafkaClient,
  declarations: TopicDeclaration[],
  options: ApplyOptions,
): Promise<TopicApplyResult[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const results: TopicApplyResult[] = [];
    const missing = declarations.filter((d) => !existing.has(options.prefix + d.name));
    const rf = (d: TopicDeclaration) =>
      options.replicationFactor && options.replicationFactor > 0
        ? options.replicationFactor
        : d.replicationFactor;
    if (missing.length > 0) {
      await withRetry('create topics', () =>
        admin.createTopics({
          waitForLeaders: false,
          topics: missing.map((d) => ({
            topic: options.prefix + d.name,
            numPartitions: d.partitions,
            replicationFactor: rf(d),
            configEntries: Object.entries(d.configs).map(([name, value]) => ({ name, value })),
          })),
        }),
      );
      // kafkajs's own waitForLeaders gives up on UNKNOWN_TOPIC_OR_PARTITION while the new
      // topics' metadata propagates; wait for every partition to have a leader ourselves.
      const names = missing.map((d) => options.prefix + d.name);
      await withRetry(
        'wait for topic leaders',
        async () => {
          const meta = await admin.fetchTopicMetadata({ topics: names });
          if (
            !meta.topics.every(
              (t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0),
            )
          ) {
            throw new Error('topic leaders not elected yet');
          }
        },
        options.logger,
        20,
      );
      for (const d of missing) {
        options.logger?.info(
          { topic: options.prefix + d.name, partitions: d.partitions },
          'topic created',
        );
        results.push({ topic: options.prefix + d.name, action: 'created' });
      }
    }
    const present = declarations.filter((d) => existing.has(options.prefix + d.name));
    const mismatches: TopicMismatchError[] = [];
    for (const d of present) {
      const problems = await compare(admin, options.prefix + d.name, d, rf(d));
      if (problems.length > 0)
        mismatches.push(new TopicMismatchError(options.prefix + d.name, problems));
      else results.push({ topic: options.prefix + d.name, action: 'unchanged' });
    }
    if (mismatches.length === 1) throw mismatches[0];
    if (mismatches.length > 1) {
      throw new TopicMismatchError(
        mismatches.map((m) => m.details?.topic).join(', '),
        mismatches.flatMap((m) =>
          (m.details?.problems as string[]).map((p) => `${m.details?.topic}: ${p}`),
        ),
      );
    }
    return results;
  } finally {
    await admin.disconnect();
  }
}

async function compare(
  admin: Admin,
  topic: string,
  d: TopicDeclaration,
  replicationFactor: number,
): Promise<string[]> {
  const problems: string[] = [];
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  const partitions = meta.topics[0]?.partitions ?? [];
  if (partitions.length !== d.partitions) {
    problems.push(
      `has ${partitions.length} partitions, declared ${d.partitions} (partitions cannot be changed in place: seeds would move; create a new prefix and migrate)`,
    );
  }
  const replicas = partitions[0]?.replicas.length ?? 0;
  if (partitions.length > 0 && replicas !== replicationFactor) {
    problems.push(`has replication factor ${replicas}, declared ${replicationFactor}`);
  }
  const names = Object.keys(d.configs);
  if (names.length > 0) {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: names }],
    });
    const entries = new Map(
      described.resources[0]?.configEntries.map((e) => [e.configName, e.configValue]) ?? [],
    );
    for (const [name, want] of Object.entries(d.configs)) {
      const have = entries.get(name);
      if (have !== want)
        problems.push(`config ${name} is "${have ?? '(unset)'}", declared "${want}"`);
    }
  }
  return problems;
}

/** Partition count of a topic, or undefined when it does not exist. */
export async function partitionCount(
  kafka: KafkaClient,
  topic: string,
): Promise<number | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(topic)) return undefined;
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    return meta.topics[0]?.partitions.length;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Readiness probe: one long-lived admin connection, so that polling /readyz does not open a
 * connection per request; a probe that times out counts as unreachable.
 */
export class BrokerProbe {
  private admin: Admin | undefined;
  constructor(private readonly kafka: KafkaClient) {}

  async reachable(timeoutMs = 3000): Promise<boolean> {
    const timer = new Promise<boolean>((res) => setTimeout(() => res(false), timeoutMs).unref());
    const probe = (async () => {
      try {
        if (!this.admin) {
          this.admin = this.kafka.admin();
          await this.admin.connect();
        }
        await this.admin.describeCluster();
        return true;
      } catch {
        const a = this.admin;
        this.admin = undefined;
        await a?.disconnect().catch(() => undefined);
        return false;
      }
    })();
    return Promise.race([probe, timer]);
  }

  async close(): Promise<void> {
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = undefined;
  }
}
