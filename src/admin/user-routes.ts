// Console users (admin only): create, list, read, change. Never answers a password or its hash.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { hashPassword } from '../access/passwords.ts';
import { createUser, endUserSessions, getUser, listUsers, patchUser, toUser } from '../access/users.ts';
import * as P from '../access/schemas.ts';
import type { AdminDeps } from './deps.ts';
import { pageOf } from './paging.ts';
import * as S from './schemas.ts';
import * as wire from './wire.ts';

export async function userRoutes(app: FastifyInstance, { db }: AdminDeps) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['people'];

  r.post(
    '/users',
    {
      schema: {
        tags,
        summary: 'Create a console user',
        description: 'role admin, supervisor or agent; an agent is linked to its worker_id; project_ids limits the user to those projects (absent = all).',
        body: P.UserInput,
        response: { 201: P.User, ...S.errorResponses(400, 409, 413, 422) },
      },
    },
    async (req, reply) => {
      const { password, ...rest } = req.body;
      // Hashed before the transaction: the hash takes tens of milliseconds of CPU.
      const password_hash = await hashPassword(password);
      return reply.code(201).send(await db.write((trx) => createUser(trx, { ...rest, password_hash })));
    },
  );

  r.get('/users', { schema: { tags, summary: 'List console users', querystring: S.PageQuery, response: { 200: S.listOf(P.User), ...S.errorResponses(400) } } }, async (req) => {
    const page = pageOf(req.query);
    return wire.page(await listUsers(db.q, page), page.limit, toUser);
  });

  r.get('/users/:id', { schema: { tags, summary: 'Get a console user', params: P.UserParams, response: { 200: P.User, ...S.errorResponses(400, 404) } } }, async (req) => getUser(db.q, req.params.id));

  r.patch(
    '/users/:id',
    {
      schema: {
        tags,
        summary: 'Change a console user',
        description: 'A new password or `disabled: true` ends every session of the user at once.',
        params: P.UserParams,
        body: P.UserPatch,
        response: { 200: P.User, ...S.errorResponses(400, 404, 413, 422) },
      },
    },
    async (req) => {
      const { password, ...rest } = req.body;
      const password_hash = password === undefined ? undefined : await hashPassword(password);
      return db.write((trx) => patchUser(trx, req.params.id, { ...rest, ...(password_hash === undefined ? {} : { password_hash }) }));
    },
  );

  r.delete(
    '/users/:id/sessions',
    { schema: { tags, summary: "End every session of a user at once (sign it out everywhere)", params: P.UserParams, response: { 204: { type: 'null' }, ...S.errorResponses(400, 404) } } },
    async (req, reply) => {
      await db.write(async (trx) => {
        await getUser(trx, req.params.id);
        await endUserSessions(trx, req.params.id);
      });
      return reply.code(204).send(null);
    },
  );
}
