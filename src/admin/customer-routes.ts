// Customers: create, read with their assigns, PATCH (all-or-nothing), list and search.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { listAssigns } from '../crm/assigns.ts';
import { getCustomerRow, insertCustomer, patchCustomer, toCustomer, validateAll } from '../crm/customers.ts';
import { listFields, valueRules } from '../crm/fields.ts';
import { listCustomers } from '../crm/search.ts';
import { getProject } from '../crm/setup.ts';
import { forbidden, invalid, notFound } from '../errors.ts';
import { actorOf, roleAllows } from '../access/roles.ts';
import { principalOf } from './access.ts';
import { normalizePhone } from '../phone.ts';
import type { AdminDeps } from './deps.ts';
import { pageOf } from './paging.ts';
import * as S from './schemas.ts';
import * as wire from './wire.ts';

/** Most assigns a customer answer embeds; a customer is in a few repositories, not thousands. */
const MAX_EMBEDDED_ASSIGNS = 1000;

export async function customerRoutes(app: FastifyInstance, { db, config }: AdminDeps) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['customers'];
  // Roles (admin/access.ts): an agent reads and changes its projects' customers, and creates one from a
  // screen pop that found none; listing and searching is for supervisors (an agent may look a number up).
  const agent = { role: 'agent' } as const;

  r.post('/projects/:project_id/customers', { config: agent, schema: { tags, summary: 'Create a customer', params: S.ProjectParams, body: S.CustomerInput, response: { 201: S.Customer, ...S.errorResponses(400, 404, 409, 413) } } }, async (req, reply) => {
    const projectId = req.params.project_id;
    const customer = await db.write(async (trx) => {
      await getProject(trx, projectId);
      const changes = validateAll(await listFields(trx, projectId), req.body.fields, true, valueRules(config));
      return insertCustomer(trx, projectId, changes, { id: req.body.id, country: config.defaultCountry, source: 'admin', ...actorOf(principalOf(req)) });
    });
    return reply.code(201).send(customer);
  });

  r.get('/customers/:customer_id', { config: agent, schema: { tags, summary: 'Get a customer with its assigns', params: S.CustomerParams, response: { 200: S.CustomerWithAssigns, ...S.errorResponses(400, 404) } } }, async (req) => {
    const row = await getCustomerRow(db.q, req.params.customer_id);
    if (!row) throw notFound('customer', req.params.customer_id);
    const assigns = await listAssigns(db.q, { customer_id: row.id }, { limit: MAX_EMBEDDED_ASSIGNS });
    return { ...toCustomer(row), assigns: assigns.map(wire.assign) };
  });

  r.patch(
    '/customers/:customer_id',
    {
      config: agent,
      schema: {
        tags,
        summary: "Update a customer's fields (all-or-nothing)",
        description:
          'Same type validation, unique rules and history as set_data, but all-or-nothing: any invalid field is a 400 naming it and nothing changes; ' +
          'a unique value held by another customer of the project is a 409. A null or empty value clears a field. History rows have source "admin".',
        params: S.CustomerParams,
        body: S.CustomerPatch,
        response: { 200: S.Customer, ...S.errorResponses(400, 404, 409, 413) },
      },
    },
    async (req) => {
      const id = req.params.customer_id;
      const customer = await db.write((trx) => patchCustomer(trx, id, req.body.fields, { country: config.defaultCountry, dateOrder: config.dateOrder, source: 'admin', ...actorOf(principalOf(req)) }));
      if (!customer) throw notFound('customer', id);
      return customer;
    },
  );

  r.get(
    '/projects/:project_id/customers',
    {
      config: agent,
      schema: {
        tags,
        summary: "List or search a project's customers",
        description:
          '`phone` finds customers holding that number in any phone field, in any spelling (through the phone index). ' +
          '`q` is a case-insensitive substring of any field value; it scans the project (at most 10000 customers per request), ' +
          'so a page may hold fewer than `limit` items while `next_cursor` is not null: keep walking until it is null.',
        params: S.ProjectParams,
        querystring: S.CustomerListQuery,
        response: { 200: S.listOf(S.Customer), ...S.errorResponses(400, 404) },
      },
    },
    async (req) => {
      const projectId = req.params.project_id;
      const who = principalOf(req);
      if (who.kind === 'session' && !roleAllows(who.user.role, 'supervisor') && (req.query.phone === undefined || req.query.q !== undefined)) {
        throw forbidden('Agents look customers up by phone; listing and searching needs the supervisor role');
      }
      await getProject(db.q, projectId);
      const page = pageOf(req.query);
      let phone: string | undefined;
      if (req.query.phone !== undefined) {
        phone = normalizePhone(req.query.phone.trim(), config.defaultCountry);
        if (phone === '') throw invalid('phone holds no digit', { phone: 'a phone number needs at least one digit' });
      }
      const found = await listCustomers(db.q, projectId, { phone, text: req.query.q }, page);
      return { items: found.rows.map(toCustomer), next_cursor: found.next === null ? null : wire.encodeCursor(found.next) };
    },
  );
}
