import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';

export interface OpenApiOptions {
  title: string;
  description: string;
}

/**
 * The OpenAPI document of every route registered on `app` after this call, built by
 * @fastify/swagger from the routes' schemas: served at `/openapi.json` and as Swagger UI at
 * `/docs` (its assets ship in the npm package: nothing is fetched at run time). Must run
 * before any route is added, since the document is collected by an onRoute hook; routes
 * with `schema.hide` (Swagger UI's own, `/openapi.json`) are left out.
 */
export function registerOpenApi(app: FastifyInstance, opts: OpenApiOptions): void {
  const { version } = JSON.parse(
    readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'),
  ) as { version: string };
  // Not awaited: plugins load in registration order, so the routes registered after this
  // (also inside later plugins) are seen by swagger's onRoute hook.
  void app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: opts.title, description: opts.description, version },
      tags: [
        { name: 'append', description: 'Adding records (role append)' },
        { name: 'read', description: 'Reading the log from flstore (role read)' },
        { name: 'waiting', description: 'Deferred and dead-lettered records (SPEC §2.6)' },
        { name: 'operations', description: 'Health, readiness, metrics, the dashboard' },
      ],
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'Only when auth.tokens / auth.tokensFile are set (docs/security.md)',
          },
        },
      },
      security: [{ bearer: [] }],
    },
  });
  void app.register(swaggerUi, { routePrefix: '/docs', logLevel: 'warn' });
  void app.register(async (scope) => {
    scope.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  });
}
