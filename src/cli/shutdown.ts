import type { Logger } from '../logger';

/**
 * First SIGINT/SIGTERM: graceful close (drain, commit, disconnect). A second signal, or a
 * close that takes longer than `graceMs`, exits at once: an operator's second Ctrl-C wins.
 */
export function onShutdown(logger: Logger, close: () => Promise<void>, graceMs = 30000): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ graceMs }, 'graceful shutdown timed out; exiting');
      process.exit(1);
    }, graceMs);
    timer.unref();
    close().then(
      () => process.exit(0),
      (e) => {
        logger.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
