// serve, migrate, demo, import and export. import and export run the same functions as the admin API's
// routes (crm/import.ts, crm/export.ts): the route hands them the request stream, this a file stream.
import cluster from 'node:cluster';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { extname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEMO, loadDemo } from '../crm/demo.ts';
import { resetDemoData } from '../crm/demo-reset.ts';
import { exportCsv, exportXlsx, type ExportFormat } from '../crm/export.ts';
import { importCustomers, type ImportFormat, type ImportSummary, type OnDuplicate } from '../crm/import.ts';
import type { UnknownColumns } from '../crm/import-columns.ts';
import { DELIMITERS, type DelimiterName } from '../crm/import-rows.ts';
import type { DateOrder } from '../crm/dates.ts';
import { getImport, rejectsCsv, undoImport } from '../crm/import-records.ts';
import { openDatabase } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { idArg } from './args.ts';
import { CliError, printJson, readConfig, withDb } from './context.ts';
import { progressBar } from './progress.ts';

const EXTENSIONS: Record<string, ImportFormat> = { '.csv': 'csv', '.tsv': 'csv', '.txt': 'csv', '.xlsx': 'xlsx', '.ndjson': 'ndjson', '.jsonl': 'ndjson' };

/** Who runs a CLI import, as the import records it. */
function cliUser(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

/** The one-line human summary that ends an import's output (after the JSON). */
export function importSummaryLine(s: ImportSummary, rejectsFile?: string): string {
  const parts = [`import ${s.import_id}: ${s.created} created, ${s.updated} updated, ${s.skipped} skipped, ${s.error_count} rejected`];
  if (s.error_count > 0) parts.push(rejectsFile ? `rejected rows in ${rejectsFile}` : `rejected rows: callcrm imports rejects ${s.import_id} --out rejects.csv`);
  if (s.ignored_columns.length > 0) parts.push(`ignored columns: ${s.ignored_columns.join(', ')}`);
  if (s.encoding) parts.push(`read as ${s.encoding}`);
  return parts.join('; ');
}

/** A stream of text chunks to a file or stdout; a reader going away (`| head`) is not a failure. */
async function writeOut(body: Readable, out: string | undefined, bom = false): Promise<void> {
  const source = bom
    ? Readable.from(
        (async function* () {
          yield '\uFEFF';
          yield* body;
        })(),
      )
    : body;
  try {
    await pipeline(source, out === undefined ? process.stdout : createWriteStream(out));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
  }
}

/** The first chunk after the checks: a bad id fails before the output file is created. */
async function checkedStream(chunks: AsyncGenerator<string>): Promise<Readable> {
  const first = await chunks.next();
  return Readable.from(
    (async function* () {
      if (!first.done) yield first.value;
      yield* chunks;
    })(),
  );
}

export function dataCommands(program: Command): void {
  program
    .command('serve')
    .description('start the server (telephony API and admin API), migrating the database first')
    .option('--demo', 'load the demo project before serving')
    .action(async (o: { demo?: boolean }) => {
      // With CRM_WORKERS > 1 every worker runs this command again; the primary alone loads the demo.
      if (o.demo && cluster.isPrimary) await withDb((db, config) => loadDemo(db, config.defaultCountry));
      // Loaded here, not at the top: the other commands start faster without the HTTP server's modules.
      const { serve } = await import('../main.ts');
      await serve();
    });

  program
    .command('migrate')
    .description('bring the database schema up to date (the server and every command also do it on start)')
    .action(async () => {
      const config = readConfig();
      const db = openDatabase(config.databaseUrl, { durable: config.durable, poolSize: 1, pipeline: config.databasePipeline });
      try {
        const applied = await migrateToLatest(db.q);
        printJson({ applied });
      } finally {
        await db.close();
      }
    });

  program
    .command('demo')
    .description(`load the demo project ${DEMO.projectId} (idempotent: a second run changes nothing)`)
    .option('--reset', "remove the demo project's customers, assigns, history and imports first, so the walk-through can be repeated")
    .action((o: { reset?: boolean }) =>
      withDb(async (db, config) => {
        if (o.reset) await resetDemoData(db);
        const result = await loadDemo(db, config.defaultCountry);
        printJson(result);
        process.stderr.write(
          `demo project ${DEMO.projectId} ready${result.created === 0 ? ' (already loaded)' : ''}; try:\n` +
            `  curl '${base(config)}/api/get_data.php?authkey=Mindc_2023_get_data&did=${DEMO.did}&phone=0500000000&project_id=${DEMO.projectId}&out=first_name,last_status,repository_name'\n`,
        );
      }),
    );

  program
    .command('import')
    .description('import customers from a CSV, XLSX or NDJSON file into a repository; prints the summary as JSON, then one line for people; exits 1 when a row failed')
    .argument('<file>', 'a .csv/.tsv/.txt, .xlsx, .ndjson or .jsonl file, or - for stdin (with --format)')
    .requiredOption('--project <id>', 'project id', idArg)
    .requiredOption('--repository <id>', 'repository to put the customers in', idArg)
    .addOption(new Option('--on-duplicate <mode>', 'a row matching an existing customer by id, phone or unique field').choices(['skip', 'update']).default('skip'))
    .addOption(new Option('--format <format>', 'file format (default: by the file extension)').choices(['csv', 'xlsx', 'ndjson']))
    .option('--encoding <charset>', "the CSV's charset, e.g. windows-1255, utf-8, utf-16le (default: detected; else CRM_LEGACY_CHARSET)")
    .addOption(new Option('--unknown-columns <mode>', 'a column that matches no field: refuse the file, or ignore the column').choices(['refuse', 'ignore']).default('refuse'))
    .option('--sheet <name>', 'XLSX: the sheet by name or 1-based position (default: the first)')
    .addOption(new Option('--delimiter <name>', 'CSV: the delimiter (default: detected from the header line)').choices(Object.keys(DELIMITERS)))
    .addOption(new Option('--date-order <order>', 'how dates other than YYYY-MM-DD are read (default: CRM_DATE_ORDER)').choices(['DMY', 'MDY', 'YMD']))
    .option('--columns <json>', 'a JSON object: header cell → field display_name, an id column, or "" to leave the column out (the others match by display_name or label)', jsonObjectArg)
    .option('--rejects <file>', 'write every rejected row (as it was, plus line and error columns) to this CSV file')
    .action(
      async (
        file: string,
        o: {
          project: number;
          repository: number;
          onDuplicate: OnDuplicate;
          format?: ImportFormat;
          encoding?: string;
          unknownColumns: UnknownColumns;
          sheet?: string;
          delimiter?: DelimiterName;
          dateOrder?: DateOrder;
          columns?: Record<string, string>;
          rejects?: string;
        },
      ) => {
        const format = o.format ?? EXTENSIONS[extname(file).toLowerCase()];
        if (!format) throw new CliError(`cannot tell the format of ${file} by its extension (.csv, .tsv, .txt, .xlsx, .ndjson, .jsonl): add --format csv, xlsx or ndjson`, 2);
        let total: number | undefined;
        if (file !== '-') {
          try {
            total = statSync(file).size;
          } catch (err) {
            throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
          }
        }
        await withDb(async (db, config) => {
          const source = file === '-' ? process.stdin : createReadStream(file);
          const bar = progressBar(process.stderr, total);
          try {
            const summary = await importCustomers(db, source, {
              projectId: o.project,
              repositoryId: o.repository,
              onDuplicate: o.onDuplicate,
              unknownColumns: o.unknownColumns,
              sheet: o.sheet,
              format,
              country: config.defaultCountry,
              dateOrder: o.dateOrder ?? config.dateOrder,
              delimiter: o.delimiter === undefined ? undefined : DELIMITERS[o.delimiter],
              columns: o.columns,
              charset: o.encoding,
              legacyCharset: config.legacyCharset,
              who: cliUser(),
              onProgress: (p) => bar.update(p),
            });
            bar.done();
            process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
            // Written also when nothing was rejected (the header only): a stale file from a run before never stays.
            if (o.rejects !== undefined) await writeOut(await checkedStream(rejectsCsv(db.q, summary.import_id)), o.rejects, true);
            process.stderr.write(`${importSummaryLine(summary, summary.error_count > 0 ? o.rejects : undefined)}\n`);
            if (summary.error_count > 0) process.exitCode = 1;
          } finally {
            source.destroy();
          }
        }, { bulk: true });
      },
    );

  const imports = program.command('imports').description('what an import did: its summary, its rejected rows, its undo');
  imports
    .command('show')
    .description("an import's summary (who, when, where, counts, status)")
    .argument('<import_id>', 'the import_id an import printed', idArg)
    .action((id: number) => withDb(async (db) => printJson(await getImport(db.q, id))));
  imports
    .command('rejects')
    .description("every rejected row of an import as CSV (the file's own columns, plus line and error)")
    .argument('<import_id>', 'the import_id an import printed', idArg)
    .option('--out <file>', 'write to this file instead of stdout')
    .action((id: number, o: { out?: string }) => withDb(async (db) => writeOut(await checkedStream(rejectsCsv(db.q, id)), o.out, o.out !== undefined)));
  imports
    .command('undo')
    .description('undo an import: removes the customers and assigns it created that nothing has changed since; prints {removed, kept}')
    .argument('<import_id>', 'the import_id an import printed', idArg)
    .action((id: number) => withDb(async (db) => printJson(await db.write((trx) => undoImport(trx, id)))));

  program
    .command('export')
    .description('export a repository (the import format: it imports back unchanged)')
    .requiredOption('--project <id>', 'project id', idArg)
    .requiredOption('--repository <id>', 'repository id', idArg)
    .addOption(new Option('--format <format>', 'csv (display_names), excel (CSV with BOM, CRLF, labels) or xlsx (default: by --out extension, else csv)').choices(['csv', 'excel', 'xlsx']))
    .option('--out <file>', 'write to this file instead of stdout')
    .action((o: { project: number; repository: number; format?: ExportFormat; out?: string }) =>
      withDb(async (db) => {
        const format = o.format ?? (o.out !== undefined && extname(o.out).toLowerCase() === '.xlsx' ? 'xlsx' : 'csv');
        const body = format === 'xlsx' ? await exportXlsx(db.q, o.project, o.repository) : await checkedStream(exportCsv(db.q, o.project, o.repository, { format }));
        await writeOut(body, o.out);
      }),
    );
}

function base(config: { host: string; port: number; basePath: string }): string {
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}${config.basePath}`;
}

/** --columns: a JSON object of strings (the import checks the names against the file and the fields). */
function jsonObjectArg(raw: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new InvalidArgumentError(`must be a JSON object, e.g. '{"Mobile number":"mobile","Notes":""}'`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || !Object.values(parsed).every((v) => typeof v === 'string')) {
    throw new InvalidArgumentError('must be a JSON object whose values are strings (a field display_name, an id column, or "")');
  }
  return Object.assign(Object.create(null), parsed) as Record<string, string>;
}
