import { createServer as createHttpServer, request, type Server } from 'node:http';
import { createServer, type Socket } from 'node:net';
import Fastify from 'fastify';
import type { FlStore } from '../flstore';
import { entries } from '../flstore/test-records';
import { filledTestStore } from '../flstore/test-store';
import { buildTestApp } from '../stages/batcher/test-helpers';
import { Authenticator } from './auth';
import { READ_ROUTE_SCHEMAS, registerReadRoutes } from './reads';
import { collectLines, readApiApp } from './test-helpers';

/**
 * The batcher without an in-process maintainer (batcher.readUrls): every read route is
 * forwarded to a maintainer's read API and answered with its exact bytes; a maintainer that
 * is down or silent gives 503 CHARIOTS_ERR_MAINTAINER_UNAVAILABLE, never a hang.
 */
let store: FlStore;
let remove: () => Promise<void>;
const closers: Array<() => Promise<unknown>> = [];

beforeEach(async () => {
  ({ store, remove } = await filledTestStore('read-forward', 250));
});
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await remove();
});

/** A maintainer's own read API (what `chariots start maintainer` serves on maintainer.port). */
async function maintainer(auth?: Authenticator): Promise<string> {
  return (await maintainerApp(auth)).url;
}

async function maintainerApp(auth?: Authenticator) {
  const app = await readApiApp(store, auth);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => app.close());
  return { url, app };
}

async function batcher(readUrls: string[], readTimeoutMs = 5000) {
  const { app } = await buildTestApp({ readUrls, readTimeoutMs });
  closers.push(() => app.close());
  return app;
}

/** A port nothing listens on: connections are refused. */
async function deadUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return `http://127.0.0.1:${port}`;
}

/** A server that accepts connections and never answers (a hung or black-holed maintainer). */
async function silentUrl(): Promise<string> {
  const sockets: Socket[] = [];
  const s = createServer((sock) => void sockets.push(sock));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  closers.push(async () => {
    for (const sock of sockets) sock.destroy();
    await new Promise((r) => s.close(r));
  });
  return `http://127.0.0.1:${(s.address() as { port: number }).port}`;
}

/** An HTTP server answering every request with `status` (a maintainer shutting down, say). */
async function answering(status: number): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  const s: Server = createHttpServer((_req, res) => {
    hits++;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end('{"error":{"code":"CHARIOTS_ERR_SHUTTING_DOWN","message":"closing"}}');
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => s.close(r)));
  return { url: `http://127.0.0.1:${(s.address() as { port: number }).port}`, hits: () => hits };
}

const READS = [
  '/record/7',
  '/record/251',
  '/record/x',
  '/records?seed=18446744073709551615&limit=1000',
  '/records?tag=k:v1&limit=30&after=30',
  '/records?hash=9489172654252433228',
  '/records?id=id-42',
  '/records?tag=novalue',
  '/log?from=240&limit=5',
  '/log',
  '/log/head',
];

describe('the batcher forwarding reads to a maintainer (batcher.readUrls)', () => {
  it('serves every read route with the maintainer’s status, type and exact bytes', async () => {
    const m = await maintainer();
    const app = await batcher([m]);
    for (const u of READS) {
      const direct = await fetch(m + u);
      const via = await app.inject(u);
      expect([u, via.statusCode, via.headers['content-type']]).toEqual([
        u,
        direct.status,
        direct.headers.get('content-type'),
      ]);
      expect(via.payload).toBe(await direct.text());
    }
    // Passed through, never re-parsed: a uint64 above 2^53 keeps every digit.
    expect((await app.inject('/record/7')).payload).toContain('"seed":"18446744073709551615"');
    expect((await app.inject('/record/251')).json().error.code).toBe('CHARIOTS_ERR_NOT_FOUND');
  });

  it('registers exactly the read routes a maintainer serves', async () => {
    const seen: string[] = [];
    const m = Fastify();
    m.addHook('onRoute', (r) => void (r.method === 'GET' && seen.push(r.url)));
    await m.register(registerReadRoutes, { store });
    await m.ready();
    await m.close();
    expect(seen.sort()).toEqual(Object.keys(READ_ROUTE_SCHEMAS).sort());
    const app = await batcher([await deadUrl()]);
    for (const u of seen) expect(app.hasRoute({ method: 'GET', url: u })).toBe(true);
  });

  it('passes the Authorization header on, and the maintainer’s 401 back', async () => {
    const m = await maintainer(new Authenticator([{ token: 't0k', roles: ['read'] }]));
    const app = await batcher([m]);
    const ok = await app.inject({ url: '/log/head', headers: { authorization: 'Bearer t0k' } });
    expect(ok.json()).toEqual({ lid: 250 });
    const no = await app.inject('/log/head');
    expect(no.statusCode).toBe(401);
    expect(no.json().error.code).toBe('CHARIOTS_ERR_UNAUTHORIZED');
    expect(no.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('answers 503 CHARIOTS_ERR_MAINTAINER_UNAVAILABLE when the maintainer is down', async () => {
    const dead = await deadUrl();
    const app = await batcher([dead]);
    for (const u of ['/record/1', '/records?seed=1', '/log', '/log/head', '/log/stream']) {
      const res = await app.inject(u);
      expect([u, res.statusCode]).toEqual([u, 503]);
      expect(res.json().error.code).toBe('CHARIOTS_ERR_MAINTAINER_UNAVAILABLE');
      expect(res.json().error.message).toContain(dead);
      expect(res.headers['retry-after']).toBe('1');
    }
  });

  it('gives up on a maintainer that never answers after batcher.readTimeoutMs', async () => {
    const app = await batcher([await silentUrl()], 300);
    const t0 = Date.now();
    const res = await app.inject('/log/head');
    const took = Date.now() - t0;
    expect(res.statusCode).toBe(503);
    expect(res.json().error.message).toMatch(/did not answer within 300 ms/);
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(3000);
  });

  it('tries the next URL, then starts from the one that answered', async () => {
    const m = await maintainer();
    const app = await batcher([await silentUrl(), await deadUrl(), m], 1500);
    const t0 = Date.now();
    expect((await app.inject('/record/3')).json().lid).toBe(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1490);
    // The silent one is not waited for again.
    const t1 = Date.now();
    expect((await app.inject('/record/4')).json().lid).toBe(4);
    expect(Date.now() - t1).toBeLessThan(1490);
  });

  it('skips a maintainer answering 503, and reports every URL when none answers', async () => {
    const closing = await answering(503);
    const m = await maintainer();
    const app = await batcher([closing.url, m]);
    expect((await app.inject('/log/head')).json()).toEqual({ lid: 250 });
    expect(closing.hits()).toBe(1);
    const none = await batcher([closing.url, await deadUrl()]);
    const res = await none.inject('/log/head');
    expect(res.statusCode).toBe(503);
    expect(res.json().error.message).toMatch(/answered 503.*failed: ECONNREFUSED/);
  });

  it('forwards /log/stream as it flows, and closes the maintainer’s stream with the caller’s', async () => {
    const m = await maintainerApp();
    const { app } = await buildTestApp({ readUrls: [m.url] });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    let closed = false;
    closers.push(async () => void (closed || (await app.close())));
    const lines: string[] = [];
    const req = request(`${url}/log/stream?from=245`, (res) => {
      expect(res.headers['content-type']).toBe('application/x-ndjson');
      collectLines(res, lines);
    });
    req.on('error', () => undefined);
    req.end();
    const until = async (ok: () => boolean) => {
      for (let i = 0; i < 500 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
      expect(ok()).toBe(true);
    };
    await until(() => lines.length >= 6);
    await store.append(entries(251, 260));
    await until(() => lines.length >= 16);
    const lids = lines.map((l) => (JSON.parse(l) as { lid: number }).lid);
    expect(lids).toEqual(Array.from({ length: 16 }, (_, i) => 245 + i));
    expect(lines[0]).toContain('"seed":"18446744073709551615"'); // LId 245 = 7 × 35
    const connections = () =>
      new Promise<number>((r) => m.app.server.getConnections((_e, n) => r(n)));
    expect(await connections()).toBe(1);
    req.destroy();
    // The caller left: the batcher closed its stream from the maintainer.
    for (let i = 0; i < 300 && (await connections()) > 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(await connections()).toBe(0);

    // A batcher closing with a forwarded stream open does not wait for it to end.
    const again = request(`${url}/log/stream?from=1`, (res) => res.resume());
    again.on('error', () => undefined);
    again.end();
    for (let i = 0; i < 300 && (await connections()) === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(await connections()).toBe(1);
    closed = true;
    const t0 = Date.now();
    await app.close(); // would wait forever for an open forwarded stream
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('ends the caller’s stream when the maintainer goes away (a tail then resumes elsewhere)', async () => {
    const m = await maintainerApp();
    const { app } = await buildTestApp({ readUrls: [m.url] });
    closers.push(() => app.close());
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    let got = 0;
    const ended = new Promise<string>((resolve) => {
      const req = request(`${url}/log/stream?from=1`, (res) => {
        res.on('data', () => got++);
        res.on('end', () => resolve('end'));
        res.on('error', () => resolve('error'));
        res.on('aborted', () => resolve('aborted'));
      });
      req.on('error', () => resolve('error'));
      req.end();
    });
    for (let i = 0; i < 500 && got === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(got).toBeGreaterThan(0);
    await m.app.close();
    expect(['end', 'error', 'aborted']).toContain(await ended);
  });
});
