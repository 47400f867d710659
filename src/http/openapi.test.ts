import Ajv from 'ajv';
import pino from 'pino';
import type { FlStore } from '../flstore';
import { filledTestStore } from '../flstore/test-store';
import { Health } from '../health';
import { buildTestApp } from '../stages/batcher/test-helpers';
import { createApp } from './app';
import { MAINTAINER_OPENAPI, registerReadRoutes } from './reads';

type Route = { method: string | string[]; url: string; schema?: { hide?: boolean } };
type Operation = {
  summary?: string;
  tags?: string[];
  responses: Record<string, { content?: Record<string, { schema?: object }> }>;
};
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>> };

let store: FlStore;
let remove: () => Promise<void>;
let routes: Route[];
let app: Awaited<ReturnType<typeof buildTestApp>>['app'];
let doc: Doc;

beforeAll(async () => {
  ({ store, remove } = await filledTestStore('openapi', 20));
  routes = [];
  // The batcher's app as it runs: createApp + every batcher route, reads included.
  ({ app } = await buildTestApp({ openapi: true, store, onRoute: (r) => routes.push(r as Route) }));
  doc = (await app.inject('/openapi.json')).json();
});
afterAll(async () => {
  await app.close();
  await remove();
});

/** `/record/:lid` -> `/record/{lid}`, as OpenAPI writes path parameters. */
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

const documented = (all: Route[]) =>
  all
    .filter((r) => !r.schema?.hide)
    .flatMap((r) => [r.method].flat().map((m) => ({ method: m.toLowerCase(), url: r.url })))
    .filter((r) => r.method !== 'head');

/** What is wrong with the description of each route (empty: all documented). */
function undocumented(d: Doc, seen: Array<{ method: string; url: string }>): string[] {
  const missing: string[] = [];
  for (const { method, url } of seen) {
    const op = d.paths[openApiPath(url)]?.[method];
    const where = `${method.toUpperCase()} ${url}`;
    if (!op) {
      missing.push(`${where}: not in /openapi.json`);
      continue;
    }
    if (!op.summary) missing.push(`${where}: no summary`);
    if (!op.tags?.length) missing.push(`${where}: no tag`);
    const ok = op.responses['200']?.content;
    if (!ok || !Object.values(ok).every((c) => c.schema)) missing.push(`${where}: no 200 schema`);
    if (url === '/healthz' || url === '/readyz') continue;
    const errors = Object.keys(op.responses).filter((s) => Number(s) >= 400);
    if (errors.length === 0) missing.push(`${where}: no error response`);
    for (const s of errors) {
      const schema = op.responses[s].content?.['application/json']?.schema as
        { properties?: { error?: unknown } } | undefined;
      if (!schema?.properties?.error) missing.push(`${where}: ${s} is not the error body`);
    }
  }
  return missing;
}

describe('OpenAPI', () => {
  it('documents every route of the batcher with a summary, a tag, a 200 schema and the error body', () => {
    const seen = documented(routes);
    // The hook saw the whole API (a broken hook would make this test pass vacuously).
    for (const must of ['/record', '/records', '/log/stream', '/deferred', '/ui', '/healthz'])
      expect(seen.map((r) => r.url)).toContain(must);
    expect(seen.length).toBeGreaterThanOrEqual(16);
    expect(undocumented(doc, seen)).toEqual([]);
  });

  it("documents every route of a maintainer's own read API", async () => {
    const own: Route[] = [];
    const m = createApp({
      logger: pino({ level: 'silent' }),
      health: new Health(),
      bodyLimitBytes: 1024,
      openapi: MAINTAINER_OPENAPI,
    });
    m.addHook('onRoute', (r) => void own.push(r as Route));
    await m.register(registerReadRoutes, { store });
    await m.ready();
    const seen = documented(own);
    expect(seen.map((r) => r.url)).toEqual(
      expect.arrayContaining(['/record/:lid', '/records', '/log', '/log/stream', '/log/head']),
    );
    expect(undocumented((await m.inject('/openapi.json')).json(), seen)).toEqual([]);
    expect((await m.inject('/docs')).statusCode).toBe(200);
    await m.close();
  });

  it('documents the read routes a batcher forwards to maintainers (batcher.readUrls), with the 503', async () => {
    const own: Route[] = [];
    const fwd = await buildTestApp({
      openapi: true,
      readUrls: ['http://127.0.0.1:9'],
      onRoute: (r) => own.push(r as Route),
    });
    const seen = documented(own);
    expect(seen.map((r) => r.url)).toEqual(
      expect.arrayContaining(['/record/:lid', '/records', '/log', '/log/stream', '/log/head']),
    );
    const d: Doc = (await fwd.app.inject('/openapi.json')).json();
    expect(undocumented(d, seen)).toEqual([]);
    for (const p of ['/record/{lid}', '/records', '/log', '/log/stream', '/log/head'])
      expect([p, Object.keys(d.paths[p].get.responses)]).toEqual([
        p,
        expect.arrayContaining(['503']),
      ]);
    // The unreachable maintainer's answer matches what is documented.
    const res = await fwd.app.inject('/log/head');
    const schema = d.paths['/log/head'].get.responses['503'].content?.['application/json']?.schema;
    const ajv = new Ajv({ strict: false, validateFormats: false });
    expect([res.statusCode, ajv.validate(schema!, res.json())]).toEqual([503, true]);
    await fwd.app.close();
  });

  it('is an OpenAPI 3 document and /docs is the Swagger UI', async () => {
    expect(doc.openapi).toMatch(/^3\./);
    const ui = await app.inject('/docs');
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
    expect(ui.body).toMatch(/swagger/i);
  });

  // Schemas do not filter answers (createApp), so they could drift from what handlers send.
  it('real answers match the documented schemas', async () => {
    const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
    const cases: Array<{ method: 'GET' | 'POST'; url: string; route: string; body?: string }> = [
      { method: 'GET', url: '/healthz', route: '/healthz' },
      { method: 'GET', url: '/readyz', route: '/readyz' },
      { method: 'GET', url: '/record/3', route: '/record/{lid}' },
      { method: 'GET', url: '/record/999', route: '/record/{lid}' },
      { method: 'GET', url: '/record/x', route: '/record/{lid}' },
      { method: 'GET', url: '/records?seed=2&limit=2', route: '/records' },
      { method: 'GET', url: '/records', route: '/records' },
      { method: 'GET', url: '/log?from=5&limit=3', route: '/log' },
      { method: 'GET', url: '/log/head', route: '/log/head' },
      { method: 'GET', url: '/deferred', route: '/deferred' },
      { method: 'GET', url: '/deadletter?limit=0', route: '/deadletter' },
      { method: 'POST', url: '/deadletter/nope/retry', route: '/deadletter/{id}/retry' },
      { method: 'GET', url: '/admin/view', route: '/admin/view' },
      { method: 'POST', url: '/record', route: '/record', body: '{"tags":{"a":"b"},"seed":7}' },
      { method: 'POST', url: '/record', route: '/record', body: '{"seed":-1}' },
      { method: 'POST', url: '/records', route: '/records', body: '[{"tags":{}},{"seed":"x"}]' },
    ];
    const failures: string[] = [];
    for (const c of cases) {
      const res = await app.inject({
        method: c.method,
        url: c.url,
        payload: c.body,
        headers: c.body ? { 'content-type': 'application/json' } : {},
      });
      const op = doc.paths[c.route][c.method.toLowerCase()];
      const schema = op.responses[String(res.statusCode)]?.content?.['application/json']?.schema;
      if (!schema) {
        failures.push(`${c.method} ${c.url}: status ${res.statusCode} is not documented`);
        continue;
      }
      const validate = ajv.compile(schema);
      if (!validate(res.json()))
        failures.push(`${c.method} ${c.url} ${res.statusCode}: ${ajv.errorsText(validate.errors)}`);
    }
    expect(failures).toEqual([]);
  });
});
