import { connect, type Socket } from 'node:net';
import pino from 'pino';
import { Health } from '../health';
import { createApp } from './app';

const HEADERS_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 2000;
const MAX_CONNECTIONS = 4;

let app: ReturnType<typeof createApp>;
let port: number;
const sockets: Socket[] = [];

beforeEach(async () => {
  app = createApp({
    logger: pino({ level: 'silent' }),
    health: new Health(),
    bodyLimitBytes: 1024 * 1024,
    clients: {
      headersTimeoutMs: HEADERS_TIMEOUT_MS,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      maxConnections: MAX_CONNECTIONS,
    },
  });
  app.post('/echo', async (req) => ({ got: (req.body as { a?: number }).a }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  port = typeof addr === 'object' && addr ? addr.port : 0;
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await app.close();
});

/** A raw connection that records what it receives and when it was closed. */
async function rawClient() {
  const s = connect({ host: '127.0.0.1', port });
  sockets.push(s);
  const state = { data: '', closedAt: 0 };
  s.on('data', (d: Buffer) => (state.data += d.toString()));
  s.on('error', () => undefined);
  s.on('close', () => (state.closedAt = Date.now()));
  await new Promise<void>((r) => s.once('connect', () => r()));
  return { s, state };
}

/** Writes `text` one byte per `everyMs` until the socket closes. */
function dribble(s: Socket, text: string, everyMs: number): NodeJS.Timeout {
  let i = 0;
  const t = setInterval(() => {
    if (s.destroyed || i >= text.length) return clearInterval(t);
    s.write(text[i++]);
  }, everyMs);
  return t;
}

const healthy = async () => {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, {
    signal: AbortSignal.timeout(2000),
  });
  return res.status;
};

it('closes a connection that sends its headers one byte at a time, and keeps serving others', async () => {
  const slow = await rawClient();
  const t0 = Date.now();
  const t = dribble(
    slow.s,
    `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(100)}\r\n\r\n`,
    100,
  );
  await new Promise((r) => setTimeout(r, 500));
  expect(await healthy()).toBe(200);
  while (!slow.state.closedAt && Date.now() - t0 < 6000)
    await new Promise((r) => setTimeout(r, 50));
  clearInterval(t);
  expect(slow.state.closedAt).toBeGreaterThan(0);
  const after = slow.state.closedAt - t0;
  expect(after).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
  expect(after).toBeLessThan(HEADERS_TIMEOUT_MS + 1500);
  // Headers never completed, so no request exists to answer: the socket is just closed.
  expect(slow.state.data).not.toMatch(/200 OK/);
  expect(await healthy()).toBe(200);
}, 10000);

it('closes a connection whose body arrives too slowly (requestTimeoutMs)', async () => {
  const slow = await rawClient();
  const t0 = Date.now();
  const body = '{"a":1}'.padEnd(200, ' ');
  slow.s.write(
    `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
  );
  const t = dribble(slow.s, body, 50);
  while (!slow.state.closedAt && Date.now() - t0 < 8000)
    await new Promise((r) => setTimeout(r, 50));
  clearInterval(t);
  expect(slow.state.closedAt).toBeGreaterThan(0);
  const after = slow.state.closedAt - t0;
  expect(after).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
  expect(after).toBeLessThan(REQUEST_TIMEOUT_MS + 1500);
  expect(slow.state.data).toMatch(/^HTTP\/1.1 408/);
}, 12000);

it('closes connections beyond maxConnections at once, and serves again once some left', async () => {
  const held = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => rawClient()));
  await new Promise((r) => setTimeout(r, 100));
  const extra = await rawClient();
  const t0 = Date.now();
  while (!extra.state.closedAt && Date.now() - t0 < 2000)
    await new Promise((r) => setTimeout(r, 20));
  expect(extra.state.closedAt).toBeGreaterThan(0);
  expect(extra.state.data).toBe('');
  for (const h of held) h.s.destroy();
  await new Promise((r) => setTimeout(r, 100));
  expect(await healthy()).toBe(200);
}, 10000);
