// Changing and removing (admin-api.md "Changing and removing"): PATCH of setup rows (rename, archive),
// DELETE of DIDs, PATCH/DELETE of assigns and erasure of customers. Every change is one transaction with
// its audit-log row (who: the caller), and a setup change tells this process's setup cache after commit
// (other processes see it through the setup version within a second: crm/setup-cache.ts).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { getAssignRow } from '../crm/assigns.ts';
import { logChange, type ChangeEntry } from '../crm/change-log.ts';
import { eraseCustomer, forgetOldPages } from '../crm/erase.ts';
import { deleteDid, patchAssign, patchField, patchProject, patchSetupRow, removeAssign, type SetupTable } from '../crm/lifecycle.ts';
import type { Q } from '../db/connect.ts';
import { forbidden, notFound } from '../errors.ts';
import { principalOf } from './access.ts';
import type { AdminDeps } from './deps.ts';
import * as S from './schemas.ts';
import * as wire from './wire.ts';

const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });
const ProjectPatch = Type.Object({ name: Name }, { additionalProperties: false });
const FieldPatch = Type.Object(
  {
    label: Type.Optional(Type.String({ maxLength: 200 })),
    display_name: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'a new name: telephony clients using the old one get null (get_data) and "Unknown field" (set_data)' })),
    options: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 1000 })),
    required: Type.Optional(Type.Boolean()),
    position: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    archived: Type.Optional(Type.Boolean({ description: 'true: get_data answers null, set_data and imports treat it as unknown; false: in use again' })),
  },
  { additionalProperties: false },
);
const PartPatch = Type.Object({ name: Type.Optional(Name), archived: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
const StaffedPatch = Type.Object({ name: Type.Optional(Name), archived: Type.Optional(Type.Boolean()), group_id: S.NullableId, site_id: S.NullableId }, { additionalProperties: false });
const AssignPatch = Type.Object({ status_id: S.NullableId, worker_id: S.NullableId, group_id: S.NullableId, site_id: S.NullableId }, { additionalProperties: false });
const FieldParams = Type.Object({ project_id: S.Id, field_id: S.Id });
const RowParams = Type.Object({ project_id: S.Id, id: S.Id });
const DidParams = Type.Object({ project_id: S.Id, did: Type.String({ minLength: 1, maxLength: 64, pattern: '\\d' }) });
const NoContent = Type.Null({ description: 'done' });

/**
 * Who made a change: the signed-in user when a session authenticated the request (the console branch
 * sets request.user), else "admin-token" (the bearer token, a machine with every right).
 */
export function actorOf(request: FastifyRequest): string {
  const user = (request as FastifyRequest & { user?: { username?: string } }).user;
  return user?.username ? `user:${user.username}` : 'admin-token';
}

export async function lifecycleRoutes(app: FastifyInstance, { db, config, setup }: AdminDeps) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  /** One transaction: the change and its audit row. */
  const change = <T>(req: FastifyRequest, fn: (trx: Q) => Promise<{ result: T; log: Omit<ChangeEntry, 'actor' | 'client_ip'> }>) =>
    db.write(async (trx) => {
      const { result, log } = await fn(trx);
      await logChange(trx, { ...log, actor: actorOf(req), client_ip: req.ip });
      return result;
    });
  /** A setup change: this process's cache forgets at once (the others within a second). */
  const setupChange = async <T>(req: FastifyRequest, fn: Parameters<typeof change<T>>[1]) => {
    try {
      return await change(req, fn);
    } finally {
      setup.changed();
    }
  };

  const tags = ['setup'];
  r.patch('/projects/:project_id', { schema: { tags, summary: 'Rename a project', params: S.ProjectParams, body: ProjectPatch, response: { 200: S.Project, ...S.errorResponses(400, 404, 413) } } }, async (req) => {
    const row = await setupChange(req, async (trx) => ({
      result: await patchProject(trx, req.params.project_id, req.body),
      log: { endpoint: 'admin.project.patch', project_id: req.params.project_id, detail: { project_id: req.params.project_id, ...req.body } },
    }));
    return wire.project(row);
  });

  r.patch(
    '/projects/:project_id/fields/:field_id',
    {
      schema: {
        tags,
        summary: 'Change, rename or archive a field',
        description:
          'A new `display_name` that another field of the project (archived or not) has is a 409. After a rename the values answer under the new name; ' +
          'telephony clients using the old name get null from get_data and "Unknown field" from set_data. History keeps the name of its time.',
        params: FieldParams,
        body: FieldPatch,
        response: { 200: S.Field, ...S.errorResponses(400, 404, 409, 413) },
      },
    },
    async (req) => {
      const { project_id, field_id } = req.params;
      return setupChange(req, async (trx) => ({
        result: await patchField(trx, project_id, field_id, req.body),
        log: { endpoint: 'admin.field.patch', project_id, detail: { field_id, ...req.body } },
      }));
    },
  );

  const rows: [string, SetupTable, string][] = [['statuses', 'statuses', 'status'], ['groups', 'groups', 'group'], ['sites', 'sites', 'site'], ['workers', 'workers', 'worker'], ['repositories', 'repositories', 'repository']];
  for (const [path, table, one] of rows) {
    const staffed = table === 'workers' || table === 'repositories';
    r.patch(
      `/projects/:project_id/${path}/:id`,
      {
        schema: {
          tags,
          summary: `Rename or archive a ${one}${staffed ? ', or move it to another group or site' : ''}`,
          description: table === 'statuses' ? 'An archived status cannot be set (set_status code 5, set_data errors.status, import, PATCH /assigns) but still names old history.' : 'Archived rows are listed only with `?archived=true`.',
          params: RowParams,
          body: staffed ? StaffedPatch : PartPatch,
          response: { 200: staffed ? S.Staffed : S.Part, ...S.errorResponses(400, 404, 413, 422) },
        },
      },
      async (req) => {
        const { project_id, id } = req.params;
        const body = req.body as { name?: string; archived?: boolean; group_id?: number | null; site_id?: number | null };
        const row = await setupChange(req, async (trx) => ({
          result: await patchSetupRow(trx, table, project_id, id, body),
          log: { endpoint: `admin.${one}.patch`, project_id, detail: { [`${one}_id`]: id, ...body } },
        }));
        return staffed ? wire.staffed(row as Parameters<typeof wire.staffed>[0]) : wire.part(row);
      },
    );
  }

  r.delete(
    '/projects/:project_id/dids/:did',
    { schema: { tags, summary: 'Remove a DID from a project', description: 'The DID in any spelling of the number.', params: DidParams, response: { 204: NoContent, ...S.errorResponses(400, 404) } } },
    async (req, reply) => {
      await setupChange(req, async (trx) => {
        const removed = await deleteDid(trx, req.params.project_id, req.params.did, config.defaultCountry);
        return { result: removed, log: { endpoint: 'admin.did.delete', project_id: req.params.project_id, detail: { did: removed.did, did_id: removed.id } } };
      });
      return reply.code(204).send(null);
    },
  );

  r.patch(
    '/assigns/:assign_id',
    {
      // Agents change an assign's status (the console's status picker); moving it to another worker,
      // group or site stays with supervisors and admins (checked below).
      config: { role: 'agent' },
      schema: {
        tags: ['assigns'],
        summary: "Change an assign's status, worker, group or site",
        description: 'A status change is history like set_status (source "admin"); an archived status is a 422. Rows of another project are a 422.',
        params: S.AssignParams,
        body: AssignPatch,
        response: { 200: S.Assign, ...S.errorResponses(400, 404, 413, 422) },
      },
    },
    async (req) => {
      const id = req.params.assign_id;
      const who = principalOf(req);
      if (who.kind === 'session' && who.user.role === 'agent' && Object.keys(req.body).some((k) => k !== 'status_id')) {
        throw forbidden('an agent changes only the status of an assign');
      }
      const row = await change(req, async (trx) => {
        const updated = await patchAssign(trx, id, req.body);
        if (!updated) throw notFound('assign', id);
        return { result: updated, log: { endpoint: 'admin.assign.patch', project_id: updated.project_id, assign_id: id, detail: { assign_id: id, ...req.body } } };
      });
      return wire.assign(row);
    },
  );

  r.delete(
    '/assigns/:assign_id',
    {
      schema: {
        tags: ['assigns'],
        summary: 'Take an assign out of its repository',
        description: 'The customer stays. The assign is no longer listed, exported or found by get_data; its history (with its call events) stays readable by id.',
        params: S.AssignParams,
        response: { 204: NoContent, ...S.errorResponses(400, 404) },
      },
    },
    async (req, reply) => {
      const id = req.params.assign_id;
      await change(req, async (trx) => {
        const assign = await getAssignRow(trx, id);
        if (!assign) throw notFound('assign', id);
        await removeAssign(trx, assign, 'removed');
        return { result: undefined, log: { endpoint: 'admin.assign.delete', project_id: assign.project_id, assign_id: id, detail: { assign_id: id, customer_id: assign.customer_id, repository_id: assign.repository_id } } };
      });
      return reply.code(204).send(null);
    },
  );

  r.delete(
    '/customers/:customer_id',
    {
      schema: {
        tags: ['customers'],
        summary: 'Erase a customer (right to be forgotten)',
        description:
          'Removes the field values, phone index, unique values and assigns (their call notes too); history keeps kind, field name and time with values null. ' +
          'Afterwards the customer is 404, no lookup, search or export finds it, and the values are gone from the database files (SQLite: secure_delete, WAL truncated). ' +
          'The audit log records who erased it.',
        params: S.CustomerParams,
        response: { 204: NoContent, ...S.errorResponses(400, 404) },
      },
    },
    async (req, reply) => {
      const id = req.params.customer_id;
      await change(req, async (trx) => {
        const erased = await eraseCustomer(trx, id, config.defaultCountry);
        if (!erased) throw notFound('customer', id);
        return { result: erased, log: { endpoint: 'admin.customer.erase', project_id: erased.project_id, detail: { customer_id: id, assign_ids: erased.assign_ids } } };
      });
      if (!(await forgetOldPages(db))) req.log.warn({ customer_id: id }, 'erasure committed, but a long reader kept the SQLite WAL from being truncated; it is folded in at the next checkpoint');
      return reply.code(204).send(null);
    },
  );
}
