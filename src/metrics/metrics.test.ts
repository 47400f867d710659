import { addDeferredSource, metrics, observeAppendLatency, recordLag, renderMetrics } from '.';

describe('metrics', () => {
  it('is one registry per process with the default process metrics', async () => {
    expect(metrics()).toBe(metrics());
    const { body, contentType } = await renderMetrics();
    expect(contentType).toContain('text/plain');
    expect(body).toContain('process_cpu_user_seconds_total');
    for (const name of [
      'chariots_records_in_total',
      'chariots_records_out_total',
      'chariots_deferred_records',
      'chariots_dead_letters_total',
      'chariots_log_head_lid',
      'chariots_consumer_lag',
      'chariots_append_latency_seconds',
      'chariots_produce_errors_total',
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
});
