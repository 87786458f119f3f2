// The inbound integrations surface: PBX and dialer dialects beside the telephony API, on the same
// lookup, writes and keys. Wired by app.ts under {BASE}/integrations.
import type { FastifyInstance } from 'fastify';
import type { IntegrationDeps } from './context.ts';
import { threecxRoutes } from './threecx.ts';
import { vicidialRoutes } from './vicidial.ts';
import { asteriskRoutes } from './asterisk.ts';

export type { IntegrationDeps } from './context.ts';

export async function integrationRoutes(app: FastifyInstance, deps: IntegrationDeps) {
  await threecxRoutes(app, deps);
  await vicidialRoutes(app, deps);
  await asteriskRoutes(app, deps);
}
