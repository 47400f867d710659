import type { Logger } from 'pino';
import { ChariotsError } from '../../errors';
import { rootLogger } from '../../logger';
import { dockerReachable, startRedpanda } from './docker';
import { defaultCacheDir, ensureKafkaJars } from './jars';
import { startKafkaFromJars } from './kafka-process';
import { hasTool } from './tools';

export type BrokerKind = 'env' | 'redpanda' | 'kafka-jars';

export interface AcquiredBroker {
  /** host:port bootstrap addresses for kafkajs. */
  brokers: string[];
  kind: BrokerKind;
  /** Stops what acquireBroker started (a no-op for KAFKA_BROKERS). Idempotent. */
  stop(): Promise<void>;
}

export interface AcquireOptions {
  logger?: Logger;
  /** Where fetched Kafka jars live; default CHARIOTS_CACHE_DIR, else <repo>/.cache. */
  cacheDir?: string;
  /** Human-readable progress for slow steps (first jar fetch, broker start). */
  onProgress?: (msg: string) => void;
  /** How long a jar-started broker may take to answer; default 120 s (slow CI). */
  readyTimeoutMs?: number;
}

/**
 * Finds or starts the broker every integration test and `chariots dev` talks to (SPEC §6):
 * KAFKA_BROKERS if set, else Redpanda in Docker where an engine answers, else a single-node
 * Apache Kafka (KRaft) from Maven-fetched jars. CHARIOTS_BROKER=redpanda|kafka-jars forces
 * one route (to test the jar route on a Docker machine, say).
 */
export async function acquireBroker(opts: AcquireOptions = {}): Promise<AcquiredBroker> {
  const logger = (opts.logger ?? rootLogger).child({ component: 'broker' });
  const progress = (msg: string): void =>
    opts.onProgress ? opts.onProgress(msg) : logger.info(msg);

  const env = (process.env.KAFKA_BROKERS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (env.length > 0) {
    logger.debug({ brokers: env }, 'using KAFKA_BROKERS');
    return { brokers: env, kind: 'env', stop: async () => undefined };
  }

  const forced = process.env.CHARIOTS_BROKER || 'auto';
  if (!['auto', 'redpanda', 'kafka-jars'].includes(forced)) {
    throw new ChariotsError(
      'CHARIOTS_ERR_BAD_CONFIG',
      `CHARIOTS_BROKER=${forced}: use auto, redpanda or kafka-jars`,
    );
  }
  const missing: string[] = [];

  if (forced !== 'kafka-jars') {
    if (await dockerReachable()) {
      try {
        progress('starting Redpanda in Docker');
        const t0 = Date.now();
        const rp = await startRedpanda(logger);
        logger.info({ brokers: rp.brokers, ms: Date.now() - t0 }, 'redpanda ready');
        return { brokers: rp.brokers, kind: 'redpanda', stop: once(rp.stop) };
      } catch (e) {
        if (forced === 'redpanda')
          throw noBroker(`Redpanda container failed to start: ${String(e)}`, e);
        logger.warn({ err: e }, 'redpanda failed to start; trying Kafka from jars');
        missing.push(`Redpanda in Docker failed (${(e as Error).message})`);
      }
    } else {
      missing.push(
        `Docker engine not reachable (${process.env.DOCKER_HOST || '/var/run/docker.sock'})`,
      );
      if (forced === 'redpanda') throw noBroker(missing.join('; '));
    }
  }

  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  if (!(await hasTool('java', ['-version']))) {
    missing.push('Java not on PATH (install a JDK/JRE 17+)');
    if (!(await hasTool('mvn', ['-v']))) missing.push('Maven (mvn) not on PATH');
    throw noBroker(missing.join('; '));
  }
  try {
    const t0 = Date.now();
    const dist = await ensureKafkaJars({ cacheDir, logger, onProgress: progress }).catch(
      async (e) => {
        if (!(await hasTool('mvn', ['-v'])))
          throw noBroker([...missing, 'Maven (mvn) not on PATH'].join('; '), e);
        throw e;
      },
    );
    progress(`starting Apache Kafka ${dist.version} (KRaft, from jars)`);
    const t1 = Date.now();
    const k = await startKafkaFromJars(dist, { logger, readyTimeoutMs: opts.readyTimeoutMs });
    logger.info(
      {
        brokers: k.brokers,
        version: dist.version,
        fetchMs: t1 - t0,
        startMs: Date.now() - t1,
        dataDir: k.dataDir,
      },
      'kafka ready',
    );
    return { brokers: k.brokers, kind: 'kafka-jars', stop: once(k.stop) };
  } catch (e) {
    if (e instanceof ChariotsError) throw e;
    throw noBroker(`starting Kafka from jars failed: ${(e as Error).message}`, e);
  }
}

function noBroker(why: string, cause?: unknown): ChariotsError {
  return new ChariotsError(
    'CHARIOTS_ERR_NO_BROKER',
    `No Kafka broker available: KAFKA_BROKERS is not set; ${why}. ` +
      'Fix: set KAFKA_BROKERS=host:port[,host:port] to use a running Kafka/Redpanda, ' +
      'or start a Docker engine, or install Java 17+ and Maven (the broker is then started from jars).',
    { cause },
  );
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= fn());
}
