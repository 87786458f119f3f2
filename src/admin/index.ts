// The admin API: access (bearer token or console session, roles, projects: access.ts), then each
// resource's routes, registered explicitly.
import type { FastifyInstance } from 'fastify';
import type { NamedKeyStore } from '../access/keys.ts';
import { ErrorBody } from './schemas.ts';
import { registerAccess } from './access.ts';
import { userRoutes } from './user-routes.ts';
import { keyRoutes } from './key-routes.ts';
import { setupRoutes } from './setup-routes.ts';
import { customerRoutes } from './customer-routes.ts';
import { assignRoutes } from './assign-routes.ts';
import { importRoutes } from './import-routes.ts';
import { auditRoutes } from './audit-routes.ts';
import { lifecycleRoutes } from './lifecycle-routes.ts';
import { webhookRoutes } from './webhook-routes.ts';
import { integrationRoutes } from './integration-routes.ts';
import { statisticsRoutes } from './statistics-routes.ts';
import { decimalIdParams } from '../security.ts';
import { refuseNul, strictQueryIntegers } from './input-guard.ts';
import type { AdminDeps } from './deps.ts';

export async function adminRoutes(admin: FastifyInstance, deps: AdminDeps & { keys: NamedKeyStore }) {
  admin.addSchema(ErrorBody);
  registerAccess(admin, deps);

  admin.addHook('preValidation', decimalIdParams);
  admin.addHook('preValidation', strictQueryIntegers);
  admin.addHook('preValidation', refuseNul);
  await setupRoutes(admin, deps);
  await customerRoutes(admin, deps);
  await assignRoutes(admin, deps);
  await admin.register(importRoutes, { config: deps.config, db: deps.db, setup: deps.setup });
  await auditRoutes(admin, deps);
  await lifecycleRoutes(admin, deps);
  await webhookRoutes(admin, deps);
  await integrationRoutes(admin, deps);
  await statisticsRoutes(admin, deps);
  await userRoutes(admin, deps);
  await keyRoutes(admin, deps);
}
