import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ChariotsError } from '../errors';
import { errorResponses } from './schemas';

/**
 * The dashboard at `/ui`: static HTML, vanilla JS and SVG from src/http/ui/ (copied to
 * dist/http/ui/ by `npm run build`), no framework and nothing fetched from outside. The page
 * calls this API with the token the user typed (kept in localStorage), so the pages
 * themselves are open (src/http/auth.ts) and every datum stays behind its role.
 */
const ASSETS: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'chain.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

export const UI_DIR = join(__dirname, 'ui');

export interface UiOptions {
  /**
   * Where this host's admin view listens (src/http/admin.ts), read per request since it
   * starts after the stages; undefined when it does not run.
   */
  adminUrl(): string | undefined;
}

export function registerUiRoutes(app: FastifyInstance, opts: UiOptions): void {
  // Read once: a few kB, and a missing file should fail the start, not the first visitor.
  const files = new Map(
    Object.entries(ASSETS).map(([name, type]) => [
      name,
      { type, body: readFileSync(join(UI_DIR, name)) },
    ]),
  );
  const serve = (name: string) => files.get(name)!;

  app.get('/ui', { schema: page('The dashboard') }, async (_req, reply) => {
    const f = serve('index.html');
    return reply.type(f.type).header('cache-control', 'no-cache').send(f.body);
  });
  app.get<{ Params: { file: string } }>(
    '/ui/:file',
    { schema: { ...page('A file of the dashboard (app.js, chain.js, style.css)'), params: FILE } },
    async (req, reply) => {
      const f = files.get(req.params.file);
      if (!f)
        throw new ChariotsError('CHARIOTS_ERR_NOT_FOUND', `no dashboard file ${req.params.file}`);
      return reply.type(f.type).header('cache-control', 'no-cache').send(f.body);
    },
  );

  // The admin view lives on its own port; proxying it here keeps the page same-origin (no
  // CORS on the admin port) and under the admin role, with the caller's own token.
  app.get('/admin/view', { schema: ADMIN_VIEW }, async (req, reply) => {
    const url = opts.adminUrl();
    if (!url)
      throw new ChariotsError(
        'CHARIOTS_ERR_NOT_FOUND',
        'no admin view runs in this process (http.adminEnabled is false or its port was taken)',
      );
    const auth = req.headers.authorization;
    let res: Response;
    try {
      res = await fetch(`${url}/`, {
        headers: auth ? { authorization: auth } : {},
        signal: AbortSignal.timeout(10000),
      });
    } catch (e) {
      throw new ChariotsError('CHARIOTS_ERR_INTERNAL', `the admin view at ${url} did not answer`, {
        cause: e,
      });
    }
    // Its errors (e.g. a 401) are already in the catalog's shape: passed on as they are.
    return (reply as FastifyReply).status(res.status).send(await res.json());
  });
}

const page = (summary: string) => ({
  summary,
  tags: ['operations'],
  security: [],
  response: {
    200: { description: summary, content: { 'text/html': { schema: { type: 'string' } } } },
    ...errorResponses(404),
  },
});

const FILE = {
  type: 'object',
  required: ['file'],
  properties: { file: { type: 'string', enum: Object.keys(ASSETS) } },
};

const ADMIN_VIEW = {
  summary: "The admin view (admin port's GET /): stages, instances, lag",
  description: "GoChariots' controller shape plus `stages`, read from Kafka; for the dashboard.",
  tags: ['operations'],
  response: {
    200: {
      type: 'object',
      required: ['stages'],
      additionalProperties: true,
      properties: {
        apps: { type: 'array', items: { type: 'string' } },
        batchers: { type: 'array', items: { type: 'string' } },
        filters: { type: 'array', items: { type: 'string' } },
        queues: { type: 'array', items: { type: 'string' } },
        maintainers: { type: 'array', items: { type: 'string' } },
        indexers: { type: 'array', items: { type: 'string' } },
        remoteBatchers: { type: 'array', items: { type: 'string' } },
        stages: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            required: ['instances', 'lag'],
            properties: {
              lag: { type: 'integer', description: 'Records not yet processed' },
              instances: { type: 'array', items: { type: 'object', additionalProperties: true } },
              groups: { type: 'array', items: { type: 'object', additionalProperties: true } },
            },
          },
        },
      },
    },
    ...errorResponses(404),
  },
};
