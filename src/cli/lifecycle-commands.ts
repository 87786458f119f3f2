// Lifecycle verbs beside the setup verbs (setup-commands.ts): rename, change, archive and unarchive setup
// rows, remove DIDs and assigns, erase customers. Same domain functions as the admin API, each change in
// one transaction with its audit row (actor "cli:<os user>"). A running server sees a setup change within
// a second (crm/setup-cache.ts).
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import * as wire from '../admin/wire.ts';
import { getAssignRow } from '../crm/assigns.ts';
import { logChange, type ChangeEntry } from '../crm/change-log.ts';
import { eraseCustomer, forgetOldPages } from '../crm/erase.ts';
import { deleteDid, patchField, patchProject, patchSetupRow, removeAssign, type FieldPatch, type SetupTable } from '../crm/lifecycle.ts';
import type { Db, Q } from '../db/connect.ts';
import { idArg } from './args.ts';
import { CliError, printJson, withDb } from './context.ts';

function actor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

/** The change and its audit row, one transaction. */
function change<T>(db: Db, fn: (trx: Q) => Promise<{ result: T; log: Omit<ChangeEntry, 'actor'> }>): Promise<T> {
  return db.write(async (trx) => {
    const { result, log } = await fn(trx);
    await logChange(trx, { ...log, actor: actor() });
    return result;
  });
}

/** The existing command `name` (setup-commands.ts made it), or a new one. */
function commandOf(program: Command, name: string, description: string): Command {
  return program.commands.find((c) => c.name() === name) ?? program.command(name).description(description);
}

export function lifecycleCommands(program: Command): void {
  commandOf(program, 'project', 'projects')
    .command('rename')
    .description('rename a project')
    .requiredOption('--project <id>', 'project id', idArg)
    .requiredOption('--name <name>', 'new name')
    .action((o: { project: number; name: string }) =>
      withDb(async (db) => {
        const row = await change(db, async (trx) => ({ result: await patchProject(trx, o.project, { name: o.name }), log: { endpoint: 'admin.project.patch', project_id: o.project, detail: { project_id: o.project, name: o.name } } }));
        printJson(wire.project(row));
      }),
    );

  const field = commandOf(program, 'field', 'form fields');
  const fieldChange = (verb: string, description: string, patchOf: (o: Record<string, string | boolean | undefined>) => FieldPatch, extra: (c: Command) => Command = (c) => c) =>
    extra(field.command(verb).description(description).requiredOption('--project <id>', 'project id', idArg).requiredOption('--field <id>', 'field id', idArg)).action(
      (o: { project: number; field: number } & Record<string, string | boolean | undefined>) =>
        withDb(async (db) => {
          const patch = patchOf(o);
          const f = await change(db, async (trx) => ({ result: await patchField(trx, o.project, o.field, patch), log: { endpoint: 'admin.field.patch', project_id: o.project, detail: { field_id: o.field, ...patch } } }));
          printJson(f);
        }),
    );
  fieldChange('rename', "rename a field's display_name (telephony clients using the old name get null / Unknown field)", (o) => ({ display_name: String(o.name) }), (c) => c.requiredOption('--name <display_name>', 'the new display_name'));
  fieldChange(
    'update',
    "change a field's label, options, required flag or position",
    (o) => ({
      ...(o.label !== undefined ? { label: String(o.label) } : {}),
      ...(o.options !== undefined ? { options: String(o.options).split(',') } : {}),
      ...(o.required !== undefined ? { required: o.required === true } : {}),
      ...(o.position !== undefined ? { position: Number(o.position) } : {}),
    }),
    (c) =>
      c
        .option('--label <label>', 'human text')
        .option('--options <a,b,...>', 'choices of a select field')
        .option('--required', 'every customer must hold a value')
        .option('--no-required', 'a value is optional')
        .option('--position <n>', 'place in the form', (v) => {
          if (!/^\d{1,7}$/.test(v.trim())) throw new CliError('--position must be a whole number', 2);
          return v;
        }),
  );
  fieldChange('archive', 'retire a field: get_data answers null, set_data and imports treat it as unknown', () => ({ archived: true }));
  fieldChange('unarchive', 'put an archived field back in use (its values were kept)', () => ({ archived: false }));

  const rows: [string, SetupTable][] = [['status', 'statuses'], ['group', 'groups'], ['site', 'sites'], ['worker', 'workers'], ['repository', 'repositories']];
  for (const [name, table] of rows) {
    const cmd = commandOf(program, name, table);
    const staffed = table === 'workers' || table === 'repositories';
    const verb = (v: string, description: string, patchOf: (o: { name?: string; group?: number; site?: number }) => Record<string, unknown>, extra: (c: Command) => Command = (c) => c) =>
      extra(cmd.command(v).description(description).requiredOption('--project <id>', 'project id', idArg).requiredOption('--id <id>', `${name} id`, idArg)).action(
        (o: { project: number; id: number; name?: string; group?: number; site?: number }) =>
          withDb(async (db) => {
            const patch = patchOf(o);
            const row = await change(db, async (trx) => ({ result: await patchSetupRow(trx, table, o.project, o.id, patch), log: { endpoint: `admin.${name}.patch`, project_id: o.project, detail: { [`${name}_id`]: o.id, ...patch } } }));
            printJson(staffed ? wire.staffed(row as Parameters<typeof wire.staffed>[0]) : wire.part(row));
          }),
      );
    verb('rename', `rename a ${name}`, (o) => ({ name: o.name }), (c) => c.requiredOption('--name <name>', 'new name'));
    if (staffed) {
      verb('move', `move a ${name} to another group or site`, (o) => ({ ...(o.group !== undefined ? { group_id: o.group } : {}), ...(o.site !== undefined ? { site_id: o.site } : {}) }), (c) =>
        c.option('--group <id>', 'group of the same project', idArg).option('--site <id>', 'site of the same project', idArg),
      );
    }
    verb('archive', `retire a ${name}${table === 'statuses' ? ' (it can no longer be set, but still names old history)' : ''}; listed only with archived=true`, () => ({ archived: true }));
    verb('unarchive', `put an archived ${name} back in use`, () => ({ archived: false }));
  }

  commandOf(program, 'did', 'DIDs')
    .command('delete')
    .description('remove a DID from a project')
    .requiredOption('--project <id>', 'project id', idArg)
    .requiredOption('--did <number>', 'the dialed number, any spelling')
    .action((o: { project: number; did: string }) =>
      withDb(async (db, config) => {
        const removed = await change(db, async (trx) => {
          const r = await deleteDid(trx, o.project, o.did, config.defaultCountry);
          return { result: r, log: { endpoint: 'admin.did.delete', project_id: o.project, detail: { did: r.did, did_id: r.id } } };
        });
        printJson(wire.did(removed));
      }),
    );

  commandOf(program, 'assign', 'repository assigns')
    .command('delete')
    .description('take an assign out of its repository (its history stays readable by id)')
    .requiredOption('--assign <id>', 'assign id', idArg)
    .action((o: { assign: number }) =>
      withDb(async (db) => {
        await change(db, async (trx) => {
          const a = await getAssignRow(trx, o.assign);
          if (!a) throw new CliError(`assign ${o.assign} does not exist`);
          await removeAssign(trx, a, 'removed');
          return { result: undefined, log: { endpoint: 'admin.assign.delete', project_id: a.project_id, assign_id: a.id, detail: { assign_id: a.id, customer_id: a.customer_id, repository_id: a.repository_id } } };
        });
        printJson({ removed: o.assign });
      }),
    );

  commandOf(program, 'customer', 'customers')
    .command('erase')
    .description("erase a customer (right to be forgotten): values, assigns and history values are removed for good")
    .requiredOption('--customer <id>', 'customer id', idArg)
    .action((o: { customer: number }) =>
      withDb(async (db, config) => {
        await change(db, async (trx) => {
          const erased = await eraseCustomer(trx, o.customer, config.defaultCountry);
          if (!erased) throw new CliError(`customer ${o.customer} does not exist`);
          return { result: erased, log: { endpoint: 'admin.customer.erase', project_id: erased.project_id, detail: { customer_id: o.customer, assign_ids: erased.assign_ids } } };
        });
        if (!(await forgetOldPages(db))) process.stderr.write('warning: a reader kept the SQLite WAL from being truncated; it is folded in at the next checkpoint\n');
        printJson({ erased: o.customer });
      }),
    );
}
