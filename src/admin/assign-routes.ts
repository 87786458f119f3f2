// Repository assigns: create and list per repository, read one with what an operator needs, its
// history, and call events (for dialers and CDR feeds).
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@fastify/type-provider-typebox';
import { checkBelongs, getAssignDetail, getAssignRow, insertAssign, listAssigns, lockAssign } from '../crm/assigns.ts';
import { addCall, listCalls } from '../crm/calls.ts';
import { assignHistory, type HistoryKey } from '../crm/history.ts';
import { getRemovedAssign } from '../crm/lifecycle.ts';
import { getRepository } from '../crm/setup.ts';
import { forbidden, notFound } from '../errors.ts';
import { actorOf, roleAllows } from '../access/roles.ts';
import { principalOf } from './access.ts';
import type { AdminDeps } from './deps.ts';
import { userNames } from '../access/users.ts';
import { keyPageOf, pageOf } from './paging.ts';
import * as S from './schemas.ts';
import { ListFilterProperties, listFilterOf } from './list-filter.ts';
import * as wire from './wire.ts';

const AssignListQuery = Type.Object(
  {
    ...S.PageQuery.properties,
    ...ListFilterProperties,
  },
  { additionalProperties: false },
);

export async function assignRoutes(app: FastifyInstance, { db }: AdminDeps) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['assigns'];
  // Roles (admin/access.ts): an agent reads its projects' assigns and history and records calls (as its
  // worker); filling and listing lead lists is for supervisors.
  const agent = { role: 'agent' } as const;
  const supervisor = { role: 'supervisor' } as const;

  r.post('/repositories/:repository_id/assigns', { config: supervisor, schema: { tags, summary: 'Put a customer into a repository (lead list)', params: S.RepositoryParams, body: S.AssignInput, response: { 201: S.Assign, ...S.errorResponses(400, 404, 409, 413, 422) } } }, async (req, reply) => {
    const b = req.body;
    const row = await db.write(async (trx) => {
      const repo = await getRepository(trx, req.params.repository_id);
      await checkBelongs(trx, repo.project_id, { customer_id: b.customer_id, group_id: b.group_id, site_id: b.site_id, worker_id: b.worker_id, status_id: b.status_id });
      return insertAssign(trx, repo.project_id, repo.id, b);
    });
    return reply.code(201).send(wire.assign(row));
  });

  r.get(
    '/repositories/:repository_id/assigns',
    {
      config: supervisor,
      schema: {
        tags,
        summary: "List a repository's assigns, optionally filtered by status, agent and last call",
        description:
          '`status_id=0` lists assigns with no status yet. `not_called_days=N` lists assigns whose last call is more than N days ago, ' +
          'never-called ones included. Filters combine; paging is in id order as in every list.',
        params: S.RepositoryParams,
        querystring: AssignListQuery,
        response: { 200: S.listOf(S.Assign), ...S.errorResponses(400, 404) },
      },
    },
    async (req) => {
      await getRepository(db.q, req.params.repository_id);
      const page = pageOf(req.query);
      return wire.page(await listAssigns(db.q, { repository_id: req.params.repository_id }, page, listFilterOf(req.query)), page.limit, wire.assign);
    },
  );

  r.get('/assigns/:assign_id', { config: agent, schema: { tags, summary: 'Get an assign with its customer, status and last call', params: S.AssignParams, response: { 200: S.AssignDetail, ...S.errorResponses(400, 404) } } }, async (req) => {
    const detail = await getAssignDetail(db.q, req.params.assign_id);
    if (!detail) throw notFound('assign', req.params.assign_id);
    return wire.assignDetail(detail);
  });

  r.get(
    '/assigns/:assign_id/history',
    {
      config: agent,
      schema: {
        tags,
        summary: "An assign's history, newest first",
        description: "Field changes of the assign's customer, status changes and call events of the assign, merged, newest first.",
        params: S.AssignParams,
        querystring: S.PageQuery,
        response: { 200: Type.Object({ items: Type.Array(S.HistoryItem), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...S.errorResponses(400, 404) },
      },
    },
    async (req) => {
      // An assign that left its repository (DELETE /assigns/:id, erasure) keeps its history readable by id.
      const assign = (await getAssignRow(db.q, req.params.assign_id)) ?? (await getRemovedAssign(db.q, req.params.assign_id));
      if (!assign) throw notFound('assign', req.params.assign_id);
      const page = keyPageOf(req.query, 'h', 3);
      const found = await assignHistory(db.q, assign, page.limit, page.after as HistoryKey | undefined);
      const names = await userNames(db.q, found.items.map((i) => i.user_id));
      return { items: found.items.map((i) => ({ ...wire.historyItem(i), ...(i.user_id == null ? {} : { user_name: names.get(i.user_id) ?? null }) })), next_cursor: found.next === null ? null : wire.encodeKeyCursor('h', found.next) };
    },
  );

  r.post(
    '/assigns/:assign_id/calls',
    {
      config: agent,
      schema: {
        tags,
        summary: 'Record a call event (dialers, CDR feeds)',
        description:
          '`at` defaults to now. last_call and last_notes follow the newest event by `at`, so a late CDR does not move them back; ' +
          "a `status_id` on the newest event also becomes the assign's current status (history source \"admin\"). " +
          'A worker or status that does not exist or belongs to another project is a 422.',
        params: S.AssignParams,
        body: S.CallInput,
        response: { 201: S.CallEvent, ...S.errorResponses(400, 404, 413, 422) },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const at = b.at === undefined ? undefined : Date.parse(b.at);
      // A signed-in user records calls as its own worker; only a supervisor or admin may name another.
      const who = principalOf(req);
      const actor = actorOf(who);
      const isAgent = who.kind === 'session' && !roleAllows(who.user.role, 'supervisor');
      if (isAgent && b.worker_id != null && b.worker_id !== actor.worker_id) throw forbidden('An agent records calls as its own worker_id');
      const workerId = isAgent ? (actor.worker_id ?? null) : b.worker_id !== undefined ? b.worker_id : actor.worker_id;
      const event = await db.write(async (trx) => {
        const assign = await lockAssign(trx, req.params.assign_id);
        if (!assign) throw notFound('assign', req.params.assign_id);
        return addCall(trx, assign, { worker_id: workerId, user_id: actor.user_id, status_id: b.status_id, notes: b.notes, call_id: b.call_id, at });
      });
      return reply.code(201).send(wire.callEvent(event));
    },
  );

  r.get('/assigns/:assign_id/calls', { config: agent, schema: { tags, summary: "List an assign's call events in the order they were recorded", params: S.AssignParams, querystring: S.PageQuery, response: { 200: S.listOf(S.CallEvent), ...S.errorResponses(400, 404) } } }, async (req) => {
    if (!(await getAssignRow(db.q, req.params.assign_id))) throw notFound('assign', req.params.assign_id);
    const page = pageOf(req.query);
    return wire.page(await listCalls(db.q, req.params.assign_id, page), page.limit, wire.callEvent);
  });
}
