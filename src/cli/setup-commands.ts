// Setup verbs: projects, fields, statuses, groups, sites, repositories, DIDs and workers, through the same
// domain services as the admin API; objects are printed as the admin API answers them, one JSON per line.
import { Command, Option } from 'commander';
import { FIELD_TYPES, createField, listFields } from '../crm/fields.ts';
import { createDid, createPart, createProject, createStaffed, getProject, listDids, listParts, listProjects, type PartTable } from '../crm/setup.ts';
import type { Q } from '../db/connect.ts';
import * as wire from '../admin/wire.ts';
import { CliError, printJson, withDb } from './context.ts';
import { idArg } from './args.ts';

const PAGE = 1000;

/** Every row, a keyset page at a time. */
async function printAll<R extends { id: number }>(list: (page: { limit: number; after?: number }) => Promise<R[]>, map: (r: R) => unknown) {
  let after: number | undefined;
  for (;;) {
    const rows = await list({ limit: PAGE, after });
    for (const r of rows) printJson(map(r));
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1]!.id;
  }
}

export function setupCommands(program: Command): void {
  const project = program.command('project').description('create and list projects');
  project
    .command('create')
    .description('create a project')
    .requiredOption('--name <name>', 'project name')
    .option('--id <id>', 'explicit id (kept from the old system)', idArg)
    .action((o: { name: string; id?: number }) =>
      withDb(async (db) => printJson(wire.project(await db.write((trx) => createProject(trx, { id: o.id, name: o.name }))))),
    );
  project
    .command('list')
    .description('list projects')
    .action(() => withDb((db) => printAll((page) => listProjects(db.q, page), wire.project)));

  const field = program.command('field').description('create and list form fields');
  field
    .command('create')
    .description('add a customer field to a project')
    .requiredOption('--project <id>', 'project id', idArg)
    .requiredOption('--name <display_name>', 'the key used by the API, e.g. first_name')
    .addOption(new Option('--type <type>', 'field type').choices(FIELD_TYPES).default('text'))
    .option('--label <label>', 'human text (default: the name)')
    .option('--unique', 'no two customers of the project may hold the same value')
    .option('--required', 'every customer must hold a value')
    .option('--options <a,b,...>', 'comma-separated choices of a select field')
    .action((o: { project: number; name: string; type: (typeof FIELD_TYPES)[number]; label?: string; unique?: boolean; required?: boolean; options?: string }) =>
      withDb(async (db) => {
        await getProject(db.q, o.project);
        const created = await db.write((trx) =>
          createField(trx, o.project, {
            display_name: o.name,
            type: o.type,
            label: o.label,
            unique: o.unique === true,
            required: o.required === true,
            ...(o.options === undefined ? {} : { options: o.options.split(',') }),
          }),
        );
        printJson(created);
      }),
    );
  field
    .command('list')
    .description("list a project's fields in order")
    .requiredOption('--project <id>', 'project id', idArg)
    .action((o: { project: number }) =>
      withDb(async (db) => {
        await getProject(db.q, o.project);
        for (const f of await listFields(db.q, o.project)) printJson(f);
      }),
    );

  const parts: [string, string, PartTable][] = [
    ['status', 'statuses (call outcomes)', 'statuses'],
    ['group', 'groups (teams)', 'groups'],
    ['site', 'sites (locations)', 'sites'],
  ];
  for (const [name, what, table] of parts) {
    const cmd = program.command(name).description(`create and list ${what}`);
    cmd
      .command('create')
      .description(`create a ${name}`)
      .requiredOption('--project <id>', 'project id', idArg)
      .requiredOption('--name <name>', `${name} name`)
      .option('--id <id>', 'explicit id (kept from the old system)', idArg)
      .action((o: { project: number; name: string; id?: number }) =>
        withDb(async (db) => printJson(wire.part(await db.write((trx) => createPart(trx, table, o.project, { id: o.id, name: o.name }))))),
      );
    cmd
      .command('list')
      .description(`list a project's ${table}`)
      .requiredOption('--project <id>', 'project id', idArg)
      .action((o: { project: number }) => withDb((db) => printAll((page) => listParts(db.q, table, o.project, page), wire.part)));
  }

  for (const [name, table] of [['repository', 'repositories'], ['worker', 'workers']] as const) {
    const cmd = program.command(name).description(name === 'repository' ? 'create and list repositories (lead lists)' : 'create and list workers (agents)');
    cmd
      .command('create')
      .description(`create a ${name}`)
      .requiredOption('--project <id>', 'project id', idArg)
      .requiredOption('--name <name>', `${name} name`)
      .option('--id <id>', 'explicit id (kept from the old system)', idArg)
      .option('--group <id>', 'group of the same project', idArg)
      .option('--site <id>', 'site of the same project', idArg)
      .action((o: { project: number; name: string; id?: number; group?: number; site?: number }) =>
        withDb(async (db) => {
          const row = await db.write((trx: Q) => createStaffed(trx, table, o.project, { id: o.id, name: o.name, group_id: o.group ?? null, site_id: o.site ?? null }));
          printJson(wire.staffed(row));
        }),
      );
    cmd
      .command('list')
      .description(`list a project's ${table}`)
      .requiredOption('--project <id>', 'project id', idArg)
      .action((o: { project: number }) => withDb((db) => printAll((page) => listParts(db.q, table, o.project, page), wire.staffed)));
  }

  const did = program.command('did').description('register and list DIDs (dialed numbers)');
  did
    .command('create')
    .description('register a DID to a project, optionally pinned to one repository')
    .requiredOption('--project <id>', 'project id', idArg)
    .requiredOption('--did <number>', 'the dialed number, e.g. 07333333333')
    .option('--repository <id>', 'only this repository matches calls to the DID', idArg)
    .action((o: { project: number; did: string; repository?: number }) => {
      if (!/\d/.test(o.did)) throw new CliError(`--did ${JSON.stringify(o.did)} must hold at least one digit`, 2);
      return withDb(async (db, config) =>
        printJson(wire.did(await db.write((trx) => createDid(trx, o.project, { did: o.did, repository_id: o.repository ?? null }, config.defaultCountry)))),
      );
    });
  did
    .command('list')
    .description("list a project's DIDs")
    .requiredOption('--project <id>', 'project id', idArg)
    .action((o: { project: number }) => withDb((db) => printAll((page) => listDids(db.q, o.project, page), wire.did)));
}
