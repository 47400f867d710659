import {
  addDeferredSource,
  addReplicationLagSource,
  metrics,
  observeAppendLatency,
  recordLag,
  renderMetrics,
} from '.';
import { STAGE_METRICS } from './test-names';

describe('metrics', () => {
  it('is one registry per process with the default process metrics', async () => {
    expect(metrics()).toBe(metrics());
    const { body, contentType } = await renderMetrics();
    expect(contentType).toContain('text/plain');
    expect(body).toContain('process_cpu_user_seconds_total');
    for (const name of [
      ...STAGE_METRICS,
      'chariots_replication_lag_records',
      'chariots_replication_lag_seconds',
    ])
      expect(body).toContain(`# TYPE ${name}`);
  });

  it('sums the deferred sources at scrape time', async () => {
    const a = addDeferredSource(() => 3);
    const b = addDeferredSource(() => 4);
    expect((await renderMetrics()).body).toMatch(/^chariots_deferred_records 7$/m);
    a();
    b();
    expect((await renderMetrics()).body).toMatch(/^chariots_deferred_records 0$/m);
  });

  it('sets the lag from the high watermark and the last processed offset', async () => {
    recordLag('filter', { topic: 't.ingest', partition: 2, highWatermark: '110' }, '99');
    expect((await renderMetrics()).body).toContain(
      'chariots_consumer_lag{stage="filter",topic="t.ingest",partition="2"} 10',
    );
    recordLag('filter', { topic: 't.ingest', partition: 2, highWatermark: '100' }, '99');
    expect((await renderMetrics()).body).toContain(
      'chariots_consumer_lag{stage="filter",topic="t.ingest",partition="2"} 0',
    );
  });

  it('observes append latency from receivedAt, skipping bad timestamps', async () => {
    const now = Date.parse('2026-01-01T00:00:01.000Z');
    observeAppendLatency(['2026-01-01T00:00:00.000Z', 'garbage', undefined], now);
    const body = (await renderMetrics()).body;
    expect(body).toMatch(/^chariots_append_latency_seconds_count 1$/m);
    expect(body).toMatch(/^chariots_append_latency_seconds_sum 1$/m);
    expect(body).toMatch(/^chariots_append_latency_seconds_bucket\{le="0.5"\} 0$/m);
    expect(body).toMatch(/^chariots_append_latency_seconds_bucket\{le="1"\} 1$/m);
  });

  it('reads the replication lag per datacenter and peer at scrape time', async () => {
    let records = 12;
    const remove = addReplicationLagSource(async () => [
      { dc: 1, peer: 2, records, seconds: 3.5 },
      { dc: 1, peer: 3, records: 0, seconds: 0 },
    ]);
    let body = (await renderMetrics()).body;
    expect(body).toMatch(/^chariots_replication_lag_records\{dc="1",peer="2"\} 12$/m);
    expect(body).toMatch(/^chariots_replication_lag_seconds\{dc="1",peer="2"\} 3.5$/m);
    expect(body).toMatch(/^chariots_replication_lag_records\{dc="1",peer="3"\} 0$/m);
    records = 0;
    body = (await renderMetrics()).body;
    expect(body).toMatch(/^chariots_replication_lag_records\{dc="1",peer="2"\} 0$/m);
    remove();
    // A failing source and a removed one leave no stale series behind.
    const failing = addReplicationLagSource(async () => {
      throw new Error('broker down');
    });
    body = (await renderMetrics()).body;
    expect(body).not.toContain('chariots_replication_lag_records{');
    failing();
  });
});
