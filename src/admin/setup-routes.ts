// Projects and what sets one up: fields, statuses, groups, sites, workers, repositories, DIDs.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { createField, listFields } from '../crm/fields.ts';
import { createDid, createPart, createProject, createStaffed, getProject, listDids, listParts, listProjects, type PartTable } from '../crm/setup.ts';
import { invalid } from '../errors.ts';
import type { AdminDeps } from './index.ts';
import * as S from './schemas.ts';
import * as wire from './wire.ts';

export function pageOf(query: S.PageQueryT) {
  const after = wire.decodeCursor(query.cursor);
  if (after === null) throw invalid('cursor is not a cursor this API gave', { cursor: 'invalid' });
  return { limit: query.limit ?? 50, after };
}

export async function setupRoutes(app: FastifyInstance, { db, config }: AdminDeps) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['setup'];

  r.post('/projects', { schema: { tags, body: S.NamedInput, response: { 201: S.Project, ...S.errorResponses(400, 409) } } }, async (req, reply) =>
    reply.code(201).send(wire.project(await createProject(db.q, req.body))),
  );
  r.get('/projects', { schema: { tags, querystring: S.PageQuery, response: { 200: S.listOf(S.Project) } } }, async (req) => {
    const page = pageOf(req.query);
    return wire.page(await listProjects(db.q, page), page.limit, wire.project);
  });
  r.get('/projects/:project_id', { schema: { tags, params: S.ProjectParams, response: { 200: S.Project, ...S.errorResponses(404) } } }, async (req) =>
    wire.project(await getProject(db.q, req.params.project_id)),
  );

  r.post('/projects/:project_id/fields', { schema: { tags, params: S.ProjectParams, body: S.FieldInput, response: { 201: S.Field, ...S.errorResponses(400, 404, 409) } } }, async (req, reply) => {
    await getProject(db.q, req.params.project_id);
    return reply.code(201).send(await createField(db.q, req.params.project_id, req.body as Parameters<typeof createField>[2]));
  });
  r.get('/projects/:project_id/fields', { schema: { tags, params: S.ProjectParams, response: { 200: S.listOf(S.Field), ...S.errorResponses(404) } } }, async (req) => {
    await getProject(db.q, req.params.project_id);
    // A project's fields are few and ordered by position: one page.
    return { items: await listFields(db.q, req.params.project_id), next_cursor: null };
  });

  const parts: [string, PartTable][] = [['statuses', 'statuses'], ['groups', 'groups'], ['sites', 'sites']];
  for (const [path, table] of parts) {
    r.post(`/projects/:project_id/${path}`, { schema: { tags, params: S.ProjectParams, body: S.NamedInput, response: { 201: S.Part, ...S.errorResponses(400, 404, 409) } } }, async (req, reply) =>
      reply.code(201).send(wire.part(await createPart(db.q, table, req.params.project_id, req.body))),
    );
    r.get(`/projects/:project_id/${path}`, { schema: { tags, params: S.ProjectParams, querystring: S.PageQuery, response: { 200: S.listOf(S.Part), ...S.errorResponses(404) } } }, async (req) => {
      const page = pageOf(req.query);
      return wire.page(await listParts(db.q, table, req.params.project_id, page), page.limit, wire.part);
    });
  }

  for (const table of ['workers', 'repositories'] as const) {
    r.post(`/projects/:project_id/${table}`, { schema: { tags, params: S.ProjectParams, body: S.StaffedInput, response: { 201: S.Staffed, ...S.errorResponses(400, 404, 409, 422) } } }, async (req, reply) =>
      reply.code(201).send(wire.staffed(await createStaffed(db.q, table, req.params.project_id, req.body))),
    );
    r.get(`/projects/:project_id/${table}`, { schema: { tags, params: S.ProjectParams, querystring: S.PageQuery, response: { 200: S.listOf(S.Staffed), ...S.errorResponses(404) } } }, async (req) => {
      const page = pageOf(req.query);
      return wire.page(await listParts(db.q, table, req.params.project_id, page), page.limit, wire.staffed);
    });
  }

  r.post('/projects/:project_id/dids', { schema: { tags, params: S.ProjectParams, body: S.DidInput, response: { 201: S.Did, ...S.errorResponses(400, 404, 409, 422) } } }, async (req, reply) =>
    reply.code(201).send(wire.did(await createDid(db.q, req.params.project_id, req.body, config.defaultCountry))),
  );
  r.get('/projects/:project_id/dids', { schema: { tags, params: S.ProjectParams, querystring: S.PageQuery, response: { 200: S.listOf(S.Did), ...S.errorResponses(404) } } }, async (req) => {
    const page = pageOf(req.query);
    return wire.page(await listDids(db.q, req.params.project_id, page), page.limit, wire.did);
  });
}
