import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type CounterConfiguration,
} from 'prom-client';

/**
 * Prometheus metrics: ONE registry per process (the stages of a process share it), with
 * Node's default process metrics. Served at `GET /metrics` on the HTTP API app and on the
 * admin server. Every metric is listed in docs/operations.md.
 */
export interface ChariotsMetrics {
  registry: Registry;
  recordsIn: Counter<'stage'>;
  recordsOut: Counter<'stage'>;
  deferredRecords: Gauge<string>;
  deadLetters: Counter<'stage'>;
  logHeadLid: Gauge<'stage'>;
  consumerLag: Gauge<'stage' | 'topic' | 'partition'>;
  appendLatency: Histogram<string>;
  produceErrors: Counter<string>;
}

/** Sources of the deferred-records gauge (each queue instance of the process registers one). */
const deferredSources = new Set<() => number>();

function create(): ChariotsMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const counter = <L extends string>(c: CounterConfiguration<L>) =>
    new Counter<L>({ ...c, registers: [registry] });
  return {
    registry,
    recordsIn: counter({
      name: 'chariots_records_in_total',
      help: 'Records a stage took in (committed input), by stage',
      labelNames: ['stage'],
    }),
    recordsOut: counter({
      name: 'chariots_records_out_total',
      help: 'Records a stage passed on (committed output), by stage',
      labelNames: ['stage'],
    }),
    deferredRecords: new Gauge({
      name: 'chariots_deferred_records',
      help: 'Records waiting in this process for their prerequisites (queue)',
      registers: [registry],
      collect() {
        let n = 0;
        for (const f of deferredSources) n += f();
        this.set(n);
      },
    }),
    deadLetters: counter({
      name: 'chariots_dead_letters_total',
      help: 'Records sent to the dead-letter topic (filter: invalid; queue: deferral timeout)',
      labelNames: ['stage'],
    }),
    logHeadLid: new Gauge({
      name: 'chariots_log_head_lid',
      help: 'Highest LId appended (sequencer) or stored in flstore (maintainer)',
      labelNames: ['stage'],
      registers: [registry],
    }),
    consumerLag: new Gauge({
      name: 'chariots_consumer_lag',
      help: 'Offsets behind the partition end as of the last batch this stage processed',
      labelNames: ['stage', 'topic', 'partition'],
      registers: [registry],
    }),
    appendLatency: new Histogram({
      name: 'chariots_append_latency_seconds',
      help: 'From receivedAt (batcher) to the commit of the record into the log (sequencer)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    produceErrors: counter({
      name: 'chariots_produce_errors_total',
      help: 'Produce requests the broker did not acknowledge (batching producer)',
    }),
  };
}

let instance: ChariotsMetrics | undefined;

/** The process's metrics, created on first use. */
export function metrics(): ChariotsMetrics {
  return (instance ??= create());
}

/** Prometheus text exposition of the process registry. */
export async function renderMetrics(): Promise<{ contentType: string; body: string }> {
  const m = metrics();
  return { contentType: m.registry.contentType, body: await m.registry.metrics() };
}

/** Registers a source of the deferred-records gauge; returns its unregister function. */
export function addDeferredSource(f: () => number): () => void {
  deferredSources.add(f);
  return () => deferredSources.delete(f);
}

/** A batch of `highWatermark`'s partition was processed up to `lastOffset`: set the lag. */
export function recordLag(
  stage: string,
  batch: { topic: string; partition: number; highWatermark: string },
  lastOffset: string,
): void {
  const lag = Number(BigInt(batch.highWatermark) - BigInt(lastOffset) - 1n);
  metrics().consumerLag.set(
    { stage, topic: batch.topic, partition: String(batch.partition) },
    Math.max(0, lag),
  );
}

/** Observes `receivedAt → now` for each appended record (ISO timestamps; bad ones skipped). */
export function observeAppendLatency(receivedAt: Iterable<string | undefined>, nowMs = Date.now()) {
  const h = metrics().appendLatency;
  for (const r of receivedAt) {
    if (!r) continue;
    const t = Date.parse(r);
    if (Number.isFinite(t)) h.observe(Math.max(0, nowMs - t) / 1000);
  }
}
