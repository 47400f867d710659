/** A tiny real HTTP server for the SDK's unit tests: each test scripts its answers. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

export type Handler = (
  req: IncomingMessage & { body: string },
  res: ServerResponse,
  n: number,
) => void | Promise<void>;

export interface FakeServer {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

export async function fakeServer(handler: Handler): Promise<FakeServer> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body, at: Date.now() });
      void Promise.resolve(handler(Object.assign(req, { body }), res, seen.length - 1)).catch(
        (e: unknown) => {
          res.statusCode = 500;
          res.end(JSON.stringify({ error: { code: 'TEST_HANDLER', message: String(e) } }));
        },
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown, headers = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export function error(
  res: ServerResponse,
  status: number,
  code: string,
  headers: Record<string, string> = {},
): void {
  json(res, status, { error: { code, message: `${code} (test)` } }, headers);
}

/** A log record as the read API writes it. */
export function rec(lid: number, extra: Record<string, unknown> = {}) {
  return {
    lid,
    toid: lid,
    host: 1,
    id: `r${lid}`,
    seed: '18446744073709551615',
    prehash: [],
    parent: [],
    tags: { n: String(lid) },
    receivedAt: '2026-01-01T00:00:00.000Z',
    appendedAt: '2026-01-01T00:00:00.000Z',
    ...extra,
  };
}
