import type { FastifyInstance } from 'fastify';
import { acceptRawBodies } from '../../http/raw-body';
import { registerAdminRoutes, type AdminRouteDeps } from './routes-admin';
import { registerAppendRoutes, type AppendRouteDeps } from './routes-append';

export type BatcherRouteDeps = AppendRouteDeps & AdminRouteDeps;

/**
 * The batcher's HTTP API, in its own encapsulated context: its raw-body parsers must not
 * change how other routes of the same app (health, readiness, other stages') parse bodies.
 */
export async function registerBatcherRoutes(
  app: FastifyInstance,
  deps: BatcherRouteDeps,
): Promise<void> {
  await app.register(async (scope) => {
    acceptRawBodies(scope);
    registerAppendRoutes(scope, deps);
    registerAdminRoutes(scope, deps);
  });
}
