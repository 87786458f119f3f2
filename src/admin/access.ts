// Who may call which admin route. The bearer token (CRM_ADMIN_TOKEN) is a machine with every right; a
// console session is a user with a role and, optionally, a list of projects.
//
// Roles are declared on each route: `config: { role: 'agent' | 'supervisor' | 'admin' }`, the lowest
// role that may call it. A route without it is admin-only: routes are added by many hands, and one that
// forgot to say is closed, not open.
//
// Projects: before a session's request reaches its handler, every id in its path and query that names a
// row of a project (PROJECT_OF below) is resolved to that project; a project outside the user's
// project_ids is 403. A path id this table does not know, on a route without :project_id, is 403 for a
// user limited to projects (closed, again, until someone says how to find its project).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import type { Db, Q } from '../db/connect.ts';
import { errorBody, forbidden } from '../errors.ts';
import { findSession } from '../access/sessions.ts';
import { projectAllowed, roleAllows, type Principal, type Role } from '../access/roles.ts';
import { csrfTokenMatches, foreignOrigin, isUnsafe, sessionCookie } from '../auth/session-http.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The lowest role that may call this admin route; absent = admin only. */
    role?: Role;
  }
  interface FastifyRequest {
    /** Who is calling (set by the admin API's access hook). */
    principal?: Principal;
  }
}

/** Tables whose rows belong to one project, by the name of the id that points at them. */
export const PROJECT_OF: Record<string, 'customers' | 'assigns' | 'repositories' | 'workers' | 'statuses' | 'groups' | 'sites' | 'fields'> = {
  customer_id: 'customers',
  assign_id: 'assigns',
  repository_id: 'repositories',
  worker_id: 'workers',
  status_id: 'statuses',
  group_id: 'groups',
  site_id: 'sites',
  field_id: 'fields',
};

const CLOSED = 'The admin API is closed: set CRM_ADMIN_TOKEN to a secret token and restart, or sign in to the console (create a user with `callcrm user add`)';

export function registerAccess(admin: FastifyInstance, { config, db }: { config: Config; db: Db }) {
  const expected = config.adminToken === undefined ? undefined : createHash('sha256').update(config.adminToken).digest();
  const idleMs = config.sessionIdleMinutes * 60_000;
  admin.decorateRequest('principal', undefined);

  admin.addHook('onRequest', async (request, reply) => {
    const header = request.headers.authorization;
    if (header !== undefined || sessionCookie(request) === undefined) {
      if (expected === undefined) return reply.code(403).send(errorBody('admin_closed', CLOSED));
      const token = typeof header === 'string' && /^Bearer /i.test(header) ? header.slice(7).trim() : '';
      const given = createHash('sha256').update(token).digest();
      if (token === '' || !timingSafeEqual(given, expected)) {
        return reply.code(401).header('www-authenticate', 'Bearer').send(errorBody('unauthorized', 'Missing or invalid bearer token (or sign in to the console)'));
      }
      request.principal = { kind: 'token' };
      return;
    }

    const session = await findSession(db.q, sessionCookie(request)!, idleMs);
    if (!session) return reply.code(401).send(errorBody('unauthorized', 'The session has ended; sign in again'));
    // Checked before the body is read: a cross-site form post must not even be parsed.
    if (isUnsafe(request.method) && (foreignOrigin(request) || !csrfTokenMatches(request, session.csrfToken))) {
      return reply.code(403).send(errorBody('forbidden', 'A session request that changes something needs the X-CSRF-Token header of the session, from this site'));
    }
    const need = request.routeOptions.config?.role ?? 'admin';
    if (!roleAllows(session.user.role, need)) {
      return reply.code(403).send(errorBody('forbidden', `This needs the ${need} role; you are signed in as ${session.user.role}`));
    }
    request.principal = { kind: 'session', user: session.user, csrfToken: session.csrfToken };
  });

  // After validation: the ids are numbers by now.
  admin.addHook('preHandler', async (request) => {
    const p = request.principal;
    if (p?.kind !== 'session' || p.user.project_ids === null) return;
    const params = (request.params ?? {}) as Record<string, unknown>;
    const query = (request.query ?? {}) as Record<string, unknown>;
    const hasProject = 'project_id' in params;
    for (const [name, value] of [...Object.entries(params), ...Object.entries(query)]) {
      if (typeof value !== 'number' && typeof value !== 'string') continue;
      const id = Number(value);
      if (name === 'project_id') {
        if (Number.isSafeInteger(id) && !projectAllowed(p, id)) throw outside();
        continue;
      }
      const table = PROJECT_OF[name];
      if (table === undefined) {
        if (name in params && /id$/.test(name) && !hasProject) throw forbidden(`${name} cannot be checked against your projects`);
        continue;
      }
      if (!Number.isSafeInteger(id)) continue;
      const project = await projectOfRow(db.q, table, id);
      // A row that does not exist is the handler's 404 (or 422) to answer.
      if (project !== undefined && !projectAllowed(p, project)) throw outside();
    }
  });
}

const outside = () => forbidden('This belongs to a project you have no access to');

async function projectOfRow(q: Q, table: (typeof PROJECT_OF)[string], id: number): Promise<number | undefined> {
  const row = await q.selectFrom(table).select('project_id').where('id', '=', id).executeTakeFirst();
  return row?.project_id;
}

/** The principal of a request that passed the access hook. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error('principalOf outside the admin API');
  return request.principal;
}
