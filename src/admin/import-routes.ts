// Import and export of a repository's customers. Both stream end to end: the import's body is handed to
// the import service as the raw request stream (no buffering, no bodyLimit: CRM_IMPORT_LIMIT is counted
// as it streams), and the export is written page by page.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { exportCsv } from '../crm/export.ts';
import { importCustomers, type ImportFormat } from '../crm/import.ts';
import { AppError } from '../errors.ts';
import type { AdminDeps } from './index.ts';
import * as S from './schemas.ts';

const FORMATS: Record<string, ImportFormat> = { 'text/csv': 'csv', 'application/x-ndjson': 'ndjson' };

const ImportQuery = Type.Object({
  repository_id: S.Id,
  on_duplicate: Type.Optional(Type.Union([Type.Literal('skip'), Type.Literal('update')], { default: 'skip' })),
});
const ExportQuery = Type.Object({ repository_id: S.Id });
const ImportSummary = Type.Object({
  created: Type.Integer(),
  updated: Type.Integer(),
  skipped: Type.Integer(),
  errors: Type.Array(Type.Object({ line: Type.Integer(), message: Type.String() })),
  error_count: Type.Integer(),
});

/** Registered as its own plugin: the stream-through content-type parsers apply to these routes only. */
export async function importRoutes(app: FastifyInstance, { db, config }: AdminDeps) {
  app.addContentTypeParser(Object.keys(FORMATS), (_request, payload, done) => done(null, payload));
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['import'];
  // Roles (admin/access.ts): imports and exports are for supervisors and admins.
  const supervisor = { role: 'supervisor' } as const;

  r.post(
    '/projects/:project_id/import',
    {
      config: supervisor,
      schema: {
        tags,
        description: 'CSV (text/csv, a header row of display_names) or NDJSON (application/x-ndjson) body; id, repository_assign_id and status_id columns are optional.',
        params: S.ProjectParams,
        querystring: ImportQuery,
        response: { 200: ImportSummary, ...S.errorResponses(400, 404, 413, 415, 422) },
      },
    },
    async (req, reply) => {
      const mediaType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      const format = FORMATS[mediaType];
      if (!format || !(req.body instanceof Readable)) {
        throw new AppError('unsupported_media_type', 'an import body is text/csv or application/x-ndjson');
      }
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > config.importLimit) {
        reply.header('connection', 'close');
        throw new AppError('body_too_large', `the import is larger than ${config.importLimit} bytes (CRM_IMPORT_LIMIT)`);
      }
      try {
        return await importCustomers(db, req.body, {
          projectId: req.params.project_id,
          repositoryId: req.query.repository_id,
          onDuplicate: req.query.on_duplicate ?? 'skip',
          format,
          country: config.defaultCountry,
          maxBytes: config.importLimit,
        });
      } finally {
        // Stopped before the end of the body (a fatal line, the limit, a failure): the rest is not worth
        // reading, so the connection closes after the answer.
        if (!req.raw.complete) reply.header('connection', 'close');
      }
    },
  );

  r.get(
    '/projects/:project_id/export',
    {
      config: supervisor,
      schema: {
        tags,
        description: 'text/csv, streamed: id,repository_assign_id,status_id, then every field in field order; imports back unchanged.',
        params: S.ProjectParams,
        querystring: ExportQuery,
        response: { ...S.errorResponses(400, 404, 422) },
      },
    },
    async (req, reply) => {
      const { project_id: projectId } = req.params;
      const { repository_id: repositoryId } = req.query;
      const chunks = exportCsv(db.read, projectId, repositoryId);
      // The first chunk comes after the checks: a bad project or repository is still a JSON error.
      const first = await chunks.next();
      const body = Readable.from(
        (async function* () {
          if (!first.done) yield first.value;
          yield* chunks;
        })(),
      );
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="project-${projectId}-repository-${repositoryId}.csv"`)
        .send(body);
    },
  );
}
