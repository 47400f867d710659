import { ChariotsError } from '../../errors';
import { buildTestApp } from './test-helpers';

type App = Awaited<ReturnType<typeof buildTestApp>>['app'];
type Answer = Awaited<ReturnType<App['inject']>>;

/** Without a content type, no header is sent (the lenient cases). */
const post = (app: App, url: string, payload: string | Buffer, contentType?: string) =>
  app.inject({
    method: 'POST',
    url,
    payload,
    headers: contentType ? { 'content-type': contentType } : {},
  });
const postJson = (app: App, url: string, payload: string | Buffer) =>
  post(app, url, payload, 'application/json');

/** An error answer: `status` with the body's `error.code`. */
function expectError(res: Answer, status: number, code: string): void {
  expect(res.statusCode).toBe(status);
  expect(res.json().error.code).toBe(code);
}

describe('POST /record', () => {
  it("accepts GoChariots' curl body unchanged and assigns id, host and receivedAt", async () => {
    const { app, sink } = await buildTestApp();
    const res = await postJson(app, '/record', '{"tags":{"key":"value"},"prehash":0,"seed":0}');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body)).toEqual(['id']);
    expect(sink.records).toHaveLength(1);
    const r = sink.records[0];
    expect(r).toMatchObject({
      id: body.id,
      host: 3,
      seed: '0',
      prehash: [],
      parent: [],
      tags: { key: 'value' },
    });
    expect(new Date(r.receivedAt).toISOString()).toBe(r.receivedAt);
  });

  it('keeps uint64 seed and prehash exact (no JSON.parse on the way)', async () => {
    const { app, sink } = await buildTestApp();
    const res = await postJson(
      app,
      '/record',
      '{"tags":{},"seed":18446744073709551615,"prehash":9489172654252433228,"id":"x1","host":2}',
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: 'x1' });
    expect(sink.records[0]).toMatchObject({
      id: 'x1',
      host: 2,
      seed: '18446744073709551615',
      prehash: ['9489172654252433228'],
    });
  });

  it.each([
    ['text/plain'],
    ['application/x-www-form-urlencoded'],
    ['application/octet-stream'],
    [undefined],
  ])('accepts content type %s leniently', async (ct) => {
    const { app, sink } = await buildTestApp();
    const res = await post(app, '/record', '{"tags":{"a":"b"}}', ct);
    expect(res.statusCode).toBe(200);
    expect(sink.records).toHaveLength(1);
  });

  it.each([
    ['{"tags":', 'CHARIOTS_ERR_BAD_JSON', 400],
    ['', 'CHARIOTS_ERR_BAD_JSON', 400],
    ['{"tags":{},"seed":-1}', 'CHARIOTS_ERR_BAD_SEED', 400],
    ['{"tags":{},"seed":18446744073709551616}', 'CHARIOTS_ERR_BAD_SEED', 400],
    ['{"tags":{},"prehash":"x"}', 'CHARIOTS_ERR_BAD_HASH', 400],
    ['[1,2]', 'CHARIOTS_ERR_BAD_RECORD', 400],
    ['{"tags":{"k":1}}', 'CHARIOTS_ERR_BAD_TAGS', 400],
    [
      JSON.stringify({
        tags: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, 'v'])),
      }),
      'CHARIOTS_ERR_TOO_MANY_TAGS',
      400,
    ],
  ])('refuses %s with %s', async (payload, code, status) => {
    const { app, sink } = await buildTestApp();
    const res = await postJson(app, '/record', payload);
    expectError(res, status, code);
    expect(typeof res.json().error.message).toBe('string');
    expect(sink.records).toHaveLength(0);
  });

  it('refuses an oversized body with 413 CHARIOTS_ERR_BODY_TOO_LARGE', async () => {
    const { app } = await buildTestApp({ bodyLimitBytes: 2048 });
    const res = await postJson(app, '/record', JSON.stringify({ tags: { k: 'v'.repeat(5000) } }));
    expectError(res, 413, 'CHARIOTS_ERR_BODY_TOO_LARGE');
  });

  it('maps a broker failure to 503 with Retry-After, and overload to 429 with Retry-After', async () => {
    const { app, sink } = await buildTestApp();
    sink.fail = () => new ChariotsError('CHARIOTS_ERR_BROKER_UNAVAILABLE', 'down');
    let res = await postJson(app, '/record', '{"tags":{}}');
    expectError(res, 503, 'CHARIOTS_ERR_BROKER_UNAVAILABLE');
    expect(res.headers['retry-after']).toBeDefined();
    sink.refuse = new ChariotsError('CHARIOTS_ERR_OVERLOADED', 'busy');
    res = await postJson(app, '/record', '{"tags":{}}');
    expectError(res, 429, 'CHARIOTS_ERR_OVERLOADED');
    expect(res.headers['retry-after']).toBeDefined();
  });

  it('?wait=appended answers with the lid once the log has the record', async () => {
    const { app, waiters } = await buildTestApp();
    const pending = postJson(app, '/record?wait=appended&timeout=5000', '{"id":"w1","tags":{}}');
    while (waiters.size === 0) await new Promise((r) => setImmediate(r));
    waiters.appended('w1', 42);
    const res = await pending;
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: 'w1', lid: 42 });
  });

  it('?wait=appended times out with 504 CHARIOTS_ERR_TIMEOUT saying the record was accepted', async () => {
    const { app, sink, waiters } = await buildTestApp();
    const res = await postJson(app, '/record?wait=appended&timeout=50', '{"id":"w2","tags":{}}');
    expectError(res, 504, 'CHARIOTS_ERR_TIMEOUT');
    expect(res.json().error.message).toMatch(/accepted/);
    expect(sink.records).toHaveLength(1);
    expect(waiters.size).toBe(0);
  });

  it('refuses a bad wait or timeout with CHARIOTS_ERR_BAD_QUERY', async () => {
    const { app } = await buildTestApp();
    for (const q of ['wait=soon', 'wait=appended&timeout=abc', 'wait=appended&timeout=0']) {
      const res = await postJson(app, `/record?${q}`, '{"tags":{}}');
      expectError(res, 400, 'CHARIOTS_ERR_BAD_QUERY');
    }
  });
});

describe('POST /records', () => {
  it('takes a JSON array and reports each item', async () => {
    const { app, sink } = await buildTestApp();
    const res = await postJson(
      app,
      '/records',
      '[{"id":"a","tags":{}},{"seed":-5},{"id":"c","seed":"18446744073709551615"}]',
    );
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.accepted).toBe(2);
    expect(body.rejected).toBe(1);
    expect(body.results[0]).toEqual({ id: 'a' });
    expect(body.results[1].error.code).toBe('CHARIOTS_ERR_BAD_SEED');
    expect(body.results[2]).toEqual({ id: 'c' });
    expect(sink.records.map((r) => r.seed)).toEqual(['0', '18446744073709551615']);
  });

  it('takes NDJSON by content type or by detection, reporting a bad line', async () => {
    for (const ct of ['application/x-ndjson', 'text/plain', undefined]) {
      const { app, sink } = await buildTestApp();
      const res = await post(
        app,
        '/records',
        '{"id":"n1","tags":{}}\n{"tags":\n\n{"id":"n3","prehash":[9489172654252433228]}\n',
        ct,
      );
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toMatchObject({ accepted: 2, rejected: 1 });
      expect(body.results[1].error.code).toBe('CHARIOTS_ERR_BAD_JSON');
      expect(body.results[1].error.message).toMatch(/line 2/);
      expect(sink.records[1].prehash).toEqual(['9489172654252433228']);
    }
  });

  it('refuses a body that is neither an array nor NDJSON with 400 CHARIOTS_ERR_BAD_JSON', async () => {
    const { app } = await buildTestApp();
    for (const payload of ['[{"tags":{}', 'hello world', '', '   \n ']) {
      const res = await postJson(app, '/records', payload);
      expectError(res, 400, 'CHARIOTS_ERR_BAD_JSON');
    }
  });

  it('answers 429 for the whole request when the producer is full', async () => {
    const { app, sink } = await buildTestApp();
    sink.refuse = new ChariotsError('CHARIOTS_ERR_OVERLOADED', 'busy');
    const res = await postJson(app, '/records', '[{"tags":{}},{"tags":{}}]');
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBeDefined();
  });

  it('reports per-item broker failures, and 503 when none was stored', async () => {
    const { app, sink } = await buildTestApp();
    sink.fail = (r) =>
      r.id === 'bad' ? new ChariotsError('CHARIOTS_ERR_BROKER_UNAVAILABLE', 'down') : null;
    let res = await postJson(app, '/records', '[{"id":"ok","tags":{}},{"id":"bad","tags":{}}]');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      accepted: 1,
      rejected: 1,
      results: [{ id: 'ok' }, { error: { code: 'CHARIOTS_ERR_BROKER_UNAVAILABLE' } }],
    });
    sink.fail = () => new ChariotsError('CHARIOTS_ERR_BROKER_UNAVAILABLE', 'down');
    res = await postJson(app, '/records', '[{"tags":{}}]');
    expect(res.statusCode).toBe(503);
  });
});
