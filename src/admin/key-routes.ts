// Named telephony keys (admin only): create (the secret is answered this once), list, revoke.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { createKey, listKeys, revokeKey, toKey, type NamedKeyStore } from '../access/keys.ts';
import * as P from '../access/schemas.ts';
import type { AdminDeps } from './deps.ts';
import { pageOf } from './paging.ts';
import * as S from './schemas.ts';
import * as wire from './wire.ts';

export async function keyRoutes(app: FastifyInstance, { db, keys }: AdminDeps & { keys: NamedKeyStore }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['people'];

  r.post(
    '/keys',
    {
      schema: {
        tags,
        summary: 'Create a named telephony key',
        description:
          'The key works on the listed telephony endpoints beside the CRM_AUTHKEY_* keys; with project_ids, any other project answers code 1. ' +
          'The answer holds `secret`, shown this once: only its hash is kept. Its writes are in the audit log under its name.',
        body: P.KeyInput,
        response: { 201: P.CreatedKey, ...S.errorResponses(400, 409, 413, 422) },
      },
    },
    async (req, reply) => {
      const created = await db.write((trx) => createKey(trx, req.body));
      await keys.reload();
      reply.header('cache-control', 'no-store');
      return reply.code(201).send(created);
    },
  );

  r.get('/keys', { schema: { tags, summary: 'List the live named keys (never their secrets)', querystring: S.PageQuery, response: { 200: S.listOf(P.Key), ...S.errorResponses(400) } } }, async (req) => {
    await keys.flushUsed();
    const page = pageOf(req.query);
    return wire.page(await listKeys(db.q, page), page.limit, toKey);
  });

  r.delete(
    '/keys/:id',
    { schema: { tags, summary: 'Revoke a named key at once', params: P.UserParams, response: { 204: { type: 'null' }, ...S.errorResponses(400, 404) } } },
    async (req, reply) => {
      await db.write((trx) => revokeKey(trx, req.params.id));
      // Answered only once this process refuses the key; other processes reload within a second.
      await keys.reload();
      return reply.code(204).send(null);
    },
  );
}
