// serve, migrate, demo, import and export. import and export run the same functions as the admin API's
// routes (crm/import.ts, crm/export.ts): the route hands them the request stream, this a file stream.
import cluster from 'node:cluster';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { extname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command, Option } from 'commander';
import { DEMO, loadDemo } from '../crm/demo.ts';
import { exportCsv } from '../crm/export.ts';
import { importCustomers, type ImportFormat, type OnDuplicate } from '../crm/import.ts';
import { openDatabase } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { idArg } from './args.ts';
import { CliError, printJson, readConfig, withDb } from './context.ts';
import { progressBar } from './progress.ts';

const EXTENSIONS: Record<string, ImportFormat> = { '.csv': 'csv', '.ndjson': 'ndjson', '.jsonl': 'ndjson' };

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
      const db = openDatabase(config.databaseUrl, { durable: config.durable, poolSize: 1 });
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
    .action(() =>
      withDb(async (db, config) => {
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
    .description('import customers from a CSV or NDJSON file into a repository; prints a summary, exits 1 when a row failed')
    .argument('<file>', 'a .csv, .ndjson or .jsonl file, or - for stdin (with --format)')
    .requiredOption('--project <id>', 'project id', idArg)
    .requiredOption('--repository <id>', 'repository to put the customers in', idArg)
    .addOption(new Option('--on-duplicate <mode>', 'a row matching an existing customer by id, phone or unique field').choices(['skip', 'update']).default('skip'))
    .addOption(new Option('--format <format>', 'file format (default: by the file extension)').choices(['csv', 'ndjson']))
    .action(async (file: string, o: { project: number; repository: number; onDuplicate: OnDuplicate; format?: ImportFormat }) => {
      const format = o.format ?? EXTENSIONS[extname(file).toLowerCase()];
      if (!format) throw new CliError(`cannot tell the format of ${file} by its extension (.csv, .ndjson, .jsonl): add --format csv or --format ndjson`, 2);
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
            format,
            country: config.defaultCountry,
            onProgress: (p) => bar.update(p),
          });
          bar.done();
          process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
          if (summary.error_count > 0) process.exitCode = 1;
        } finally {
          source.destroy();
        }
      }, { bulk: true });
    });

  program
    .command('export')
    .description('export a repository as CSV (the import format: it imports back unchanged)')
    .requiredOption('--project <id>', 'project id', idArg)
    .requiredOption('--repository <id>', 'repository id', idArg)
    .option('--out <file>', 'write to this file instead of stdout')
    .action((o: { project: number; repository: number; out?: string }) =>
      withDb(async (db) => {
        const chunks = exportCsv(db.q, o.project, o.repository);
        // The first chunk comes after the checks: a bad id fails before the output file is created.
        const first = await chunks.next();
        const body = Readable.from(
          (async function* () {
            if (!first.done) yield first.value;
            yield* chunks;
          })(),
        );
        try {
          await pipeline(body, o.out === undefined ? process.stdout : createWriteStream(o.out));
        } catch (err) {
          // The reader went away (`callcrm export … | head`): not a failure of the export.
          if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
        }
      }),
    );
}

function base(config: { host: string; port: number; basePath: string }): string {
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}${config.basePath}`;
}
