import pino, { type Logger } from 'pino';

/**
 * The one root logger. Stages take `rootLogger.child({ stage })`; per-batch work binds
 * `{ topic, partition, offset }` and per-request work `{ reqId }`. JSON to stdout always:
 * humans pipe through `pino-pretty`.
 */
export const rootLogger: Logger = pino({
  level: process.env.CHARIOTS_LOG_LEVEL ?? process.env.LOG_LEVEL ?? 'info',
  base: { pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
});

export function stageLogger(stage: string): Logger {
  return rootLogger.child({ stage });
}

export type { Logger };
