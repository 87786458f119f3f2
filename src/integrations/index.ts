// The inbound integrations surface: PBX and dialer dialects beside the telephony API, on the same
// lookup, writes and keys. Wired by app.ts under {BASE}/integrations.
import type { FastifyInstance } from 'fastify';
import type { IntegrationDeps } from './context.ts';
import { threecxRoutes } from './threecx.ts';
import { vicidialRoutes } from './vicidial.ts';
import { asteriskRoutes } from './asterisk.ts';

export type { IntegrationDeps } from './context.ts';

export async function integrationRoutes(app: FastifyInstance, deps: IntegrationDeps) {
  // Hidden from the OpenAPI document of the admin API: these speak the PBXs' dialects (docs/integrations.md).
  app.addHook('onRoute', (route) => {
    route.schema = { ...(route.schema ?? {}), hide: true };
  });
  await threecxRoutes(app, deps);
  await vicidialRoutes(app, deps);
  await asteriskRoutes(app, deps);
}
