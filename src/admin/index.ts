// The admin API: bearer-token auth, then each resource's routes, registered explicitly.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';
import type { Db } from '../db/connect.ts';
import { errorBody } from '../errors.ts';
import { ErrorBody } from './schemas.ts';
import { setupRoutes } from './setup-routes.ts';
import { customerRoutes } from './customer-routes.ts';
import { assignRoutes } from './assign-routes.ts';
import { importRoutes } from './import-routes.ts';
import { auditRoutes } from './audit-routes.ts';
import { statisticsRoutes } from './statistics-routes.ts';
import { decimalIdParams } from '../security.ts';

export interface AdminDeps {
  config: Config;
  db: Db;
}

export async function adminRoutes(admin: FastifyInstance, deps: AdminDeps) {
  admin.addSchema(ErrorBody);
  const expected = deps.config.adminToken === undefined ? undefined : createHash('sha256').update(deps.config.adminToken).digest();

  admin.addHook('onRequest', async (request, reply) => {
    if (expected === undefined) {
      return reply.code(403).send(errorBody('admin_closed', 'The admin API is closed: set CRM_ADMIN_TOKEN to a secret token and restart to open it'));
    }
    const header = request.headers.authorization;
    const token = typeof header === 'string' && /^Bearer /i.test(header) ? header.slice(7).trim() : '';
    const given = createHash('sha256').update(token).digest();
    if (token === '' || !timingSafeEqual(given, expected)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send(errorBody('unauthorized', 'Missing or invalid bearer token'));
    }
  });

  admin.addHook('preValidation', decimalIdParams);
  await setupRoutes(admin, deps);
  await customerRoutes(admin, deps);
  await assignRoutes(admin, deps);
  await admin.register(importRoutes, { config: deps.config, db: deps.db });
  await auditRoutes(admin, deps);
  await statisticsRoutes(admin, deps);
}
