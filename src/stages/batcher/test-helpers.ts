import pino from 'pino';
import { loadConfig } from '../../config/load';
import { ChariotsError } from '../../errors';
import { Health } from '../../health';
import { createApp } from '../../http/app';
import type { StoreReader } from '../../flstore/types';
import type { IngestRecord } from '../../record';
import { ChangelogView } from './changelog-view';
import type { DeadLetterEntry, DeferredEntry } from './entries';
import { BATCHER_OPENAPI, registerBatcherRoutes } from './routes';
import type { AppendOutcome, RecordSink } from './sink';
import { AppendWaiters } from './waiters';

/**
 * The room accounting of a fake sink, as the producer's: room while nothing is pending, else
 * while the records and bytes stay under `share` of the capacities. Tests set the counters.
 */
export abstract class FakeSink implements RecordSink {
  pending = 0;
  capacity = 1000;
  pendingBytes = 0;
  capacityBytes = 1 << 30;

  hasRoom(records: number, share = 1): boolean {
    return (
      this.pending === 0 ||
      (this.pending + Math.max(records, 1) <= this.capacity * share &&
        this.pendingBytes <= this.capacityBytes * share)
    );
  }
  abstract append(records: IngestRecord[]): Promise<AppendOutcome[]>;
}

/** A sink that keeps what it is given; `fail` makes it answer like a broken/overloaded broker. */
export class MemorySink extends FakeSink {
  records: IngestRecord[] = [];
  fail: ((r: IngestRecord) => ChariotsError | null) | undefined;
  refuse: ChariotsError | undefined;

  async append(records: IngestRecord[]): Promise<AppendOutcome[]> {
    if (this.refuse) throw this.refuse;
    return records.map((r) => {
      const e = this.fail?.(r) ?? null;
      if (!e) this.records.push(r);
      return e;
    });
  }
}

/** The batcher's routes on a real fastify app, with in-memory dependencies (no broker). */
export async function buildTestApp(
  overrides: {
    bodyLimitBytes?: number;
    maxInflightBodyBytes?: number;
    /** The batcher's own OpenAPI setup (and an onRoute hook that sees every route). */
    openapi?: boolean;
    onRoute?: (r: { method: string | string[]; url: string; schema?: unknown }) => void;
    store?: StoreReader;
    /** Maintainers' read APIs the reads are forwarded to (batcher.readUrls). */
    readUrls?: string[];
    readTimeoutMs?: number;
    adminUrl?: () => string | undefined;
  } = {},
) {
  const config = loadConfig({ env: {}, overrides: { dcId: 3 } });
  const sink = new MemorySink();
  const waiters = new AppendWaiters();
  const deferred = new ChangelogView<DeferredEntry>();
  const deadletter = new ChangelogView<DeadLetterEntry>();
  const redriven: DeadLetterEntry[] = [];
  const app = createApp({
    logger: pino({ level: 'silent' }),
    health: new Health(),
    bodyLimitBytes: overrides.bodyLimitBytes ?? 1024 * 1024,
    openapi: overrides.openapi ? BATCHER_OPENAPI : undefined,
  });
  if (overrides.onRoute) app.addHook('onRoute', overrides.onRoute);
  await registerBatcherRoutes(app, {
    sink,
    waiters,
    dcId: config.dcId,
    limits: config.record,
    waitTimeoutMs: 1000,
    maxInflightBodyBytes: overrides.maxInflightBodyBytes,
    bodyLimitBytes: overrides.bodyLimitBytes ?? 1024 * 1024,
    deferred,
    deadletter,
    redrive: async (e) => {
      redriven.push(e);
    },
    store: overrides.store,
    forwardReads: overrides.readUrls
      ? { urls: overrides.readUrls, timeoutMs: overrides.readTimeoutMs ?? 5000 }
      : undefined,
    adminUrl: overrides.adminUrl,
  });
  await app.ready();
  return { app, sink, waiters, deferred, deadletter, redriven, config };
}
