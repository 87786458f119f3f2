// Webhooks (events out): subscriptions, their delivery log, manual retry. The sender is webhooks/sender.ts.
import type { FastifyInstance } from 'fastify';
import { Type } from '@fastify/type-provider-typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { EVENT_TYPES } from '../crm/events.ts';
import { createWebhook, deleteWebhook, eventsWaiting, fanOutEvents, getWebhookRow, listDeliveries, listWebhooks, retryDelivery, toWebhook, updateWebhook, type DeliveryRow } from '../crm/webhooks.ts';
import { invalid } from '../errors.ts';
import type { AdminDeps } from './deps.ts';
import { pageOf } from './paging.ts';
import * as S from './schemas.ts';
import * as wire from './wire.ts';

const Url = Type.String({ minLength: 1, maxLength: 2000, description: 'http(s) URL the events are POSTed to' });
const Events = Type.Array(Type.Union(EVENT_TYPES.map((e) => Type.Literal(e))), { minItems: 1, maxItems: EVENT_TYPES.length });
const ProjectIds = Type.Union([Type.Array(S.Id, { maxItems: 1000 }), Type.Null()], { description: 'only events of these projects; absent, null or empty: every project' });
const WebhookInput = Type.Object(
  { url: Url, events: Events, project_ids: Type.Optional(ProjectIds), secret: Type.Optional(Type.String({ minLength: 16, maxLength: 200 })) },
  { additionalProperties: false },
);
const WebhookPatch = Type.Object(
  { url: Type.Optional(Url), events: Type.Optional(Events), project_ids: Type.Optional(ProjectIds), disabled: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
const Webhook = Type.Object({
  id: S.Id,
  url: Type.String(),
  events: Type.Array(Type.String()),
  project_ids: Type.Union([Type.Array(S.Id), Type.Null()]),
  disabled: Type.Boolean(),
  created_at: Type.String(),
  updated_at: Type.String(),
});
const CreatedWebhook = Type.Object({ ...Webhook.properties, secret: Type.String({ description: 'HMAC-SHA256 key of X-Callcrm-Signature; shown this once' }) });
const WebhookParams = Type.Object({ id: S.Id });
const DeliveryParams = Type.Object({ id: S.Id, delivery_id: S.Id });
const NullString = Type.Union([Type.String(), Type.Null()]);
const Delivery = Type.Object({
  id: S.Id,
  event_id: Type.String(),
  event: Type.String(),
  project_id: Type.Union([S.Id, Type.Null()]),
  status: Type.String({ description: 'pending | delivered | failed' }),
  attempts: Type.Integer(),
  last_status: Type.Union([Type.Integer(), Type.Null()]),
  last_error: NullString,
  last_attempt_at: NullString,
  next_attempt_at: NullString,
  delivered_at: NullString,
  created_at: Type.String(),
});
const DeliveryQuery = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')])),
  limit: S.PageQuery.properties.limit,
  cursor: S.PageQuery.properties.cursor,
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const delivery = (r: DeliveryRow) => ({
  id: r.id,
  event_id: r.event_id,
  event: r.type,
  project_id: r.project_id,
  status: r.status,
  attempts: r.attempts,
  last_status: r.last_status,
  last_error: r.last_error,
  last_attempt_at: iso(r.last_attempt_at),
  next_attempt_at: r.status === 'pending' ? iso(r.next_attempt_at) : null,
  delivered_at: iso(r.delivered_at),
  created_at: iso(r.created_at)!,
});

function checkUrl(url: string | undefined) {
  if (url === undefined) return;
  let u: URL | undefined;
  try {
    u = new URL(url);
  } catch {
    // reported below
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) throw invalid('url must be an http or https URL', { url: 'must be an http or https URL' });
}

export async function webhookRoutes(app: FastifyInstance, { db }: AdminDeps) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['webhooks'];

  r.post(
    '/webhooks',
    {
      schema: {
        tags,
        summary: 'Subscribe a URL to events',
        description:
          'Events: ' + EVENT_TYPES.join(', ') + '. The answer holds the signing `secret` (generated when absent) this once. ' +
          'Any URL is allowed, private addresses included, unless CRM_WEBHOOK_DENY_PRIVATE=true (checked at delivery time).',
        body: WebhookInput,
        response: { 201: CreatedWebhook, ...S.errorResponses(400, 413) },
      },
    },
    async (req, reply) => {
      checkUrl(req.body.url);
      const { webhook, secret } = await db.write((trx) => createWebhook(trx, req.body));
      return reply.code(201).send({ ...webhook, secret });
    },
  );

  r.get('/webhooks', { schema: { tags, summary: 'List webhooks (without secrets)', response: { 200: Type.Object({ items: Type.Array(Webhook) }), ...S.errorResponses() } } }, async () => ({
    items: await listWebhooks(db.q),
  }));

  r.get('/webhooks/:id', { schema: { tags, summary: 'Get a webhook (without its secret)', params: WebhookParams, response: { 200: Webhook, ...S.errorResponses(400, 404) } } }, async (req) =>
    toWebhook(await getWebhookRow(db.q, req.params.id)),
  );

  r.patch(
    '/webhooks/:id',
    { schema: { tags, summary: 'Change or disable a webhook', params: WebhookParams, body: WebhookPatch, response: { 200: Webhook, ...S.errorResponses(400, 404, 413) } } },
    async (req) => {
      checkUrl(req.body.url);
      return db.write((trx) => updateWebhook(trx, req.params.id, req.body));
    },
  );

  r.delete('/webhooks/:id', { schema: { tags, summary: 'Delete a webhook and its delivery log', params: WebhookParams, response: { 204: Type.Null(), ...S.errorResponses(400, 404) } } }, async (req, reply) => {
    await db.write((trx) => deleteWebhook(trx, req.params.id));
    return reply.code(204).send(null);
  });

  r.get(
    '/webhooks/:id/deliveries',
    {
      schema: {
        tags,
        summary: "A webhook's deliveries, newest first",
        description: 'Each: the event, attempts, the last HTTP status or error, the next attempt (pending ones). Failed deliveries are kept until retried.',
        params: WebhookParams,
        querystring: DeliveryQuery,
        response: { 200: S.listOf(Delivery), ...S.errorResponses(400, 404) },
      },
    },
    async (req) => {
      await getWebhookRow(db.q, req.params.id);
      // Events committed but not yet fanned out by the sender become deliveries now (due at once, claimed
      // by no one), so the log shows the changes committed before this request: all of them unless a
      // peak left more than one fan-out's worth (100 outbox rows) waiting, the rest then as the sender goes.
      // A failure here (a read-only database) still answers the log as it is.
      if (await eventsWaiting(db.read)) {
        await db.write((trx) => fanOutEvents(trx, Date.now(), 0, 0)).catch((err: unknown) => req.log.warn({ err }, 'webhook deliveries: fan-out before listing failed'));
      }
      const page = pageOf(req.query);
      return wire.page(await listDeliveries(db.q, req.params.id, { status: req.query.status }, page), page.limit, delivery);
    },
  );

  r.post(
    '/webhooks/:id/deliveries/:delivery_id/retry',
    { schema: { tags, summary: 'Send a delivery again now (also a failed one)', params: DeliveryParams, response: { 202: Delivery, ...S.errorResponses(400, 404) } } },
    async (req, reply) => {
      await getWebhookRow(db.q, req.params.id);
      const row = await db.write((trx) => retryDelivery(trx, req.params.id, req.params.delivery_id));
      return reply.code(202).send(delivery(row));
    },
  );
}
