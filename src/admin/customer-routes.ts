// Customers and their assigns (memberships in repositories).
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { checkBelongs, insertAssign } from '../crm/assigns.ts';
import { insertCustomer, validateAll } from '../crm/customers.ts';
import { listFields } from '../crm/fields.ts';
import { getProject, getRepository } from '../crm/setup.ts';
import type { AdminDeps } from './index.ts';
import * as S from './schemas.ts';
import * as wire from './wire.ts';

export async function customerRoutes(app: FastifyInstance, { db, config }: AdminDeps) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['customers'];

  r.post('/projects/:project_id/customers', { schema: { tags, params: S.ProjectParams, body: S.CustomerInput, response: { 201: S.Customer, ...S.errorResponses(400, 404, 409) } } }, async (req, reply) => {
    const projectId = req.params.project_id;
    await getProject(db.q, projectId);
    const changes = validateAll(await listFields(db.q, projectId), req.body.fields, true);
    const customer = await db.write((trx) => insertCustomer(trx, projectId, changes, { id: req.body.id, country: config.defaultCountry, source: 'admin' }));
    return reply.code(201).send(customer);
  });

  r.post('/repositories/:repository_id/assigns', { schema: { tags, params: S.RepositoryParams, body: S.AssignInput, response: { 201: S.Assign, ...S.errorResponses(400, 404, 409, 422) } } }, async (req, reply) => {
    const repo = await getRepository(db.q, req.params.repository_id);
    const b = req.body;
    const row = await db.write(async (trx) => {
      await checkBelongs(trx, repo.project_id, { customer_id: b.customer_id, group_id: b.group_id, site_id: b.site_id, worker_id: b.worker_id, status_id: b.status_id });
      return insertAssign(trx, repo.project_id, repo.id, b);
    });
    return reply.code(201).send(wire.assign(row));
  });
}
