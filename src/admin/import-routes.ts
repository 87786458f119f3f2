// Import and export of a repository's customers, and imports as objects (summary, rejects, undo). Both
// stream end to end: the import's body is handed to the import service as the raw request stream (no
// buffering, no bodyLimit: CRM_IMPORT_LIMIT is counted as it streams), and the export is written page by
// page.
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { EXPORT_TYPES, exportCsv, exportXlsx } from '../crm/export.ts';
import { importCustomers, type ImportFormat } from '../crm/import.ts';
import { charsetOf } from '../crm/import-decode.ts';
import { MAX_PREVIEW_ROWS, PREVIEW_ROWS, previewImport } from '../crm/import-preview.ts';
import { DELIMITERS } from '../crm/import-rows.ts';
import { getImport, rejectsCsv, undoImport } from '../crm/import-records.ts';
import { AppError } from '../errors.ts';
import type { AdminDeps } from './deps.ts';
import * as S from './schemas.ts';
import { ListFilterProperties, listFilterOf } from './list-filter.ts';

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

const FORMATS: Record<string, ImportFormat> = {
  'text/csv': 'csv',
  // Excel's "Unicode text" is tab-separated; the delimiter is detected either way.
  'text/tab-separated-values': 'csv',
  'application/x-ndjson': 'ndjson',
  [XLSX_TYPE]: 'xlsx',
};

const ImportQuery = Type.Object({
  repository_id: S.Id,
  on_duplicate: Type.Optional(Type.Union([Type.Literal('skip'), Type.Literal('update')], { default: 'skip' })),
  unknown_columns: Type.Optional(Type.Union([Type.Literal('refuse'), Type.Literal('ignore')], { default: 'refuse', description: 'ignore: columns that match no field are left out instead of refusing the file' })),
  sheet: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'XLSX: the sheet by name or 1-based position (default the first)' })),
  delimiter: Type.Optional(Type.Union([Type.Literal('comma'), Type.Literal('semicolon'), Type.Literal('tab')], { description: 'CSV: the delimiter (default: detected from the header line)' })),
  date_order: Type.Optional(Type.Union([Type.Literal('DMY'), Type.Literal('MDY'), Type.Literal('YMD')], { description: 'How dates other than YYYY-MM-DD are read (default CRM_DATE_ORDER)' })),
  columns: Type.Optional(
    Type.String({
      maxLength: 100_000,
      description:
        'A JSON object: header cell → a field display_name, id, repository_assign_id or status_id, or "" to leave the column out. ' +
        'Header cells not named keep the automatic match (display_name or label); a name that is not a header cell of the file refuses the file.',
    }),
  ),
  dry_run: Type.Optional(
    Type.Boolean({
      default: false,
      description:
        'true: a preview of the first preview_rows rows through the same readers and row rules, with nothing written (no customer, no import record). ' +
        'Answers the detected and used encoding, delimiter and date order, the header, its mapping, and each cell\'s error. ' +
        'Duplicates against the database (id, phone, unique values) are not checked in a preview.',
    }),
  ),
  preview_rows: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PREVIEW_ROWS, default: PREVIEW_ROWS, description: 'dry_run: how many rows to read' })),
});
const ExportQuery = Type.Object({
  repository_id: S.Id,
  format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('excel'), Type.Literal('xlsx')], { default: 'csv' })),
  // The same filters as GET /repositories/:id/assigns: the export of a filtered list has exactly its rows.
  ...ListFilterProperties,
});
const ImportParams = Type.Object({ import_id: S.Id });
const ImportSummary = Type.Object({
  import_id: Type.Integer(),
  created: Type.Integer(),
  updated: Type.Integer(),
  skipped: Type.Integer(),
  errors: Type.Array(Type.Object({ line: Type.Integer(), message: Type.String() })),
  error_count: Type.Integer(),
  encoding: Type.Union([Type.String(), Type.Null()]),
  ignored_columns: Type.Array(Type.String()),
});
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const ImportPreview = Type.Object({
  dry_run: Type.Literal(true),
  format: Type.String(),
  encoding: Type.Object({ detected: Nullable(Type.String()), used: Nullable(Type.String()) }),
  delimiter: Type.Object({ detected: Nullable(Type.String()), used: Nullable(Type.String()) }, { description: 'comma, semicolon or tab; null for XLSX and NDJSON' }),
  date_order: Type.Object({ default: Type.String(), used: Type.String() }),
  header: Type.Array(Type.String()),
  mapping: Type.Array(Nullable(Type.String()), { description: 'per header cell: the field display_name (or id column) it feeds, or null' }),
  header_error: Nullable(Type.String()),
  rows: Type.Array(
    Type.Object({
      line: Type.Integer(),
      cells: Type.Array(Type.Object({ value: Type.String(), error: Nullable(Type.String()) })),
      error: Nullable(Type.String({ description: "a problem of the row rather than of one cell (a required field missing, a wrong cell count)" })),
    }),
  ),
});
const ImportRecord = Type.Object({
  id: Type.Integer(),
  project_id: Type.Integer(),
  repository_id: Type.Integer(),
  who: Type.String(),
  format: Type.String(),
  encoding: Type.Union([Type.String(), Type.Null()]),
  on_duplicate: Type.String(),
  status: Type.String({ description: 'running, done, failed (stopped after writing some batches) or undone' }),
  started_at: Type.String(),
  finished_at: Type.Union([Type.String(), Type.Null()]),
  undone_at: Type.Union([Type.String(), Type.Null()]),
  rows: Type.Integer(),
  bytes: Type.Integer(),
  created: Type.Integer(),
  updated: Type.Integer(),
  skipped: Type.Integer(),
  error_count: Type.Integer(),
});
const UndoResult = Type.Object({ removed: Type.Integer(), kept: Type.Integer(), assigns_removed: Type.Integer() });

/** A query parameter holding JSON; its shape is checked where it is used (a 400 naming it either way). */
function jsonParam(name: string, raw: string): Record<string, string> {
  try {
    return JSON.parse(raw) as Record<string, string>;
  } catch {
    throw new AppError('invalid_input', `${name}: not valid JSON`);
  }
}

/** Who runs an import: the signed-in user when sessions exist (console branch), else the admin token. */
function whoOf(req: FastifyRequest): string {
  const user = (req as FastifyRequest & { user?: { username?: string } }).user;
  return user?.username ?? 'admin';
}

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
        description:
          'CSV (text/csv or text/tab-separated-values; a header row of display_names or labels), XLSX (' + XLSX_TYPE + ') or NDJSON (application/x-ndjson) body; ' +
          'id, repository_assign_id and status_id columns are optional. A charset on the content type is honoured; without one UTF-8, UTF-16 with BOM, ' +
          'else CRM_LEGACY_CHARSET. The delimiter (comma, semicolon, tab) is detected. Every rejected row is kept: GET /imports/{import_id}/rejects.',
        params: S.ProjectParams,
        querystring: ImportQuery,
        response: { 200: Type.Union([ImportSummary, ImportPreview]), ...S.errorResponses(400, 404, 413, 415, 422) },
      },
    },
    async (req, reply) => {
      const contentType = req.headers['content-type'] ?? '';
      const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
      const format = Object.hasOwn(FORMATS, mediaType) ? FORMATS[mediaType] : undefined;
      if (!format || !(req.body instanceof Readable)) {
        throw new AppError('unsupported_media_type', `an import body is text/csv, text/tab-separated-values, ${XLSX_TYPE} or application/x-ndjson`);
      }
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > config.importLimit) {
        reply.header('connection', 'close');
        throw new AppError('body_too_large', `the import is larger than ${config.importLimit} bytes (CRM_IMPORT_LIMIT)`);
      }
      const q = req.query;
      const opts = {
        projectId: req.params.project_id,
        repositoryId: q.repository_id,
        onDuplicate: q.on_duplicate ?? 'skip',
        unknownColumns: q.unknown_columns ?? 'refuse',
        sheet: q.sheet,
        format,
        country: config.defaultCountry,
        dateOrder: q.date_order ?? config.dateOrder,
        charset: format === 'xlsx' ? undefined : charsetOf(contentType),
        legacyCharset: config.legacyCharset,
        delimiter: q.delimiter === undefined ? undefined : DELIMITERS[q.delimiter],
        columns: q.columns === undefined ? undefined : jsonParam('columns', q.columns),
        who: whoOf(req),
        maxBytes: config.importLimit,
      } as const;
      try {
        if (q.dry_run === true) return await previewImport(db, req.body, { ...opts, rows: q.preview_rows, defaultDateOrder: config.dateOrder });
        return await importCustomers(db, req.body, opts);
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
        description:
          'Streamed: id,repository_assign_id,status_id, then every field in field order; imports back unchanged. format=csv (display_names, LF), ' +
          'excel (CSV with UTF-8 BOM, CRLF, labels as headers) or xlsx. Text cells a spreadsheet would run as formulas get a leading \' (removed again on import). ' +
          'status_id, worker_id and not_called_days filter as in GET /repositories/{repository_id}/assigns (the export of a supervisor\'s list).',
        params: S.ProjectParams,
        querystring: ExportQuery,
        response: { ...S.errorResponses(400, 404, 422) },
      },
    },
    async (req, reply) => {
      const { project_id: projectId } = req.params;
      const { repository_id: repositoryId } = req.query;
      const format = req.query.format ?? 'csv';
      const name = `project-${projectId}-repository-${repositoryId}.${format === 'xlsx' ? 'xlsx' : 'csv'}`;
      let body: Readable;
      const filter = listFilterOf(req.query);
      if (format === 'xlsx') body = await exportXlsx(db.read, projectId, repositoryId, { filter });
      else {
        const chunks = exportCsv(db.read, projectId, repositoryId, { format, filter });
        // The first chunk comes after the checks: a bad project or repository is still a JSON error.
        const first = await chunks.next();
        body = Readable.from(
          (async function* () {
            if (!first.done) yield first.value;
            yield* chunks;
          })(),
        );
      }
      return reply.type(EXPORT_TYPES[format]).header('content-disposition', `attachment; filename="${name}"`).send(body);
    },
  );

  r.get(
    '/imports/:import_id',
    { config: { role: 'supervisor' }, schema: { tags, summary: "An import's summary: who, when, where, counts, status", params: ImportParams, response: { 200: ImportRecord, ...S.errorResponses(400, 404) } } },
    async (req) => getImport(db.read, req.params.import_id),
  );

  r.get(
    '/imports/:import_id/rejects',
    {
      config: { role: 'supervisor' },
      schema: {
        tags,
        summary: 'Every rejected row as it was read, plus line and error columns (text/csv, UTF-8 with BOM, CRLF)',
        params: ImportParams,
        response: { ...S.errorResponses(400, 404) },
      },
    },
    async (req, reply) => {
      const chunks = rejectsCsv(db.read, req.params.import_id);
      const first = await chunks.next();
      const body = Readable.from(
        (async function* () {
          yield '\uFEFF';
          if (!first.done) yield first.value;
          yield* chunks;
        })(),
      );
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="import-${req.params.import_id}-rejects.csv"`)
        .send(body);
    },
  );

  r.delete(
    '/imports/:import_id',
    {
      config: { role: 'supervisor' },
      schema: {
        tags,
        summary: 'Undo an import',
        description:
          'Removes the customers and assigns the import created that nothing has changed since (no update, no history, no call); ' +
          'answers {removed, kept} (customers) and assigns_removed. Fields the import updated on existing customers stay as they are.',
        params: ImportParams,
        response: { 200: UndoResult, ...S.errorResponses(400, 404) },
      },
    },
    async (req) => db.write((trx) => undoImport(trx, req.params.import_id)),
  );
}
