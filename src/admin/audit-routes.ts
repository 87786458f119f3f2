// The audit log of telephony writes (set_data, set_status): who wrote, with which key (its id, never the
// key), from where, with what result. Filtered and paged in id order like the other lists.
import type { FastifyInstance } from 'fastify';
import { Type, type Static, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { listAudit } from '../crm/audit.ts';
import { invalid } from '../errors.ts';
import type { AdminDeps } from './deps.ts';
import { pageOf } from './paging.ts';
import * as S from './schemas.ts';
import * as wire from './wire.ts';

/** ISO 8601: a date, or a date and time with an optional offset (none means UTC). */
const ISO_8601 = '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:?\\d{2})?)?$';

const AuditQuery = Type.Object(
  {
    endpoint: Type.Optional(
      Type.Union([Type.Literal('set_data'), Type.Literal('set_status'), Type.String({ pattern: '^admin\\.[a-z_]{1,32}\\.[a-z_]{1,32}$', description: 'an admin change, e.g. admin.customer.erase' })]),
    ),
    code: Type.Optional(Type.Integer({ minimum: 0, maximum: 999 })),
    assign_id: S.OptionalId,
    project_id: S.OptionalId,
    // As the dialer sent it (the audit keeps unregistered agents too), so a string.
    worker_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    key_id: Type.Optional(Type.String({ pattern: '^[0-9a-f]{8}$' })),
    key_name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'a named key (POST /keys) by its name' })),
    since: Type.Optional(Type.String({ pattern: ISO_8601, description: 'ISO 8601; rows at or after it' })),
    until: Type.Optional(Type.String({ pattern: ISO_8601, description: 'ISO 8601; rows before it' })),
    limit: S.PageQuery.properties.limit,
    cursor: S.PageQuery.properties.cursor,
  },
  { additionalProperties: false },
);

const AuditEntry = Type.Object({
  id: S.Id,
  at: Type.String(),
  endpoint: Type.String(),
  code: Type.Integer(),
  latency_ms: Type.Number(),
  key_id: Type.Union([Type.String(), Type.Null()]),
  key_name: Type.Optional(Type.String({ description: 'the named key used (POST /keys); absent for a CRM_AUTHKEY_* key' })),
  client_ip: Type.Union([Type.String(), Type.Null()]),
  worker_id: Type.Union([Type.String(), Type.Null()]),
  assign_id: Type.Union([S.Id, Type.Null()]),
  project_id: Type.Union([S.Id, Type.Null()]),
  actor: Type.Union([Type.String(), Type.Null()], { description: 'admin changes: who made it' }),
  detail: Type.Union([Type.String(), Type.Null()], { description: 'admin changes: what changed (JSON of ids, never customer values)' }),
});

/** Milliseconds of an ISO 8601 time; a date-time without an offset is UTC, not the server's zone. */
function instant(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const withZone = /T/.test(value) && !/(Z|[+-]\d{2}:?\d{2})$/.test(value) ? `${value}Z` : value;
  const ms = Date.parse(withZone);
  // Date.parse rolls 2026-02-30 over to March 2nd; a calendar date must read back as itself.
  const day = Date.parse(value.slice(0, 10));
  if (Number.isNaN(ms) || Number.isNaN(day) || new Date(day).toISOString().slice(0, 10) !== value.slice(0, 10)) throw invalid(`${name} is not a valid ISO 8601 time`, { [name]: 'not a valid ISO 8601 time' });
  return ms;
}

export async function auditRoutes(app: FastifyInstance, { db }: AdminDeps) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get('/audit', { schema: { tags: ['audit'], querystring: AuditQuery, response: { 200: S.listOf(AuditEntry), ...S.errorResponses(400) } } }, async (req) => {
    const q: Static<typeof AuditQuery> = req.query;
    const page = pageOf(q);
    const rows = await listAudit(db.q, {
      endpoint: q.endpoint,
      code: q.code,
      assign_id: q.assign_id,
      project_id: q.project_id,
      worker_id: q.worker_id,
      key_id: q.key_id,
      key_name: q.key_name,
      since: instant('since', q.since),
      until: instant('until', q.until),
      after_id: page.after,
      limit: page.limit,
    });
    return wire.page(rows, page.limit, wire.auditEntry);
  });
}
