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
  duplicatesDropped: Counter<'stage'>;
  logHeadLid: Gauge<'stage'>;
  consumerLag: Gauge<'stage' | 'topic' | 'partition'>;
  appendLatency: Histogram<string>;
  transactionSeconds: Histogram<'stage'>;
  produceErrors: Counter<string>;
  replicationLagRecords: Gauge<'dc' | 'peer'>;
  replicationLagSeconds: Gauge<'dc' | 'peer'>;
}

/** One datacenter's lag toward one peer (see src/replication/lag-view.ts). */
export interface ReplicationLagSample {
  dc: number;
  peer: number;
  records: number;
  seconds: number;
}

type LagSource = () => Promise<ReplicationLagSample[]>;

/** Sources of the deferred-records gauge (each queue instance of the process registers one). */
const deferredSources = new Set<() => number>();
/** Sources of the replication-lag gauges (each admin server of a replicating datacenter). */
const lagSources = new Set<LagSource>();

/** Sets a lag gauge from every source at scrape time; labels of vanished peers go away. */
async function collectLag(gauge: Gauge<'dc' | 'peer'>, pick: (s: ReplicationLagSample) => number) {
  gauge.reset();
  for (const source of lagSources) {
    for (const s of await source().catch(() => []))
      gauge.set({ dc: String(s.dc), peer: String(s.peer) }, pick(s));
  }
}

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
    duplicatesDropped: counter({
      name: 'chariots_duplicates_dropped_total',
      help: 'Records a stage found already done and dropped (sequencer: released twice upstream; queue: a stale deferred entry of a record already in the log)',
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
    transactionSeconds: new Histogram({
      name: 'chariots_transaction_seconds',
      help: 'One consume-produce transaction of a stage, from its start to its commit',
      labelNames: ['stage'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
    produceErrors: counter({
      name: 'chariots_produce_errors_total',
      help: 'Produce requests the broker did not acknowledge (batching producer)',
    }),
    replicationLagRecords: new Gauge({
      name: 'chariots_replication_lag_records',
      help: "This datacenter's own records not yet forwarded to a peer, by datacenter and peer",
      labelNames: ['dc', 'peer'],
      registers: [registry],
      async collect() {
        await collectLag(this, (s) => s.records);
      },
    }),
    replicationLagSeconds: new Gauge({
      name: 'chariots_replication_lag_seconds',
      help: 'Age of the oldest own record not yet forwarded to a peer (0 when none)',
      labelNames: ['dc', 'peer'],
      registers: [registry],
      async collect() {
        await collectLag(this, (s) => s.seconds);
      },
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

/** Registers a source of the replication-lag gauges; returns its unregister function. */
export function addReplicationLagSource(f: LagSource): () => void {
  lagSources.add(f);
  return () => lagSources.delete(f);
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
  // Records of one request or batch share their receive time: parse each distinct one once.
  let last: string | undefined;
  let t = NaN;
  for (const r of receivedAt) {
    if (!r) continue;
    if (r !== last) {
      last = r;
      t = Date.parse(r);
    }
    if (Number.isFinite(t)) h.observe(Math.max(0, nowMs - t) / 1000);
  }
}
