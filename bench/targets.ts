/**
 * What the bench drives, in either layout:
 *   processes (default) — every stage and every baseline hop in its own OS process, as
 *                         deployed; CPU and RSS are read per process;
 *   one                 — everything in the bench process (`chariots dev`'s layout).
 */
import type { Kafka } from 'kafkajs';
import type { ChariotsConfig } from '../src/config/schema';
import type { Logger } from '../src/logger';
import { runStages } from '../src/runtime/run-stages';
import { startBaseline } from './baseline';
import {
  baselineSpecs,
  freePort,
  PIPELINE_STAGES,
  stageSpecs,
  startAll,
  type BenchChild,
} from './processes';

export type Layout = 'processes' | 'one';

export interface RunningTarget {
  /** Child processes (processes layout); empty in the one-process layout. */
  children: BenchChild[];
  httpUrl?: string;
  tcpPort?: number;
  /** Prometheus endpoints by stage (processes layout: the queue's). */
  metricsUrl: Partial<Record<string, string>>;
  close(): Promise<void>;
}

type TopicSet = { ingest: string; filtered: string; released: string; log: string };

export async function startChariots(
  layout: Layout,
  o: {
    config: ChariotsConfig;
    logger: Logger;
    childLine: (who: string, line: string) => void;
    cpuProfDir?: (stage: string) => string;
  },
): Promise<RunningTarget> {
  const { config } = o;
  if (layout === 'one') {
    const stages = await runStages(config, [...PIPELINE_STAGES].reverse(), o.logger);
    const b = stages.handles.batcher as unknown as { httpUrl: string; tcpPort?: number };
    return {
      children: [],
      httpUrl: b.httpUrl,
      tcpPort: b.tcpPort,
      metricsUrl: stages.admin?.url ? { queue: `${stages.admin.url}/metrics` } : {},
      close: () => stages.close(),
    };
  }
  const httpPort = await freePort();
  const tcpPort = await freePort();
  const queueAdmin = await freePort();
  const all = await startAll(
    stageSpecs({
      prefix: config.topicPrefix,
      brokers: config.kafka.brokers,
      dataDir: config.dataDir,
      httpPort,
      tcpPort,
      logLevel: 'info',
      cpuProfDir: o.cpuProfDir,
      adminPorts: { queue: queueAdmin },
    }),
    o.childLine,
  );
  return {
    children: all.children,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    tcpPort,
    metricsUrl: { queue: `http://127.0.0.1:${queueAdmin}/metrics` },
    close: all.close,
  };
}

export async function startBaselineTarget(
  layout: Layout,
  o: {
    kafka: Kafka;
    topics: TopicSet;
    prefix: string;
    brokers: string[];
    concurrency: number;
    logger: Logger;
    childLine: (who: string, line: string) => void;
  },
): Promise<RunningTarget> {
  if (layout === 'one') {
    const b = await startBaseline(o.kafka, o.topics, o.prefix, o.logger, o.concurrency);
    return { children: [], metricsUrl: {}, close: () => b.close() };
  }
  const all = await startAll(baselineSpecs(o), o.childLine);
  return { children: all.children, metricsUrl: {}, close: all.close };
}
