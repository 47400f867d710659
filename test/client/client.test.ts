/**
 * The SDK against a real local HTTP server (real sockets, the real global fetch): retries
 * keep the id, Retry-After is honored, refusals are not retried, and tail resumes after
 * dropped connections without a gap or a duplicate.
 */
import { ChariotsClient, ChariotsClientError, hashTag, type LogRecord } from '../../src/client';
import { error, fakeServer, json, rec, type FakeServer } from './fake-server';

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const client = (url: string, extra = {}) =>
  new ChariotsClient({ url, backoffMs: 5, maxBackoffMs: 20, timeoutMs: 5000, ...extra });

const bodyOf = (i: number) => JSON.parse(server!.seen[i].body);

describe('append', () => {
  it('retries 503 with the same client-assigned id, then answers that id', async () => {
    server = await fakeServer((req, res, n) => {
      if (n < 2) return error(res, 503, 'CHARIOTS_ERR_BROKER_UNAVAILABLE');
      json(res, 200, { id: JSON.parse(req.body).id });
    });
    const out = await client(server.url).append({ tags: { k: 'v' } });
    expect(server.seen).toHaveLength(3);
    const ids = server.seen.map((s) => JSON.parse(s.body).id);
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(out).toEqual({ id: ids[0] });
    expect(server.seen.every((s) => s.url === '/record')).toBe(true);
  });

  it('honors Retry-After (429 and 503) instead of its own short backoff', async () => {
    server = await fakeServer((req, res, n) => {
      if (n === 0) return error(res, 429, 'CHARIOTS_ERR_OVERLOADED', { 'retry-after': '1' });
      json(res, 200, { id: JSON.parse(req.body).id });
    });
    const t0 = Date.now();
    await client(server.url).append({ id: 'ra', tags: {} });
    expect(server.seen).toHaveLength(2);
    expect(server.seen[1].at - server.seen[0].at).toBeGreaterThanOrEqual(950);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('does not retry a 400 and surfaces its code, status and retriable=false', async () => {
    server = await fakeServer((_req, res) => error(res, 400, 'CHARIOTS_ERR_BAD_TAGS'));
    const err = await client(server.url)
      .append({ tags: { k: 'v' } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChariotsClientError);
    expect(err).toMatchObject({
      code: 'CHARIOTS_ERR_BAD_TAGS',
      httpStatus: 400,
      retriable: false,
      message: 'CHARIOTS_ERR_BAD_TAGS (test)',
    });
    expect(server.seen).toHaveLength(1);
  });

  it('retries a dropped connection with the same id, and gives up after `retries`', async () => {
    server = await fakeServer((req, res, n) => {
      if (n === 0) return void req.socket.destroy();
      json(res, 200, { id: JSON.parse(req.body).id });
    });
    const out = await client(server.url).append({ id: 'net-1', tags: {} });
    expect(out).toEqual({ id: 'net-1' });
    expect(server.seen.map((s) => JSON.parse(s.body).id)).toEqual(['net-1', 'net-1']);

    await server.close();
    server = await fakeServer((req) => void req.socket.destroy());
    const err = await client(server.url, { retries: 2 })
      .append({ tags: {} })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CHARIOTS_ERR_NETWORK', retriable: true });
    expect(server.seen).toHaveLength(3);
  });

  it('gives up with the server error after `retries` retriable answers', async () => {
    server = await fakeServer((_req, res) => error(res, 503, 'CHARIOTS_ERR_SHUTTING_DOWN'));
    const err = await client(server.url, { retries: 1 })
      .append({ tags: {} })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'CHARIOTS_ERR_SHUTTING_DOWN',
      httpStatus: 503,
      retriable: true,
    });
    expect(server.seen).toHaveLength(2);
  });

  it('sends uint64s exactly as decimal strings, and refuses unsafe numbers before sending', async () => {
    server = await fakeServer((req, res) => json(res, 200, { id: JSON.parse(req.body).id }));
    const c = client(server.url);
    await c.append({
      id: 'u',
      seed: 18446744073709551615n,
      prehash: ['9489172654252433228', 7, 0n],
      parent: 'p',
      prehost: 2,
      pretoid: 3,
      tags: { a: 'b' },
    });
    expect(bodyOf(0)).toEqual({
      id: 'u',
      tags: { a: 'b' },
      seed: '18446744073709551615',
      prehash: ['9489172654252433228', '7', '0'],
      parent: 'p',
      prehost: 2,
      pretoid: 3,
    });
    expect(server.seen[0].body).toContain('"seed":"18446744073709551615"');
    for (const seed of [2 ** 60, -1, 1.5, '1e3', 18446744073709551616n, '18446744073709551616']) {
      await expect(c.append({ seed: seed as never })).rejects.toMatchObject({
        code: 'CHARIOTS_ERR_BAD_SEED',
        httpStatus: undefined,
      });
    }
    await expect(c.append({ prehash: [1, -2] })).rejects.toMatchObject({
      code: 'CHARIOTS_ERR_BAD_HASH',
    });
    expect(server.seen).toHaveLength(1);
  });

  it('waitAppended asks ?wait=appended&timeout and returns the lid', async () => {
    server = await fakeServer((req, res) =>
      json(res, 200, { id: JSON.parse(req.body).id, lid: 42 }),
    );
    const out = await client(server.url).append(
      { id: 'w', tags: {} },
      { waitAppended: true, timeoutMs: 1234 },
    );
    expect(out).toEqual({ id: 'w', lid: 42 });
    expect(server.seen[0].url).toBe('/record?wait=appended&timeout=1234');
  });

  it('waitAppended: a retry first looks the id up, so an append that got through is not waited for again', async () => {
    server = await fakeServer((req, res, n) => {
      if (req.url!.startsWith('/record?')) {
        if (n === 0) return void req.socket.destroy(); // the server appended it, the answer was lost
        return error(res, 504, 'CHARIOTS_ERR_TIMEOUT');
      }
      expect(req.url).toBe('/records?id=w2&limit=1');
      json(res, 200, { records: [rec(7, { id: 'w2' })] });
    });
    const out = await client(server.url).append({ id: 'w2', tags: {} }, { waitAppended: true });
    expect(out).toEqual({ id: 'w2', lid: 7 });
    expect(server.seen.map((s) => s.url.split('?')[0])).toEqual(['/record', '/records']);
  });

  it('waitAppended: a 504 is checked against the log, then surfaced as retriable', async () => {
    server = await fakeServer((req, res) => {
      if (req.url!.startsWith('/record?')) return error(res, 504, 'CHARIOTS_ERR_TIMEOUT');
      json(res, 200, { records: [] });
    });
    await expect(
      client(server.url).append({ tags: {} }, { waitAppended: true, timeoutMs: 10 }),
    ).rejects.toMatchObject({ code: 'CHARIOTS_ERR_TIMEOUT', httpStatus: 504, retriable: true });
    expect(server.seen).toHaveLength(2);
  });

  it('sends the bearer token', async () => {
    server = await fakeServer((req, res) => json(res, 200, { id: JSON.parse(req.body).id }));
    await client(server.url, { token: 's3cret' }).append({ tags: {} });
    expect(server.seen[0].headers.authorization).toBe('Bearer s3cret');
  });
});

describe('appendBatch', () => {
  it('retries the whole batch with the same ids, then resends only retriable item failures', async () => {
    server = await fakeServer((req, res, n) => {
      const items = JSON.parse(req.body) as Array<{ id: string }>;
      if (n === 0) return error(res, 503, 'CHARIOTS_ERR_BROKER_UNAVAILABLE');
      const results = items.map((it) =>
        it.id === 'bad'
          ? { error: { code: 'CHARIOTS_ERR_BAD_TAGS', message: 'no' } }
          : n === 1 && it.id === 'flaky'
            ? { error: { code: 'CHARIOTS_ERR_BROKER_UNAVAILABLE', message: 'down' } }
            : { id: it.id },
      );
      json(res, 200, { results, accepted: 0, rejected: 0 });
    });
    const out = await client(server.url).appendBatch([
      { tags: { a: '1' } },
      { id: 'flaky', tags: {} },
      { id: 'bad', tags: {} },
    ]);
    const first = bodyOf(0) as Array<{ id: string }>;
    expect(bodyOf(1)).toEqual(first);
    expect(bodyOf(2)).toEqual([first[1]]);
    expect(out).toEqual([
      { id: first[0].id },
      { id: 'flaky' },
      {
        id: 'bad',
        error: { code: 'CHARIOTS_ERR_BAD_TAGS', message: 'no', retriable: false },
      },
    ]);
    expect(server.seen.every((s) => s.url === '/records')).toBe(true);
  });
});

describe('reads', () => {
  const records = Array.from({ length: 25 }, (_, i) => rec(i + 1));

  it('get: a record, undefined on 404 NOT_FOUND, an error on a foreign 404', async () => {
    server = await fakeServer((req, res) => {
      const lid = Number(req.url!.split('/').pop());
      if (req.url === '/record/99') return error(res, 404, 'CHARIOTS_ERR_NOT_FOUND');
      if (req.url === '/record/98') return json(res, 404, { message: 'Not Found' });
      json(res, 200, rec(lid));
    });
    const c = client(server.url);
    expect(await c.get(3)).toEqual(rec(3));
    expect(await c.get(99)).toBeUndefined();
    await expect(c.get(98)).rejects.toMatchObject({ httpStatus: 404 });
    await expect(c.get(0)).rejects.toMatchObject({ code: 'CHARIOTS_ERR_BAD_QUERY' });
  });

  it('query: iterates every page in LId order, with after, limit and each selector', async () => {
    server = await fakeServer((req, res) => {
      const q = new URL(req.url!, 'http://x').searchParams;
      const after = Number(q.get('after') ?? 0);
      const limit = Number(q.get('limit') ?? 100);
      const page = records.filter((r) => r.lid > after).slice(0, limit);
      json(res, 200, {
        records: page,
        ...(page.length === limit ? { next: page[page.length - 1].lid } : {}),
      });
    });
    const c = client(server.url);
    const all: LogRecord[] = [];
    for await (const r of c.query({ tag: ['k', 'v:w'] }, { pageSize: 10 })) all.push(r);
    expect(all.map((r) => r.lid)).toEqual(records.map((r) => r.lid));
    expect(server.seen.map((s) => s.url)).toEqual([
      '/records?tag=k%3Av%3Aw&after=0&limit=10',
      '/records?tag=k%3Av%3Aw&after=10&limit=10',
      '/records?tag=k%3Av%3Aw&after=20&limit=10',
    ]);
    const some: number[] = [];
    for await (const r of c.query({ seed: 18446744073709551615n }, { after: 5, limit: 7 }))
      some.push(r.lid);
    expect(some).toEqual([6, 7, 8, 9, 10, 11, 12]);
    expect(server.seen[3].url).toBe('/records?seed=18446744073709551615&after=5&limit=7');
    const page = await c.queryPage({ hash: hashTag('k1', 'v1') }, { limit: 2 });
    expect(page).toEqual({ records: records.slice(0, 2), next: 2 });
    expect(server.seen[4].url).toBe('/records?hash=9489172654252433228&limit=2');
    await c.queryPage({ id: 'a b' });
    expect(server.seen[5].url).toBe('/records?id=a+b');
    await expect(c.queryPage({} as never)).rejects.toMatchObject({
      code: 'CHARIOTS_ERR_BAD_QUERY',
    });
  });

  it('hashTag is FNV-1a 64 of key:value as a decimal string', () => {
    expect(hashTag('k1', 'v1')).toBe('9489172654252433228');
    expect(ChariotsClient.hashTag('k1', 'v1')).toBe('9489172654252433228');
  });
});

describe('tail', () => {
  /**
   * /log/stream?from=F over an endless log: connection k writes `cut[k]` lines (the last one
   * maybe half) then destroys the socket; after the cuts it streams and stays open.
   */
  function streamServer(cuts: Array<{ lines: number; half?: boolean }>) {
    const froms: number[] = [];
    let closedOpen = 0;
    return {
      froms,
      closedOpen: () => closedOpen,
      handler: ((req, res) => {
        const from = Number(new URL(req.url!, 'http://x').searchParams.get('from'));
        const k = froms.push(from) - 1;
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        const cut = cuts[k];
        if (cut) {
          let out = '';
          for (let i = 0; i < cut.lines; i++) out += `${JSON.stringify(rec(from + i))}\n`;
          if (cut.half) out += JSON.stringify(rec(from + cut.lines)).slice(0, 30);
          res.write(out, () => setTimeout(() => req.socket.destroy(), 20));
          return;
        }
        let lid = from;
        const timer = setInterval(() => res.write(`${JSON.stringify(rec(lid++))}\n`), 2);
        res.on('close', () => {
          clearInterval(timer);
          closedOpen++;
        });
      }) as Parameters<typeof fakeServer>[0],
    };
  }

  it('reconnects from last lid + 1 after dropped connections: every record once, in order', async () => {
    const s = streamServer([{ lines: 3 }, { lines: 4, half: true }, { lines: 0 }, { lines: 5 }]);
    server = await fakeServer(s.handler);
    const got: number[] = [];
    for await (const r of client(server.url).tail({ fromLid: 1 })) {
      got.push(r.lid);
      expect(r.seed).toBe('18446744073709551615');
      if (got.length === 30) break;
    }
    expect(got).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(s.froms).toEqual([1, 4, 8, 8, 13]);
    // Breaking the loop aborted the open request.
    for (let i = 0; i < 100 && s.closedOpen() === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(s.closedOpen()).toBe(1);
  });

  it('starts at fromLid, and return() ends a tail that waits for records', async () => {
    let closed = false;
    server = await fakeServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(`${JSON.stringify(rec(41))}\n`);
      res.on('close', () => (closed = true));
    });
    const it = client(server.url).tail({ fromLid: 41 });
    expect((await it.next()).value.lid).toBe(41);
    const waiting = it.next();
    await new Promise((r) => setTimeout(r, 50));
    await it.return!();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(server.seen[0].url).toBe('/log/stream?from=41');
    for (let i = 0; i < 100 && !closed; i++) await new Promise((r) => setTimeout(r, 10));
    expect(closed).toBe(true);
  });

  it('retries 503 on connect and surfaces a 400', async () => {
    server = await fakeServer((req, res, n) => {
      if (n === 0) return error(res, 503, 'CHARIOTS_ERR_SHUTTING_DOWN', { 'retry-after': '0' });
      if (n === 1) {
        res.writeHead(200);
        return void res.end(`${JSON.stringify(rec(1))}\n`);
      }
      error(res, 400, 'CHARIOTS_ERR_BAD_QUERY');
    });
    const got: number[] = [];
    const err = await (async () => {
      for await (const r of client(server.url).tail()) got.push(r.lid);
    })().catch((e: unknown) => e);
    expect(got).toEqual([1]);
    expect(err).toMatchObject({ code: 'CHARIOTS_ERR_BAD_QUERY', httpStatus: 400 });
    expect(server.seen.map((s) => s.url)).toEqual([
      '/log/stream?from=1',
      '/log/stream?from=1',
      '/log/stream?from=2',
    ]);
  });

  it('ends when its signal aborts', async () => {
    server = await fakeServer((_req, res) => {
      res.writeHead(200);
      res.write('\n');
    });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const got: LogRecord[] = [];
    for await (const r of client(server.url).tail({ signal: ac.signal })) got.push(r);
    expect(got).toEqual([]);
  });
});
