import type { FastifyInstance } from 'fastify';
import type { StoreReader } from '../../flstore/types';
import { acceptRawBodies } from '../../http/raw-body';
import { registerReadForwarding, type ReadForwardOptions } from '../../http/read-forward';
import { addReadRoutes } from '../../http/reads';
import { registerUiRoutes } from '../../http/ui';
import { registerAdminRoutes, type AdminRouteDeps } from './routes-admin';
import { registerAppendRoutes, type AppendRouteDeps } from './routes-append';

export const BATCHER_OPENAPI = {
  title: 'Chariots HTTP API',
  description:
    'A causally ordered shared log on Kafka. Records, prerequisites and errors: README.md and SPEC §1.',
};

export type BatcherRouteDeps = AppendRouteDeps &
  AdminRouteDeps & {
    /** An in-process maintainer's store (chariots dev): the batcher then serves the reads. */
    store?: StoreReader;
    /** Else, maintainers' read APIs to forward the reads to (batcher.readUrls; split stages). */
    forwardReads?: ReadForwardOptions;
    /** This process's admin view, proxied for the dashboard. */
    adminUrl?: () => string | undefined;
  };

/**
 * Every route the batcher serves besides createApp's own (one place, so the OpenAPI
 * coverage test sees exactly what runs). The append and admin routes are in their own
 * encapsulated context: their raw-body parsers must not change how other routes parse.
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
  await app.register(async (scope) =>
    registerUiRoutes(scope, { adminUrl: deps.adminUrl ?? (() => undefined) }),
  );
  // Without either, the read routes answer 404 CHARIOTS_ERR_NOT_FOUND (no route).
  if (deps.store) await addReadRoutes(app, deps.store);
  else if (deps.forwardReads?.urls.length)
    await app.register(registerReadForwarding, deps.forwardReads);
}
