import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AUTH_TOKEN_PATTERN, type ChariotsConfig } from '../config/schema';
import { ChariotsError, ConfigError } from '../errors';
import type { Logger } from '../logger';

/**
 * Optional bearer-token access control of the HTTP API (docs/security.md). A token carries
 * roles; `admin` implies `read` and `append`. With no token configured (neither
 * `auth.tokens` nor `auth.tokensFile`) nothing is checked, as before.
 */
export const ROLES = ['append', 'read', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface TokenEntry {
  token: string;
  roles: Role[];
}

/** Parses `<token>:<role>[+<role>…]`; `where` names the source in the error, never the token. */
export function parseTokenEntry(entry: string, where: string): TokenEntry {
  const s = entry.trim();
  if (!AUTH_TOKEN_PATTERN.test(s))
    throw new ConfigError(
      `${where}: a token entry is <token>:<role>[+<role>…] with roles ${ROLES.join(', ')}`,
    );
  const i = s.lastIndexOf(':');
  return { token: s.slice(0, i), roles: s.slice(i + 1).split('+') as Role[] };
}

/** A tokens file: one `<token>:<roles>` per line; blank lines and `#` comments are skipped. */
export function readTokensFile(path: string): TokenEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read auth.tokensFile ${path}: ${(e as Error).message}`, {
      option: 'auth.tokensFile',
    });
  }
  const out: TokenEntry[] = [];
  text.split(/\r?\n/).forEach((line, n) => {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return;
    out.push(parseTokenEntry(t, `${path}:${n + 1}`));
  });
  return out;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * The set of valid tokens. A presented token is hashed and compared with EVERY stored
 * hash by `timingSafeEqual` (equal-length buffers, no early exit), so neither a match nor
 * a common prefix shows in the response time.
 */
export class Authenticator {
  private entries: Array<{ hash: Buffer; roles: ReadonlySet<Role> }> = [];

  constructor(
    entries: TokenEntry[],
    /** True when a tokens file is configured: checks stay on even if it holds no token. */
    private readonly required = false,
  ) {
    this.replace(entries);
  }

  /** Whether requests are checked at all. */
  get enabled(): boolean {
    return this.required || this.entries.length > 0;
  }

  get size(): number {
    return this.entries.length;
  }

  replace(entries: TokenEntry[]): void {
    this.entries = entries.map((e) => ({ hash: digest(e.token), roles: new Set(e.roles) }));
  }

  /** The roles of `token`, or undefined when it is not a valid token. */
  authenticate(token: string): ReadonlySet<Role> | undefined {
    const h = digest(token);
    let found: ReadonlySet<Role> | undefined;
    for (const e of this.entries) if (timingSafeEqual(h, e.hash) && !found) found = e.roles;
    return found;
  }
}

export const hasRole = (roles: ReadonlySet<Role>, required: Role): boolean =>
  roles.has(required) || roles.has('admin');

/** Which API an app serves: the client API (batcher, maintainer) or the admin port. */
export type AuthScope = 'api' | 'admin';

/** `null` = open; `'any'` = any valid token; else the role needed. */
export type Requirement = Role | 'any' | null;

const under = (url: string, prefixes: string[]) =>
  prefixes.some((p) => url === p || url.startsWith(`${p}/`));

/**
 * The role a route needs, from its method and route pattern (`/record/:lid`, not the raw
 * URL, so query strings and encodings cannot dodge it). A matched route missing from this
 * table needs `admin` (closed by default); an unmatched URL (404) needs any valid token.
 */
export function requiredRole(
  method: string,
  route: string | undefined,
  scope: AuthScope = 'api',
): Requirement {
  if (route === '/healthz' || route === '/readyz') return null;
  // Pages and API description only: the data they show is fetched with the user's token.
  if (scope === 'api' && (route === '/openapi.json' || under(route ?? '', ['/ui', '/docs'])))
    return null;
  if (route === undefined) return 'any';
  if (scope === 'admin') return 'admin';
  const m = method === 'HEAD' ? 'GET' : method;
  if (m === 'POST' && (route === '/record' || route === '/records')) return 'append';
  if (m === 'GET' && under(route, ['/record', '/records', '/log', '/deferred', '/deadletter']))
    return 'read';
  return 'admin';
}

const REALM = 'Bearer realm="chariots"';

function deny(reply: FastifyReply, err: ChariotsError, challenge: string): FastifyReply {
  return reply.status(err.httpStatus).header('www-authenticate', challenge).send(err.toJSON());
}

/**
 * Checks every request of `app` (and of the plugins registered on it afterwards, since a
 * root hook is inherited): 401 without a valid `Authorization: Bearer <token>`, 403 when
 * the token lacks the route's role. Runs in onRequest, before any body is read.
 */
export function installAuth(app: FastifyInstance, auth: Authenticator, scope: AuthScope): void {
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (!auth.enabled) return;
    const need = requiredRole(req.method, req.routeOptions.url, scope);
    if (need === null) return;
    const m = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(req.headers.authorization ?? '');
    if (!m) {
      req.log.debug({ route: req.routeOptions.url }, 'request without a bearer token refused');
      return deny(
        reply,
        new ChariotsError(
          'CHARIOTS_ERR_UNAUTHORIZED',
          'this API needs an Authorization: Bearer <token> header',
        ),
        REALM,
      );
    }
    const roles = auth.authenticate(m[1]);
    if (!roles) {
      req.log.debug({ route: req.routeOptions.url }, 'request with an unknown token refused');
      return deny(
        reply,
        new ChariotsError('CHARIOTS_ERR_UNAUTHORIZED', 'the bearer token is not valid'),
        `${REALM}, error="invalid_token"`,
      );
    }
    if (need !== 'any' && !hasRole(roles, need)) {
      req.log.debug({ route: req.routeOptions.url, need }, 'token without the role refused');
      return deny(
        reply,
        new ChariotsError(
          'CHARIOTS_ERR_FORBIDDEN',
          `${req.method} ${req.routeOptions.url ?? req.url} needs the ${need} role; the token has ${[...roles].join('+')}`,
          { details: { role: need } },
        ),
        `${REALM}, error="insufficient_scope", scope="${need}"`,
      );
    }
  });
}

export interface ConfiguredAuthenticator extends Authenticator {
  /** Re-reads auth.tokensFile (what SIGHUP does); keeps the old tokens if it fails. */
  reload(): void;
  /** Stops listening for SIGHUP. */
  close(): void;
}

const byConfig = new WeakMap<object, ConfiguredAuthenticator | null>();

/**
 * The authenticator of a configuration, or undefined when no token is configured (open
 * API). One per configuration object, so the stages of one process share it and its one
 * SIGHUP listener; an unreadable or malformed tokens file stops the start
 * (CHARIOTS_ERR_BAD_CONFIG), and on SIGHUP is logged and the previous tokens stay.
 */
export function authFromConfig(
  config: Pick<ChariotsConfig, 'auth'>,
  logger: Logger,
): ConfiguredAuthenticator | undefined {
  const known = byConfig.get(config);
  if (known !== undefined) return known ?? undefined;
  const { tokens, tokensFile } = config.auth;
  const load = () => [
    ...tokens.map((t, i) => parseTokenEntry(t, `auth.tokens[${i}]`)),
    ...(tokensFile ? readTokensFile(tokensFile) : []),
  ];
  const entries = load();
  if (entries.length === 0 && !tokensFile) {
    byConfig.set(config, null);
    return undefined;
  }
  const auth = new Authenticator(entries, tokensFile !== '') as ConfiguredAuthenticator;
  const log = logger.child({ component: 'auth' });
  auth.reload = () => {
    try {
      auth.replace(load());
      log.info({ tokens: auth.size, file: tokensFile }, 'bearer tokens reloaded');
    } catch (e) {
      log.error({ err: e, file: tokensFile }, 'bearer tokens not reloaded; the previous ones stay');
    }
  };
  const onHup = () => auth.reload();
  if (tokensFile) process.on('SIGHUP', onHup);
  auth.close = () => {
    process.off('SIGHUP', onHup);
  };
  log.info({ tokens: auth.size, file: tokensFile || undefined }, 'bearer-token access control on');
  byConfig.set(config, auth);
  return auth;
}
