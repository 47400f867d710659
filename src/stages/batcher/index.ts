import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { ChariotsError } from '../../errors';
import { clientLimits, createApp } from '../../http/app';
import { authFromConfig } from '../../http/auth';
import { BatchingProducer, TransactionalProducer } from '../../kafka';
import type { StageContext, StageHandle } from '../types';
import {
  parseDeadLetterEntry,
  parseDeferredEntry,
  type DeadLetterEntry,
  type DeferredEntry,
} from './entries';
import { LazyChangelogView } from './lazy-changelog';
import { LogWaiterFeed } from './log-waiter-feed';
import { redriveMessages } from './redrive';
import { BATCHER_OPENAPI, registerBatcherRoutes } from './routes';
import { ProducerSink, type RecordSink } from './sink';
import { metrics } from '../../metrics';
import { LoopLag } from './loop-lag';
import { TcpIngest } from './tcp';
import { AppendWaiters } from './waiters';

export interface BatcherHandle extends StageHandle {
  app: FastifyInstance;
  /** The bound HTTP address (useful when port 0 was asked for). */
  httpUrl: string;
  /** The bound raw TCP port; undefined when tcp.enabled is false. */
  tcpPort?: number;
}

/**
 * The batcher is what clients talk to (GoChariots' "app" + "batcher"): the HTTP API and the
 * raw TCP ingest, both producing to the ingest topic through ONE batching producer, plus
 * the views of deferred and dead-lettered records and their re-drive.
 */
export async function start(ctx: StageContext): Promise<BatcherHandle> {
  const logger = ctx.logger.child({ stage: 'batcher' });
  const { config, kafka, topics } = ctx;
  const cleanup: Array<() => Promise<unknown>> = [];
  const closeAll = async () => {
    for (const f of cleanup.splice(0).reverse())
      await f().catch((e: unknown) => logger.warn({ err: e }, 'batcher close step failed'));
  };
  let ready = false;
  ctx.health.register('batcher', () => ready);
  // Runs in reverse: stop accepting (TCP, HTTP), flush the producer, then stop reading.
  try {
    const producer = new BatchingProducer(kafka, {
      lingerMs: config.batcher.lingerMs,
      maxBatchMessages: config.batcher.maxBatchRecords,
      maxPending: config.batcher.maxPendingRecords,
      maxPendingBytes: config.batcher.maxPendingBytes,
      ackTimeoutMs: config.batcher.ackTimeoutMs,
      logger,
    });
    await producer.connect();
    cleanup.push(() => producer.close());
    const producerSink = new ProducerSink(
      producer,
      topics.ingest,
      config.batcher.maxPendingRecords,
      config.batcher.maxPendingBytes,
    );
    // While the loop lags, no new work is taken in (TCP pauses, HTTP gets 429): loop-lag.ts.
    const loopLag = new LoopLag(config.batcher.maxEventLoopDelayMs);
    cleanup.push(async () => loopLag.close());
    // Counted for metrics: records taken in, and those the broker acknowledged (out).
    const sink: RecordSink = {
      get pending() {
        return producerSink.pending;
      },
      get pendingBytes() {
        return producerSink.pendingBytes;
      },
      capacity: producerSink.capacity,
      capacityBytes: producerSink.capacityBytes,
      hasRoom: (records, share) => !loopLag.lagging(share) && producerSink.hasRoom(records, share),
      whyFull: () =>
        loopLag.lagging()
          ? `the batcher's event loop lags ${Math.round(loopLag.delayMs)} ms`
          : `the broker is not keeping up (${producerSink.pending} records waiting)`,
      append: async (records) => {
        const outcomes = await producerSink.append(records);
        metrics().recordsIn.inc({ stage: 'batcher' }, records.length);
        metrics().recordsOut.inc({ stage: 'batcher' }, outcomes.filter((o) => !o).length);
        return outcomes;
      },
    };

    const waiters = new AppendWaiters();
    const deferred = new LazyChangelogView<DeferredEntry>(
      kafka,
      topics.deferred,
      parseDeferredEntry,
      logger,
    );
    const deadletter = new LazyChangelogView<DeadLetterEntry>(
      kafka,
      topics.deadletter,
      parseDeadLetterEntry,
      logger,
    );
    const waitFeed = new LogWaiterFeed(kafka, topics.logkeys, waiters, logger);
    cleanup.push(() => Promise.all([waitFeed.close(), deferred.close(), deadletter.close()]));

    const app = createApp({
      logger,
      health: ctx.health,
      bodyLimitBytes: config.http.bodyLimitBytes,
      auth: authFromConfig(config, logger),
      clients: clientLimits(config.http),
      openapi: BATCHER_OPENAPI,
    });
    // A stable transactional id per instance lets a restart fence (abort) a transaction
    // its crashed predecessor left open; host + HTTP port is unique per running instance.
    const redriver = new TransactionalProducer(kafka, {
      transactionalId: `${topics.deadletter}.redrive.${hostname()}.${config.http.port}`,
      logger,
    });
    cleanup.push(() => redriver.close());
    void redriver
      .connect()
      .catch((e: unknown) =>
        logger.warn({ err: e }, 're-drive producer not connected yet; will retry on first use'),
      );

    await registerBatcherRoutes(app, {
      sink,
      waiters,
      waitReady: () => waitFeed.ready(),
      dcId: config.dcId,
      limits: config.record,
      waitTimeoutMs: config.batcher.waitTimeoutMs,
      maxInflightBodyBytes: config.batcher.maxInflightBodyBytes,
      bodyLimitBytes: config.http.bodyLimitBytes,
      deferred,
      deadletter,
      redrive: (entry) => redriver.send(redriveMessages(entry.id, entry.record!, topics)),
      store: ctx.shared?.flstore,
      forwardReads: { urls: config.batcher.readUrls, timeoutMs: config.batcher.readTimeoutMs },
      adminUrl: () => ctx.shared?.adminUrl,
    });
    if (ctx.shared?.flstore && config.batcher.readUrls.length > 0)
      logger.info('batcher.readUrls unused: the maintainer in this process serves the reads');
    else if (config.batcher.readUrls.length > 0)
      logger.info({ readUrls: config.batcher.readUrls }, 'read routes forwarded to maintainers');
    if (config.http.enabled) {
      await app.listen({ host: config.http.host, port: config.http.port });
    } else {
      await app.ready();
    }
    cleanup.push(() => app.close());
    // Before app.close(), which waits for in-flight requests: waiting ones answer at once.
    cleanup.push(async () =>
      waiters.rejectAll(
        new ChariotsError(
          'CHARIOTS_ERR_SHUTTING_DOWN',
          'the batcher is shutting down; the record was accepted and will be appended',
        ),
      ),
    );
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.http.port;
    const httpUrl = `http://${config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host}:${port}`;
    if (config.http.enabled) logger.info({ url: httpUrl }, 'HTTP API listening');

    let tcp: TcpIngest | undefined;
    if (config.tcp.enabled) {
      tcp = new TcpIngest({
        ...config.tcp,
        sink,
        dcId: config.dcId,
        limits: config.record,
        logger,
      });
      await tcp.listen();
      // Closed before the HTTP app (cleanup runs in reverse) so its last records still reach the producer.
      cleanup.push(() => tcp!.close());
      logger.info({ host: config.tcp.host, port: tcp.port }, 'TCP ingest listening');
    }

    ready = true;
    logger.info('batcher ready');

    let closing: Promise<void> | undefined;
    return {
      app,
      httpUrl,
      tcpPort: tcp?.port,
      close: () =>
        (closing ??= (async () => {
          ready = false;
          ctx.health.unregister('batcher');
          await closeAll();
        })()),
    };
  } catch (e) {
    ctx.health.unregister('batcher');
    await closeAll();
    throw e;
  }
}
