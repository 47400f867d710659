import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { loadConfig } from '../config/load';
import { ConfigError } from '../errors';
import { makeRecord } from '../flstore/test-records';
import type { StoreReader } from '../flstore/types';
import { Health } from '../health';
import { ChangelogView } from '../stages/batcher/changelog-view';
import {
  parseDeadLetterEntry,
  type DeadLetterEntry,
  type DeferredEntry,
} from '../stages/batcher/entries';
import { registerBatcherRoutes } from '../stages/batcher/routes';
import { MemorySink } from '../stages/batcher/test-helpers';
import { AppendWaiters } from '../stages/batcher/waiters';
import { createApp } from './app';
import {
  authFromConfig,
  Authenticator,
  parseTokenEntry,
  readTokensFile,
  requiredRole,
  type AuthScope,
} from './auth';

const logger = pino({ level: 'silent' });

const TOKENS = [
  'app-t0k3n:append',
  'reader-t0k3n:read',
  'both-t0k3n:append+read',
  'root-t0k3n:admin',
];
const tok = { append: 'app-t0k3n', read: 'reader-t0k3n', both: 'both-t0k3n', admin: 'root-t0k3n' };

/** A store with records 1..3, enough for the read routes to answer 200. */
const store: StoreReader = {
  lastLid: () => 3,
  get: async (lid) => (lid >= 1 && lid <= 3 ? makeRecord(lid) : undefined),
  range: async (from, limit) =>
    [1, 2, 3]
      .filter((l) => l >= from)
      .slice(0, limit)
      .map((l) => makeRecord(l)),
  query: async () => [],
  waitForLid: async () => false,
};

const deadRecord = {
  id: 'r1',
  host: 1,
  seed: '1',
  prehash: [],
  parent: [],
  tags: { k: 'v' },
  receivedAt: '2026-01-01T00:00:00.000Z',
};

/** The batcher's HTTP API with the read routes, as `chariots dev` serves it, with auth on. */
async function apiApp(tokens: string[] = TOKENS, scope: AuthScope = 'api') {
  const config = loadConfig({ env: {}, overrides: { dcId: 3, auth: { tokens } } });
  const auth = authFromConfig(config, logger);
  const app = createApp({
    logger,
    health: new Health(),
    bodyLimitBytes: 1 << 20,
    auth,
    authScope: scope,
  });
  const sink = new MemorySink();
  const deadletter = new ChangelogView<DeadLetterEntry>();
  deadletter.set(
    'r1',
    parseDeadLetterEntry(
      'r1',
      Buffer.from(
        JSON.stringify({
          record: deadRecord,
          reason: 'timeout',
          code: 'CHARIOTS_ERR_TIMEOUT',
          missing: [],
          deadAt: '2026-01-01T00:00:00.000Z',
        }),
      ),
    ),
  );
  if (scope === 'admin') {
    app.get('/', async () => ({ apps: [] }));
  } else {
    await registerBatcherRoutes(app, {
      sink,
      waiters: new AppendWaiters(),
      dcId: config.dcId,
      limits: config.record,
      waitTimeoutMs: 1000,
      deferred: new ChangelogView<DeferredEntry>(),
      deadletter,
      redrive: async () => undefined,
      store,
    });
  }
  await app.ready();
  return { app, sink };
}

const call = (
  app: FastifyInstance,
  route: { method: 'GET' | 'POST'; url: string; payload?: string },
  token?: string,
) =>
  app.inject({
    method: route.method,
    url: route.url,
    payload: route.payload,
    headers: {
      ...(route.payload ? { 'content-type': 'application/json' } : {}),
      ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
    },
  });

const RECORD = '{"tags":{"k":"v"},"prehash":0,"seed":0}';

/** For each role: a route needing it, a token lacking it, and the route's normal status. */
const CASES = [
  {
    role: 'append',
    route: { method: 'POST', url: '/record', payload: RECORD },
    lacking: tok.read,
    granted: [tok.append, tok.both, tok.admin],
  },
  {
    role: 'append',
    route: { method: 'POST', url: '/records', payload: `[${RECORD},${RECORD}]` },
    lacking: tok.read,
    granted: [tok.append, tok.both, tok.admin],
  },
  {
    role: 'read',
    route: { method: 'GET', url: '/record/2' },
    lacking: tok.append,
    granted: [tok.read, tok.both, tok.admin],
  },
  {
    role: 'read',
    route: { method: 'GET', url: '/log?from=1&limit=2' },
    lacking: tok.append,
    granted: [tok.read, tok.both, tok.admin],
  },
  {
    role: 'read',
    route: { method: 'GET', url: '/deadletter' },
    lacking: tok.append,
    granted: [tok.read, tok.admin],
  },
  {
    role: 'read',
    route: { method: 'GET', url: '/deferred' },
    lacking: tok.append,
    granted: [tok.read, tok.admin],
  },
  {
    role: 'admin',
    route: { method: 'POST', url: '/deadletter/r1/retry' },
    lacking: tok.both,
    granted: [tok.admin],
  },
] as const;

describe('bearer tokens on the HTTP API', () => {
  describe.each(CASES)(
    '$route.method $route.url needs $role',
    ({ role, route, lacking, granted }) => {
      it('401 without a token, with WWW-Authenticate: Bearer', async () => {
        const { app, sink } = await apiApp();
        const res = await call(app, route);
        expect(res.statusCode).toBe(401);
        expect(res.json().error.code).toBe('CHARIOTS_ERR_UNAUTHORIZED');
        expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="chariots"/);
        expect(sink.records).toHaveLength(0);
      });

      it('401 with a wrong token (also one sharing a prefix, or a malformed header)', async () => {
        const { app, sink } = await apiApp();
        for (const t of ['nope', `${tok.admin}x`, tok.admin.slice(0, -1), `${tok.admin}:admin`]) {
          const res = await call(app, route, t);
          expect(res.statusCode).toBe(401);
          expect(res.json().error.code).toBe('CHARIOTS_ERR_UNAUTHORIZED');
          expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
        }
        for (const authorization of [tok.admin, `Basic ${tok.admin}`, `Bearer`, `Bearer a b`]) {
          const res = await app.inject({
            method: route.method,
            url: route.url,
            headers: { authorization },
          });
          expect(res.statusCode).toBe(401);
        }
        expect(sink.records).toHaveLength(0);
      });

      it(`403 with a token without the ${role} role`, async () => {
        const { app, sink } = await apiApp();
        const res = await call(app, route, lacking);
        expect(res.statusCode).toBe(403);
        expect(res.json().error).toMatchObject({
          code: 'CHARIOTS_ERR_FORBIDDEN',
          details: { role },
        });
        expect(sink.records).toHaveLength(0);
      });

      it(`200 with a token holding ${role} (admin implies read and append)`, async () => {
        for (const t of granted) {
          const { app } = await apiApp();
          const res = await call(app, route, t);
          expect(res.statusCode).toBe(200);
        }
      });
    },
  );

  it('the append routes really append with the right token', async () => {
    const { app, sink } = await apiApp();
    const res = await call(app, { method: 'POST', url: '/record', payload: RECORD }, tok.append);
    expect(res.json()).toHaveProperty('id');
    expect(sink.records).toHaveLength(1);
    const read = await call(app, { method: 'GET', url: '/record/2' }, tok.read);
    expect(read.json().lid).toBe(2);
  });

  it('/healthz and /readyz stay open', async () => {
    const { app } = await apiApp();
    for (const url of ['/healthz', '/readyz']) {
      expect((await app.inject(url)).statusCode).toBe(200);
      expect((await call(app, { method: 'GET', url }, 'wrong')).statusCode).toBe(200);
    }
  });

  it('the dashboard pages are open; the data they show stays behind its role', async () => {
    const { app } = await apiApp();
    for (const url of ['/ui', '/ui/app.js', '/ui/chain.js', '/ui/style.css']) {
      const res = await app.inject(url);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/(html|javascript|css)/);
    }
    expect((await app.inject('/ui/secret.txt')).statusCode).toBe(404);
    expect((await app.inject('/log/head')).statusCode).toBe(401);
    expect((await call(app, { method: 'GET', url: '/log/head' }, tok.read)).json()).toEqual({
      lid: 3,
    });
    // The admin view (proxied) is admin data: a read token is not enough.
    expect((await call(app, { method: 'GET', url: '/admin/view' }, tok.read)).statusCode).toBe(403);
    const view = await call(app, { method: 'GET', url: '/admin/view' }, tok.admin);
    expect(view.json().error.code).toBe('CHARIOTS_ERR_NOT_FOUND'); // no admin view in this test
  });

  it('an unknown route needs a valid token, then answers 404', async () => {
    const { app } = await apiApp();
    expect((await app.inject('/nope')).statusCode).toBe(401);
    const res = await call(app, { method: 'GET', url: '/nope' }, tok.read);
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('CHARIOTS_ERR_NOT_FOUND');
  });

  it('the scheme is case-insensitive; query strings and HEAD do not change the role', async () => {
    const { app } = await apiApp();
    const lower = await app.inject({
      url: '/record/1',
      headers: { authorization: `bearer ${tok.read}` },
    });
    expect(lower.statusCode).toBe(200);
    const head = await app.inject({ method: 'HEAD', url: '/log?from=1' });
    expect(head.statusCode).toBe(401);
    const tricky = await call(
      app,
      { method: 'POST', url: '/record?x=/log', payload: RECORD },
      tok.read,
    );
    expect(tricky.statusCode).toBe(403);
  });

  it('without tokens nothing is checked (as before)', async () => {
    const config = loadConfig({ env: {} });
    expect(authFromConfig(config, logger)).toBeUndefined();
    const { app } = await apiApp([]);
    const res = await call(app, { method: 'POST', url: '/record', payload: RECORD });
    expect(res.statusCode).toBe(200);
    expect((await app.inject('/deadletter')).statusCode).toBe(200);
  });
});

describe('bearer tokens on the admin port', () => {
  it('every route but /healthz and /readyz needs admin: 401, 403, 200', async () => {
    const { app } = await apiApp(TOKENS, 'admin');
    expect((await app.inject('/')).statusCode).toBe(401);
    expect((await call(app, { method: 'GET', url: '/' }, 'wrong')).statusCode).toBe(401);
    for (const t of [tok.read, tok.append, tok.both]) {
      const res = await call(app, { method: 'GET', url: '/' }, t);
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('CHARIOTS_ERR_FORBIDDEN');
    }
    expect((await call(app, { method: 'GET', url: '/' }, tok.admin)).statusCode).toBe(200);
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    expect((await app.inject('/readyz')).statusCode).toBe(200);
  });
});

describe('requiredRole', () => {
  it.each([
    ['POST', '/record', 'api', 'append'],
    ['POST', '/records', 'api', 'append'],
    ['GET', '/record/:lid', 'api', 'read'],
    ['HEAD', '/record/:lid', 'api', 'read'],
    ['GET', '/records', 'api', 'read'],
    ['GET', '/log', 'api', 'read'],
    ['GET', '/log/stream', 'api', 'read'],
    ['GET', '/deferred', 'api', 'read'],
    ['GET', '/deadletter', 'api', 'read'],
    ['POST', '/deadletter/:id/retry', 'api', 'admin'],
    ['GET', '/metrics', 'api', 'admin'],
    ['GET', '/metrics', 'admin', 'admin'],
    ['GET', '/', 'admin', 'admin'],
    ['GET', '/recordsx', 'api', 'admin'],
    ['DELETE', '/record/:lid', 'api', 'admin'],
    ['GET', '/healthz', 'api', null],
    ['GET', '/readyz', 'admin', null],
    ['GET', undefined, 'api', 'any'],
    ['GET', '/ui', 'api', null],
    ['GET', '/ui/:file', 'api', null],
    ['GET', '/docs', 'api', null],
    ['GET', '/docs/static/*', 'api', null],
    ['GET', '/openapi.json', 'api', null],
    ['GET', '/uix', 'api', 'admin'],
    ['GET', '/ui', 'admin', 'admin'],
    ['GET', '/log/head', 'api', 'read'],
    ['GET', '/admin/view', 'api', 'admin'],
  ] as const)('%s %s on %s needs %s', (method, route, scope, need) => {
    expect(requiredRole(method, route, scope)).toBe(need);
  });
});

describe('token configuration', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'auth-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('parses <token>:<role>[+<role>…], a token may hold colons and base64 characters', () => {
    expect(parseTokenEntry('a:b/c+d=:read+append', 'x')).toEqual({
      token: 'a:b/c+d=',
      roles: ['read', 'append'],
    });
    for (const bad of ['tok', 'tok:', ':read', 'tok:root', 'tok:read+', 'to k:read', 'a,b:read'])
      expect(() => parseTokenEntry(bad, 'where')).toThrow(ConfigError);
  });

  it('CHARIOTS_AUTH_TOKENS is comma separated; a bad entry stops the start without echoing it', () => {
    const config = loadConfig({ env: { CHARIOTS_AUTH_TOKENS: 'a1:read, b2:append+read' } });
    expect(config.auth.tokens).toEqual(['a1:read', 'b2:append+read']);
    const auth = authFromConfig(config, logger)!;
    expect([...auth.authenticate('b2')!]).toEqual(['append', 'read']);
    expect(auth.authenticate('a1:read')).toBeUndefined();
    let err: unknown;
    try {
      loadConfig({ env: { CHARIOTS_AUTH_TOKENS: 's3cr3t:superuser' } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(String((err as Error).message)).toContain('auth.tokens.0');
    expect(String((err as Error).message)).not.toContain('s3cr3t');
  });

  it('reads the tokens file (comments, blank lines), merges auth.tokens, re-reads on SIGHUP', async () => {
    const file = join(dir, 'tokens');
    writeFileSync(file, '# ops tokens\n\nfile-read:read\r\n  file-root:admin  \n');
    expect(readTokensFile(file)).toEqual([
      { token: 'file-read', roles: ['read'] },
      { token: 'file-root', roles: ['admin'] },
    ]);
    const config = loadConfig({
      env: { CHARIOTS_AUTH_TOKENS_FILE: file },
      overrides: { auth: { tokens: ['inline:append'] } },
    });
    const auth = authFromConfig(config, logger)!;
    try {
      expect(authFromConfig(config, logger)).toBe(auth);
      expect(auth.size).toBe(3);
      const app = createApp({ logger, health: new Health(), bodyLimitBytes: 1024, auth });
      app.get('/log', async () => ({ records: [] }));
      const get = (t: string) => call(app, { method: 'GET', url: '/log' }, t);
      expect((await get('file-read')).statusCode).toBe(200);
      expect((await get('inline')).statusCode).toBe(403);
      expect((await get('new-one')).statusCode).toBe(401);

      writeFileSync(file, 'new-one:read\n');
      process.emit('SIGHUP', 'SIGHUP');
      expect((await get('new-one')).statusCode).toBe(200);
      expect((await get('file-read')).statusCode).toBe(401);

      // A broken file on reload keeps the previous tokens.
      writeFileSync(file, 'broken line\n');
      auth.reload();
      expect((await get('new-one')).statusCode).toBe(200);

      // An emptied file keeps the checks on: nothing but the inline token is valid.
      writeFileSync(file, '');
      auth.reload();
      expect((await get('new-one')).statusCode).toBe(401);
      expect((await get('inline')).statusCode).toBe(403);
    } finally {
      auth.close();
    }
  });

  it('an unreadable or malformed tokens file stops the start with CHARIOTS_ERR_BAD_CONFIG', () => {
    const missing = loadConfig({ env: { CHARIOTS_AUTH_TOKENS_FILE: join(dir, 'none') } });
    expect(() => authFromConfig(missing, logger)).toThrow(/cannot read auth.tokensFile/);
    const file = join(dir, 'bad');
    writeFileSync(file, 'ok:read\nsecret-value\n');
    const bad = loadConfig({ env: { CHARIOTS_AUTH_TOKENS_FILE: file } });
    expect(() => authFromConfig(bad, logger)).toThrow(`${file}:2`);
    expect(() => authFromConfig(bad, logger)).not.toThrow(/secret-value/);
  });

  it('an empty tokens file means no token is valid, not an open API', () => {
    const auth = new Authenticator([], true);
    expect(auth.enabled).toBe(true);
    expect(auth.authenticate('')).toBeUndefined();
    expect(new Authenticator([]).enabled).toBe(false);
  });
});
