// Per-project settings of the inbound integrations (integrations/): GET and PUT of each.
import type { FastifyInstance } from 'fastify';
import { Type, type TSchema } from '@fastify/type-provider-typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { getSettings, putSettings, type IntegrationKind } from '../crm/integration-settings.ts';
import { getProject } from '../crm/setup.ts';
import type { AdminDeps } from './deps.ts';
import * as S from './schemas.ts';

const FieldName = Type.String({ minLength: 1, maxLength: 64 });
const SCHEMAS: Record<IntegrationKind, { body: TSchema; summary: string }> = {
  '3cx': {
    summary: "3CX: which fields are a contact's name, company, email and phones",
    body: Type.Object(
      {
        first_name_field: Type.Optional(FieldName),
        last_name_field: Type.Optional(FieldName),
        company_field: Type.Optional(FieldName),
        email_field: Type.Optional(FieldName),
        phone_fields: Type.Optional(Type.Array(FieldName, { maxItems: 20 })),
      },
      { additionalProperties: false },
    ),
  },
  vicidial: {
    summary: 'VICIdial: disposition code → callcrm status id',
    body: Type.Object(
      {
        // TypeBox turns a Record key's pattern into patternProperties, which alone let any other key through
        // (stored, then dropped by the answer's serializer): additionalProperties: false makes a bad code a 400.
        // The length bound is in the pattern because patternProperties ignores the key's minLength/maxLength.
        status_map: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_-]{1,20}$' }), S.Id, { maxProperties: 1000, additionalProperties: false }),
      },
      { additionalProperties: false },
    ),
  },
  asterisk: {
    summary: "Asterisk: the fields joined (with spaces) into a caller's display name",
    body: Type.Object({ name_fields: Type.Array(FieldName, { maxItems: 10 }) }, { additionalProperties: false }),
  },
};

export async function integrationRoutes(app: FastifyInstance, { db }: AdminDeps) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['integrations'];
  for (const kind of Object.keys(SCHEMAS) as IntegrationKind[]) {
    const { body, summary } = SCHEMAS[kind];
    r.get(`/projects/:project_id/integrations/${kind}`, { schema: { tags, summary, params: S.ProjectParams, response: { 200: body, ...S.errorResponses(400, 404) } } }, async (req) => {
      await getProject(db.q, req.params.project_id);
      return getSettings(db.q, req.params.project_id, kind);
    });
    r.put(
      `/projects/:project_id/integrations/${kind}`,
      { schema: { tags, summary, params: S.ProjectParams, body, response: { 200: body, ...S.errorResponses(400, 404, 413, 422) } } },
      async (req) => db.write((trx) => putSettings(trx, req.params.project_id, kind, req.body as never)),
    );
  }
}
