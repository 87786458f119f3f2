// The callcrm CLI as users run it: a child process (bin/callcrm.js) on the database named by DATABASE_URL,
// checked through the admin and telephony APIs of an app on the same database.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KEYS, admin, adminHeaders, dialects, setup, tel, type Harness } from './helpers.ts';

const BIN = fileURLToPath(new URL('../bin/callcrm.js', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The harness's database as a DATABASE_URL: PostgreSQL gets the test schema through libpq's options. */
function databaseUrl(h: Harness): string {
  if (!h.pgSchema) return h.databaseUrl;
  const url = new URL(h.databaseUrl);
  url.searchParams.set('options', `-c search_path=${h.pgSchema}`);
  return url.toString();
}

function cli(h: Harness, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, DATABASE_URL: databaseUrl(h), ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      if (code === -1) return reject(err);
      resolve({ code, stdout, stderr });
    });
  });
}

const jsonLines = (s: string) => s.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

/** A one-line failure message, without a stack trace. */
function assertOneLineError(r: Run, pattern: RegExp) {
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

for (const dialect of dialects()) {
  describe(`callcrm CLI (${dialect})`, () => {
    let h: Harness;
    let dir: string;
    before(async () => {
      h = await setup(dialect);
      dir = mkdtempSync(join(tmpdir(), 'callcrm-cli-'));
    });
    after(async () => {
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('setup verbs create and list projects, fields, statuses, groups, sites, repositories, DIDs and workers', async () => {
      const created = await cli(h, ['project', 'create', '--name', 'CLI project', '--id', '30']);
      assert.equal(created.code, 0, created.stderr);
      assert.deepEqual(JSON.parse(created.stdout).id, 30);
      // Independent commands run side by side: separate processes writing one database.
      const waves = [
        [['field', 'create', '--project', '30', '--name', 'first_name', '--label', 'First name', '--required']],
        [['field', 'create', '--project', '30', '--name', 'mobile', '--type', 'phone']],
        [['field', 'create', '--project', '30', '--name', 'email', '--type', 'email', '--unique']],
        [
          ['field', 'create', '--project', '30', '--name', 'plan', '--type', 'select', '--options', 'basic,gold'],
          ['status', 'create', '--project', '30', '--name', 'Interested', '--id', '3010'],
          ['group', 'create', '--project', '30', '--name', 'Team', '--id', '3003'],
          ['site', 'create', '--project', '30', '--name', 'Haifa', '--id', '3004'],
        ],
        [
          ['repository', 'create', '--project', '30', '--name', 'Leads', '--id', '3007', '--group', '3003'],
          ['worker', 'create', '--project', '30', '--name', 'Dana', '--id', '3099', '--group', '3003', '--site', '3004'],
        ],
        [['did', 'create', '--project', '30', '--did', '04-8888888', '--repository', '3007']],
      ];
      for (const wave of waves) {
        const runs = await Promise.all(wave.map((args) => cli(h, args)));
        runs.forEach((r, i) => assert.equal(r.code, 0, `${wave[i]!.join(' ')}: ${r.stderr}`));
      }
      const [projects, fieldList, statuses, repositories, workers, didList] = await Promise.all([
        cli(h, ['project', 'list']),
        cli(h, ['field', 'list', '--project', '30']),
        cli(h, ['status', 'list', '--project', '30']),
        cli(h, ['repository', 'list', '--project', '30']),
        cli(h, ['worker', 'list', '--project', '30']),
        cli(h, ['did', 'list', '--project', '30']),
      ]);
      assert.ok(jsonLines(projects.stdout).some((p) => p.id === 30 && p.name === 'CLI project'));
      const fields = jsonLines(fieldList.stdout);
      assert.deepEqual(
        fields.map((f) => [f.display_name, f.type, f.unique, f.required, f.label]),
        [
          ['first_name', 'text', false, true, 'First name'],
          ['mobile', 'phone', false, false, 'mobile'],
          ['email', 'email', true, false, 'email'],
          ['plan', 'select', false, false, 'plan'],
        ],
      );
      assert.deepEqual(fields[3].options, ['basic', 'gold']);
      assert.deepEqual(jsonLines(statuses.stdout), [{ id: 3010, project_id: 30, name: 'Interested', archived: false }]);
      assert.deepEqual(jsonLines(repositories.stdout), [{ id: 3007, project_id: 30, name: 'Leads', group_id: 3003, site_id: null, archived: false }]);
      assert.deepEqual(jsonLines(workers.stdout), [{ id: 3099, project_id: 30, name: 'Dana', group_id: 3003, site_id: 3004, archived: false }]);
      assert.deepEqual(jsonLines(didList.stdout).map((d) => [d.did, d.repository_id]), [['04-8888888', 3007]]);
      // The same database the server uses.
      assert.equal((await admin(h.app, 'GET', '/projects/30/fields')).items.length, 4);

      // Lifecycle verbs beside them: rename a field, archive a status, erase a customer; each audited as the CLI's user.
      const planId = fields[3].id as number;
      const customer = await admin(h.app, 'POST', '/projects/30/customers', { fields: { first_name: 'Erase Me' } });
      const [renamed, archived, erased] = await Promise.all([
        cli(h, ['field', 'rename', '--project', '30', '--field', String(planId), '--name', 'tier']),
        cli(h, ['status', 'archive', '--project', '30', '--id', '3010']),
        cli(h, ['customer', 'erase', '--customer', String(customer.id)]),
      ]);
      for (const r of [renamed, archived, erased]) assert.equal(r.code, 0, r.stderr);
      assert.equal(jsonLines(renamed.stdout)[0].display_name, 'tier');
      assert.equal(jsonLines(archived.stdout)[0].archived, true);
      await admin(h.app, 'GET', `/customers/${customer.id}`, undefined, 404);
      assert.deepEqual((await admin(h.app, 'GET', '/projects/30/statuses')).items, []);
      const audit = (await admin(h.app, 'GET', '/audit?endpoint=admin.customer.erase')).items;
      assert.match(audit[0].actor, /^cli/);
      // And back, so the import below finds the form as it was: unarchive and rename restore both.
      const [back, restored] = await Promise.all([
        cli(h, ['field', 'rename', '--project', '30', '--field', String(planId), '--name', 'plan']),
        cli(h, ['status', 'unarchive', '--project', '30', '--id', '3010']),
      ]);
      for (const r of [back, restored]) assert.equal(r.code, 0, r.stderr);
      assert.equal(jsonLines(restored.stdout)[0].archived, false);
    });

    test('user errors are one line without a stack: 1 for a failed operation, 2 for usage and configuration', async () => {
      const [dup, missing, badId, badType, unknown, config, noFile] = await Promise.all([
        cli(h, ['project', 'create', '--name', 'Again', '--id', '30']),
        cli(h, ['field', 'list', '--project', '404']),
        cli(h, ['status', 'create', '--project', 'ten', '--name', 'X']),
        cli(h, ['field', 'create', '--project', '30', '--name', 'x', '--type', 'colour']),
        cli(h, ['frobnicate']),
        cli(h, ['project', 'list'], { DATABASE_URL: 'mysql://localhost/crm' }),
        cli(h, ['import', join(dir, 'absent.csv'), '--project', '30', '--repository', '3007']),
      ]);
      assert.equal(dup.code, 1);
      assertOneLineError(dup, /^callcrm: project 30 already exists$/);
      assert.equal(missing.code, 1);
      assertOneLineError(missing, /project 404 does not exist/);
      assert.equal(badId.code, 2);
      assertOneLineError(badId, /--project <id>.*positive whole number/);
      assert.equal(badType.code, 2);
      assert.equal(unknown.code, 2);
      assert.equal(config.code, 2);
      assertOneLineError(config, /^callcrm: configuration error: DATABASE_URL/);
      assert.equal(noFile.code, 1);
      assertOneLineError(noFile, /cannot read .*absent\.csv: no such file/);
    });

    test('import prints the summary with bad lines and exits 1 when a row failed; NDJSON by extension; export writes the import format', async () => {
      const csvFile = join(dir, 'leads.csv');
      writeFileSync(csvFile, 'first_name,mobile,email,plan,status_id\nAda,052-111-0001,ada@cli.test,gold,3010\n"Ben\nBenson",052-111-0002,,,\nCy,052-111-0003,not-mail,,\n,052-111-0004,,,\n');
      const rejectsFile = join(dir, 'rejects.csv');
      const r = await cli(h, ['import', csvFile, '--project', '30', '--repository', '3007', '--rejects', rejectsFile]);
      assert.equal(r.code, 1, r.stderr);
      const summary = JSON.parse(r.stdout);
      // No progress bar when stderr is not a terminal: only the one-line summary for people.
      assert.equal(r.stderr, `import ${summary.import_id}: 2 created, 0 updated, 0 skipped, 2 rejected; rejected rows in ${rejectsFile}; read as utf-8\n`);
      assert.deepEqual([summary.created, summary.updated, summary.skipped, summary.error_count], [2, 0, 0, 2]);
      assert.equal(
        readFileSync(rejectsFile, 'utf8'),
        '\uFEFFfirst_name,mobile,email,plan,status_id,line,error\r\nCy,052-111-0003,not-mail,,,5,invalid fields: email (not a valid email address)\r\n,052-111-0004,,,,6,invalid fields: first_name (first_name is required)\r\n',
      );
      assert.deepEqual(summary.errors.map((e: { line: number }) => e.line), [5, 6]);
      assert.match(summary.errors[1].message, /first_name is required/);

      // The wizard's choices on the command line: --delimiter, --date-order and --columns (a remap).
      const remapFile = join(dir, 'remap.txt');
      writeFileSync(remapFile, 'first_name;Mobile number\nZed;052-111-0009\n');
      const remapped = await cli(h, ['import', remapFile, '--format', 'csv', '--project', '30', '--repository', '3007', '--delimiter', 'semicolon', '--date-order', 'MDY', '--columns', '{"Mobile number":"mobile"}']);
      assert.equal(remapped.code, 0, remapped.stderr);
      assert.equal(JSON.parse(remapped.stdout).created, 1);
      const zed = await h.app.inject({ method: 'GET', url: `/admin/v1/projects/30/customers?phone=${encodeURIComponent('052-111-0009')}`, headers: adminHeaders });
      assert.equal(zed.json().items[0].fields.first_name, 'Zed');
      const badColumns = await cli(h, ['import', remapFile, '--format', 'csv', '--project', '30', '--repository', '3007', '--columns', '["mobile"]']);
      assert.equal(badColumns.code, 2);
      assertOneLineError(badColumns, /--columns.*JSON object/);

      const ndFile = join(dir, 'more.ndjson');
      writeFileSync(ndFile, '{"first_name":"Ada Lovelace","mobile":"+972521110001"}\n{"first_name":"Dov","mobile":"052-111-0005"}\n');
      const update = await cli(h, ['import', ndFile, '--project', '30', '--repository', '3007', '--on-duplicate', 'update']);
      assert.equal(update.code, 0, update.stderr);
      const updated = JSON.parse(update.stdout);
      assert.deepEqual(updated, { import_id: updated.import_id, created: 1, updated: 1, skipped: 0, errors: [], error_count: 0, encoding: 'utf-8', ignored_columns: [] });

      const toStdout = await cli(h, ['export', '--project', '30', '--repository', '3007']);
      assert.equal(toStdout.code, 0, toStdout.stderr);
      const viaApi = await h.app.inject({ method: 'GET', url: '/admin/v1/projects/30/export?repository_id=3007', headers: adminHeaders });
      assert.equal(toStdout.stdout, viaApi.body);
      assert.match(toStdout.stdout, /^id,repository_assign_id,status_id,first_name,mobile,email,plan\n/);
      assert.match(toStdout.stdout, /,3010,Ada Lovelace,\+972521110001,ada@cli\.test,gold\n/);
      assert.match(toStdout.stdout, /"Ben\nBenson"/);
      const outFile = join(dir, 'out.csv');
      const toFile = await cli(h, ['export', '--project', '30', '--repository', '3007', '--out', outFile]);
      assert.equal(toFile.code, 0, toFile.stderr);
      assert.equal(toFile.stdout, '');
      assert.equal(readFileSync(outFile, 'utf8'), viaApi.body);
      const foreign = await cli(h, ['export', '--project', '30', '--repository', '999']);
      assert.equal(foreign.code, 1);
      assertOneLineError(foreign, /repository_id 999 does not exist/);

      const version = await cli(h, ['--version']);
      assert.equal(version.stdout, `${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
      const help = await cli(h, ['import', '--help']);
      assert.match(help.stdout, /--project <id>\s+project id \(required\)/);
    });

    test('demo loads the seed-like project idempotently, and the seed example requests answer real data', async () => {
      const first = await cli(h, ['demo']);
      assert.equal(first.code, 0, first.stderr);
      assert.ok(JSON.parse(first.stdout).created > 300);
      const exportBefore = await h.app.inject({ method: 'GET', url: '/admin/v1/projects/10/export?repository_id=7', headers: adminHeaders });
      const second = await cli(h, ['demo']);
      assert.equal(second.code, 0, second.stderr);
      assert.deepEqual(JSON.parse(second.stdout), { project_id: 10, created: 0 });
      const exportAfter = await h.app.inject({ method: 'GET', url: '/admin/v1/projects/10/export?repository_id=7', headers: adminHeaders });
      assert.equal(exportAfter.body, exportBefore.body, 'a second run changes nothing');
      assert.ok(exportAfter.body.trim().split('\n').length > 200);

      const byPhone = await tel(h.app, 'get_data', { authkey: KEYS.get_data, did: '07333333333', phone: '0500000000', project_id: 10, out: 'first_name,last_status,repository_name' });
      assert.equal(byPhone.code, 0);
      assert.deepEqual(byPhone.message, [
        { uid: '123', first_name: 'John', last_status: null, repository_name: 'Leads' },
        { uid: '123', first_name: 'John', last_status: null, repository_name: 'VIP' },
      ]);
      const byAssign = await tel(h.app, 'get_data', { authkey: KEYS.get_data, repository_assign_id: 2190811, out: 'uid,repository_name,customer_name' });
      assert.deepEqual(byAssign.message, [{ uid: '123', repository_name: 'Leads', customer_name: null }]);
      const setData = await tel(h.app, 'set_data', { authkey: KEYS.set_data, repository_assign_id: 555, first_name: 'Jane', email: 'jane@example.com' });
      assert.equal(setData.code, 0, JSON.stringify(setData));
      const setStatus = await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 555, status_id: 10 });
      assert.deepEqual([setStatus.code, setStatus.message], [0, 'Status set successfully']);

      // Loaded again after those changes: they stay.
      assert.equal(JSON.parse((await cli(h, ['demo'])).stdout).created, 0);
      const john = await admin(h.app, 'GET', '/customers/123');
      assert.equal(john.fields.first_name, 'Jane');
    });

    test('migrate reports nothing to apply on an up-to-date database', async () => {
      const r = await cli(h, ['migrate']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { applied: [] });
    });

    test('serve starts the server on the database and stops cleanly on SIGTERM', async () => {
      const port = await freePort();
      const child = spawn(process.execPath, [BIN, 'serve'], { env: { ...process.env, DATABASE_URL: databaseUrl(h), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', CRM_WORKERS: '1' }, stdio: 'pipe' });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      try {
        let ready: { status: string; database: string } | undefined;
        for (let i = 0; i < 300 && !ready; i++) {
          try {
            const res = await fetch(`http://127.0.0.1:${port}/readyz`);
            if (res.ok) ready = (await res.json()) as { status: string; database: string };
          } catch {
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        assert.deepEqual(ready, { status: 'ok', database: dialect }, stderr);
        const projects = await fetch(`http://127.0.0.1:${port}/api/get_data.php?authkey=${KEYS.get_data}&repository_assign_id=2190811&out=first_name`);
        assert.equal(((await projects.json()) as { code: number }).code, 0);
      } finally {
        child.kill('SIGTERM');
      }
      assert.equal(await exited, 0, stderr);
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
