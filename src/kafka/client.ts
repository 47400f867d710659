import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import type { ChariotsConfig } from '../config/schema';
import { ChariotsError, ConfigError } from '../errors';
import type { Logger } from '../logger';
import { assertKafkajsPatched } from './kafkajs-patch';

export type KafkaClient = Kafka;

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

const CONCURRENT_TRANSACTIONS = /another concurrent operation on the same transaction/;

/**
 * The pino level of a kafkajs log entry. kafkajs is chatty at INFO about every join/leave;
 * those become debug so a healthy stage's log stays quiet. So do known, understood warnings:
 * the partitioner notice (we rely on the Java-compatible default), the retry-limit notice (a
 * failed idempotent send is answered 503 and the client's retry with the same id is
 * deduplicated by the filter), and CONCURRENT_TRANSACTIONS — the previous transaction still
 * completing on the coordinator, retried by the patched kafkajs — which kafkajs' Connection
 * logs at ERROR with the broker's text in `error`, not in the message: ~1 700–3 900 "error"
 * lines per bench invocation until session 11.
 */
export function kafkajsLogLevel(
  level: number,
  message: string,
  error?: unknown,
): 'error' | 'warn' | 'info' | 'debug' {
  const quiet =
    level === logLevel.INFO ||
    /default partitioner|Limiting retries/.test(message) ||
    CONCURRENT_TRANSACTIONS.test(message) ||
    (typeof error === 'string' && CONCURRENT_TRANSACTIONS.test(error));
  return quiet ? 'debug' : (LEVELS[level] ?? 'debug');
}

/** kafkajs logs go through our pino logger (child `{component:'kafkajs'}`). */
function pinoLogCreator(logger: Logger) {
  const log = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, label: _label, log: entry, namespace }: LogEntry) => {
      const { message, ...rest } = entry;
      log[kafkajsLogLevel(level, message, rest.error)]({ namespace, ...rest }, message);
    };
}

function sasl(cfg: ChariotsConfig['kafka']): SASLOptions | undefined {
  if (cfg.saslMechanism === 'none') return undefined;
  return {
    mechanism: cfg.saslMechanism,
    username: cfg.saslUsername,
    password: cfg.saslPassword,
  } as SASLOptions;
}

/** `kafka.ssl` plus the optional CA / client certificate files (read once, at start). */
export function tlsOptions(cfg: ChariotsConfig['kafka']): boolean | ConnectionOptions {
  const files = { ca: cfg.sslCaFile, cert: cfg.sslCertFile, key: cfg.sslKeyFile };
  if (!files.ca && !files.cert && !files.key) return cfg.ssl;
  if (!files.cert !== !files.key)
    throw new ConfigError('kafka.sslCertFile and kafka.sslKeyFile go together');
  const read = (option: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (e) {
      throw new ConfigError(`cannot read ${option} ${path}: ${(e as Error).message}`, { option });
    }
  };
  return {
    ...(files.ca ? { ca: [read('kafka.sslCaFile', files.ca)] } : {}),
    ...(files.cert ? { cert: read('kafka.sslCertFile', files.cert) } : {}),
    ...(files.key ? { key: read('kafka.sslKeyFile', files.key) } : {}),
  };
}

export function createKafkaClient(
  cfg: ChariotsConfig['kafka'],
  logger: Logger,
  clientSuffix = '',
): KafkaClient {
  assertKafkajsPatched();
  if (cfg.brokers.length === 0) {
    throw new ChariotsError(
      'CHARIOTS_ERR_NO_BROKER',
      'no Kafka brokers configured: set KAFKA_BROKERS (or --kafka-brokers / CHARIOTS_KAFKA_BROKERS), or use `chariots dev` for an embedded broker',
    );
  }
  const config: KafkaConfig = {
    clientId: clientSuffix ? `${cfg.clientId}-${clientSuffix}` : cfg.clientId,
    brokers: [...cfg.brokers],
    connectionTimeout: cfg.connectionTimeoutMs,
    requestTimeout: cfg.requestTimeoutMs,
    ssl: tlsOptions(cfg),
    sasl: sasl(cfg),
    logLevel: logLevel.INFO,
    logCreator: pinoLogCreator(logger),
    retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 5000 },
  };
  return new Kafka(config);
}
