/**
 * Several datacenters on one broker, told apart by topic prefix (`<base>dc<n>.`): how the
 * replication tests and bench:replication run them in one process.
 */
import { loadConfig, type DeepPartial } from '../../src/config/load';
import type { ChariotsConfig } from '../../src/config/schema';
import { applyTopics, loadTopicDeclarations, type KafkaClient } from '../../src/kafka';

export function datacenters(base: string, brokers: string[]) {
  const prefix = (dc: number) => `${base}dc${dc}.`;
  return {
    prefix,
    /** Datacenter `dc`'s config; `overrides` adds the test's own sections (peers, queue…). */
    configFor: (dc: number, overrides: DeepPartial<ChariotsConfig> = {}) =>
      loadConfig({
        env: {},
        overrides: {
          dcId: dc,
          topicPrefix: prefix(dc),
          log: { level: 'warn' },
          kafka: { brokers },
          ...overrides,
        },
      }),
    /** Replication peers: every other datacenter of `dcs`, reached at its own prefix. */
    peersOf: (dc: number, dcs: number[]) =>
      dcs.filter((d) => d !== dc).map((d) => `${d}@${prefix(d)}`),
    /** Creates every topic of each of `dcs`. */
    applyTopics: async (kafka: KafkaClient, dcs: number[]) => {
      for (const dc of dcs)
        await applyTopics(kafka, loadTopicDeclarations(), {
          prefix: prefix(dc),
          replicationFactor: 1,
        });
    },
  };
}
