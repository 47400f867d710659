/**
 * The admin view and the metrics against the real broker: the running stages are listed
 * with their partitions, a batcher that stops heart-beating disappears within seconds,
 * lag is reported, and the Prometheus counters move under load.
 */
import type { AdminView } from '../../src/http/admin';
import { heartbeatTopic } from '../../src/http/admin';
import { startHeartbeat } from '../../src/kafka';
import { STAGE_METRICS } from '../../src/metrics/test-names';
import { runStages, type RunningStages } from '../../src/runtime/run-stages';
import type { BatcherHandle } from '../../src/stages/batcher';
import { sleep, testEnvironment, testLogger } from '../helpers/cluster';

const getJson = async <T>(url: string): Promise<T> => {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return (await res.json()) as T;
};

/** Sum of a metric's samples whose labels include `labels` (Prometheus text format). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{([^}]*)\})? ([^ ]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const ls = Object.fromEntries(
      [...(m[3] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((x) => [x[1], x[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => ls[k] === v)) {
      sum += Number(m[4]);
      found = true;
    }
  }
  return found ? sum : NaN;
}

async function until<T>(f: () => Promise<T>, ok: (t: T) => boolean, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  let last = await f();
  while (!ok(last) && Date.now() < deadline) {
    await sleep(300);
    last = await f();
  }
  return last;
}

describe('admin view and metrics', () => {
  let env: Awaited<ReturnType<typeof testEnvironment>>;
  let running: RunningStages;
  let second: RunningStages | undefined;
  let api: string;
  let admin: string;

  beforeAll(async () => {
    env = await testEnvironment('admin', { tcp: { enabled: false } });
    running = await runStages(
      env.config,
      ['batcher', 'filter', 'queue', 'sequencer', 'maintainer'],
      testLogger,
    );
    api = (running.handles.batcher as BatcherHandle).httpUrl;
    expect(running.admin?.url).toBeDefined();
    admin = running.admin!.url!;
  });
  afterAll(async () => {
    await second?.close();
    await running?.close();
  });

  const view = () => getJson<AdminView>(`${admin}/`);
  const post = (body: string) =>
    fetch(`${api}/record?wait=appended&timeout=30000`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });

  it('lists the running stages in GoChariots shape, with partitions', async () => {
    expect((await post('{"tags":{"admin":"first"}}')).status).toBe(200);
    const v = await until(view, (x) =>
      ['filter', 'queue', 'sequencer'].every((s) =>
        x.stages[s as 'filter']?.instances.some((i) => i.partitions.length > 0),
      ),
    );
    for (const k of ['apps', 'batchers', 'filters', 'queues', 'maintainers', 'indexers'])
      expect(Array.isArray((v as unknown as Record<string, unknown>)[k])).toBe(true);
    expect(v.remoteBatchers).toEqual([]);
    expect(v.stages.filter!.instances).toHaveLength(1);
    expect(v.stages.filter!.instances[0].partitions).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(v.stages.queue!.instances[0].partitions).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(v.stages.sequencer!.instances[0].partitions).toEqual([0]);
    expect(v.filters).toHaveLength(1);
    expect(v.queues).toHaveLength(1);
    expect(v.apps).toEqual([api.replace('http://', '')]);
    expect(v.stages.batcher!.instances).toHaveLength(1);
    expect(v.maintainers).toHaveLength(1);
    expect(typeof v.stages.filter!.lag).toBe('number');
  });

  it('serves Prometheus metrics on the API and the admin port, and they move under load', async () => {
    const scrape = async (base: string) => {
      const res = await fetch(`${base}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      return res.text();
    };
    const before = await scrape(api);
    for (const name of [
      ...STAGE_METRICS,
      'chariots_append_latency_seconds_bucket',
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ])
      expect(before).toContain(name);
    const n = 40;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) => post(`{"tags":{"load":"${i}"},"seed":${i % 5}}`)),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    const after = await until(
      () => scrape(admin),
      (t) =>
        sample(t, 'chariots_records_out_total', { stage: 'maintainer' }) -
          (sample(before, 'chariots_records_out_total', { stage: 'maintainer' }) || 0) >=
        n,
    );
    for (const stage of ['batcher', 'filter', 'queue', 'sequencer', 'maintainer']) {
      const delta =
        sample(after, 'chariots_records_in_total', { stage }) -
        (sample(before, 'chariots_records_in_total', { stage }) || 0);
      expect({ stage, delta: delta >= n }).toEqual({ stage, delta: true });
      const out =
        sample(after, 'chariots_records_out_total', { stage }) -
        (sample(before, 'chariots_records_out_total', { stage }) || 0);
      expect({ stage, out: out >= n }).toEqual({ stage, out: true });
    }
    expect(sample(after, 'chariots_log_head_lid', { stage: 'sequencer' })).toBeGreaterThanOrEqual(
      n + 1,
    );
    expect(sample(after, 'chariots_log_head_lid', { stage: 'maintainer' })).toBeGreaterThanOrEqual(
      n + 1,
    );
    expect(
      sample(after, 'chariots_append_latency_seconds_count') -
        (sample(before, 'chariots_append_latency_seconds_count') || 0),
    ).toBeGreaterThanOrEqual(n);
    expect(sample(after, 'chariots_consumer_lag', { stage: 'filter' })).toBeGreaterThanOrEqual(0);
  });

  it('counts deferred records', async () => {
    const r = await fetch(`${api}/record`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"tags":{"waits":"x"},"parent":"never-posted-parent"}',
    });
    expect(r.status).toBe(200);
    const text = await until(
      () => fetch(`${api}/metrics`).then((x) => x.text()),
      (t) => sample(t, 'chariots_deferred_records') >= 1,
    );
    expect(sample(text, 'chariots_deferred_records')).toBeGreaterThanOrEqual(1);
  });

  it('lists a second batcher, and drops it when it stops', async () => {
    second = await runStages(env.config, ['batcher'], testLogger);
    const url2 = (second.handles.batcher as BatcherHandle).httpUrl.replace('http://', '');
    let v = await until(view, (x) => x.apps.includes(url2));
    expect(v.apps).toHaveLength(2);
    await second.close();
    second = undefined;
    v = await until(view, (x) => !x.apps.includes(url2), 15000);
    expect(v.apps).toHaveLength(1);
  });

  it('drops a batcher that was killed (no goodbye) within ~10 s', async () => {
    const beat = await startHeartbeat(env.kafka, {
      topic: heartbeatTopic(env.config),
      id: 'batcher.killed-host.1',
      value: () => ({ stage: 'batcher', host: 'killed-host', url: 'http://killed-host:8080' }),
      intervalMs: 500,
      logger: testLogger,
    });
    await until(view, (x) => x.apps.includes('killed-host:8080'));
    await beat.stop({ tombstone: false }); // as if the process died
    const stoppedAt = Date.now();
    const v = await until(view, (x) => !x.apps.includes('killed-host:8080'), 20000);
    expect(v.apps).not.toContain('killed-host:8080');
    const took = Date.now() - stoppedAt;
    expect(took).toBeGreaterThan(5000); // it was not removed by a tombstone
    expect(took).toBeLessThan(13000);
  });

  it('reports lag of a stage that stopped consuming, and its instances disappear', async () => {
    await running.handles.filter!.close();
    await until(view, (x) => x.stages.filter!.instances.length === 0);
    const base = (await view()).stages.filter!.lag;
    const n = 25;
    for (let i = 0; i < n; i++) {
      const r = await fetch(`${api}/record`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"tags":{"lag":"${i}"}}`,
      });
      expect(r.status).toBe(200);
    }
    const v = await until(view, (x) => x.stages.filter!.lag >= base + n);
    expect(v.stages.filter!.lag).toBeGreaterThanOrEqual(base + n);
    expect(v.stages.filter!.instances).toEqual([]);
    expect(v.stages.filter!.groups![0].partitions.reduce((s, p) => s + p.lag, 0)).toBe(
      v.stages.filter!.lag,
    );
  });
});
