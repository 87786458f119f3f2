// Projects and what sets one up: fields, statuses, groups, sites, workers, repositories, DIDs.
import type { FastifyInstance } from 'fastify';
import type { Q } from '../db/connect.ts';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { createField, listFields } from '../crm/fields.ts';
import { createDid, createPart, createProject, createStaffed, getProject, listDids, listParts, listProjects, type PartTable } from '../crm/setup.ts';
import { keyPageOf, pageOf } from './paging.ts';
import { principalOf } from './access.ts';
import { projectLimit } from '../access/roles.ts';
import type { AdminDeps } from './deps.ts';
import * as S from './schemas.ts';
import * as wire from './wire.ts';

export async function setupRoutes(app: FastifyInstance, { db, config }: AdminDeps) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['setup'];
  // Roles (admin/access.ts): writes are admin-only (no `role`); reading a project's setup is for every
  // signed-in role, because the console needs labels, statuses and names to show a customer.
  const agent = { role: 'agent' } as const;
  const supervisor = { role: 'supervisor' } as const;

  r.post('/projects', { schema: { tags, summary: 'Create a project', body: S.NamedInput, response: { 201: S.Project, ...S.errorResponses(400, 409, 413) } } }, async (req, reply) =>
    reply.code(201).send(wire.project(await db.write((trx) => createProject(trx, req.body)))),
  );
  r.get('/projects', { config: agent, schema: { tags, summary: 'List projects (a user limited to projects sees those)', querystring: S.PageQuery, response: { 200: S.listOf(S.Project), ...S.errorResponses(400) } } }, async (req) => {
    const page = pageOf(req.query);
    const limit = projectLimit(principalOf(req));
    const rows = limit === null ? await listProjects(db.q, page) : await listProjectsIn(db.q, limit, page);
    return wire.page(rows, page.limit, wire.project);
  });
  r.get('/projects/:project_id', { config: agent, schema: { tags, summary: 'Get a project', params: S.ProjectParams, response: { 200: S.Project, ...S.errorResponses(400, 404) } } }, async (req) =>
    wire.project(await getProject(db.q, req.params.project_id)),
  );

  r.post('/projects/:project_id/fields', { schema: { tags, summary: 'Add a form field to a project', params: S.ProjectParams, body: S.FieldInput, response: { 201: S.Field, ...S.errorResponses(400, 404, 409, 413) } } }, async (req, reply) => {
    const field = await db.write(async (trx) => {
      await getProject(trx, req.params.project_id);
      return createField(trx, req.params.project_id, req.body as Parameters<typeof createField>[2]);
    });
    return reply.code(201).send(field);
  });
  r.get('/projects/:project_id/fields', { config: agent, schema: { tags, summary: "List a project's fields in form order", params: S.ProjectParams, querystring: S.ArchivedPageQuery, response: { 200: S.listOf(S.Field), ...S.errorResponses(400, 404) } } }, async (req) => {
    await getProject(db.q, req.params.project_id);
    // A project's fields are few: the page is cut from the ordered list by its (position, id) key.
    const page = keyPageOf(req.query, 'f', 2);
    const all = await listFields(db.q, req.params.project_id, { archived: req.query.archived });
    const after = page.after;
    const rest = after === undefined ? all : all.filter((f) => f.position > after[0]! || (f.position === after[0] && f.id > after[1]!));
    const items = rest.slice(0, page.limit);
    const last = items[items.length - 1];
    return { items, next_cursor: items.length === page.limit && last ? wire.encodeKeyCursor('f', [last.position, last.id]) : null };
  });

  const parts: [string, PartTable, string][] = [['statuses', 'statuses', 'status'], ['groups', 'groups', 'group'], ['sites', 'sites', 'site']];
  for (const [path, table, one] of parts) {
    r.post(`/projects/:project_id/${path}`, { schema: { tags, summary: `Create a ${one}`, params: S.ProjectParams, body: S.NamedInput, response: { 201: S.Part, ...S.errorResponses(400, 404, 409, 413) } } }, async (req, reply) =>
      reply.code(201).send(wire.part(await db.write((trx) => createPart(trx, table, req.params.project_id, req.body)))),
    );
    r.get(`/projects/:project_id/${path}`, { config: agent, schema: { tags, summary: `List a project's ${path}`, params: S.ProjectParams, querystring: S.ArchivedPageQuery, response: { 200: S.listOf(S.Part), ...S.errorResponses(400, 404) } } }, async (req) => {
      const page = pageOf(req.query);
      return wire.page(await listParts(db.q, table, req.params.project_id, { ...page, archived: req.query.archived }), page.limit, wire.part);
    });
  }

  for (const [table, one] of [['workers', 'worker'], ['repositories', 'repository (lead list)']] as const) {
    r.post(`/projects/:project_id/${table}`, { schema: { tags, summary: `Create a ${one}`, params: S.ProjectParams, body: S.StaffedInput, response: { 201: S.Staffed, ...S.errorResponses(400, 404, 409, 413, 422) } } }, async (req, reply) =>
      reply.code(201).send(wire.staffed(await db.write((trx) => createStaffed(trx, table, req.params.project_id, req.body)))),
    );
    r.get(`/projects/:project_id/${table}`, { config: agent, schema: { tags, summary: `List a project's ${table}`, params: S.ProjectParams, querystring: S.ArchivedPageQuery, response: { 200: S.listOf(S.Staffed), ...S.errorResponses(400, 404) } } }, async (req) => {
      const page = pageOf(req.query);
      return wire.page(await listParts(db.q, table, req.params.project_id, { ...page, archived: req.query.archived }), page.limit, wire.staffed);
    });
  }

  r.post('/projects/:project_id/dids', { schema: { tags, summary: 'Register a DID (dialed number), optionally pinned to a repository', params: S.ProjectParams, body: S.DidInput, response: { 201: S.Did, ...S.errorResponses(400, 404, 409, 413, 422) } } }, async (req, reply) =>
    reply.code(201).send(wire.did(await db.write((trx) => createDid(trx, req.params.project_id, req.body, config.defaultCountry)))),
  );
  r.get('/projects/:project_id/dids', { config: supervisor, schema: { tags, summary: "List a project's DIDs", params: S.ProjectParams, querystring: S.PageQuery, response: { 200: S.listOf(S.Did), ...S.errorResponses(400, 404) } } }, async (req) => {
    const page = pageOf(req.query);
    return wire.page(await listDids(db.q, req.params.project_id, page), page.limit, wire.did);
  });
}

/** Projects among `ids`, in id order, a page at a time (the project list of a user limited to projects). */
function listProjectsIn(q: Q, ids: readonly number[], page: { limit: number; after?: number }) {
  if (ids.length === 0) return Promise.resolve([]);
  let query = q.selectFrom('projects').selectAll().where('id', 'in', [...ids]);
  if (page.after !== undefined) query = query.where('id', '>', page.after);
  return query.orderBy('id').limit(page.limit).execute();
}
