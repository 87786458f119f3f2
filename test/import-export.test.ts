// Import (CSV and NDJSON, streamed) and export of a repository's customers through the admin API.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { admin, adminHeaders, importBody, dialects, seedProject, setup, tel, KEYS, SEED_FIELDS, type Harness } from './helpers.ts';
import { importCustomers } from '../src/crm/import.ts';

type Summary = { created: number; updated: number; skipped: number; errors: { line: number; message: string }[]; error_count: number };

async function importOk(app: FastifyInstance, body: string, q: Parameters<typeof importBody>[2]): Promise<Summary> {
  const res = await importBody(app, body, q);
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as Summary;
}

async function exportCsv(app: FastifyInstance, repository: number, project = 10): Promise<string> {
  const res = await app.inject({ method: 'GET', url: `/admin/v1/projects/${project}/export?repository_id=${repository}`, headers: adminHeaders });
  assert.equal(res.statusCode, 200, res.body);
  assert.match(String(res.headers['content-type']), /^text\/csv/);
  return res.body;
}

async function newRepository(app: FastifyInstance, name: string, project = 10): Promise<number> {
  return (await admin(app, 'POST', `/projects/${project}/repositories`, { name })).id;
}

/** The customer of project 10 holding this phone, with its fields (through get_data, the way IVRs see it). */
async function byPhone(app: FastifyInstance, phone: string, out = 'first_name,last_name,email,city,repository_assign_id,last_status_id,repository_id') {
  const r = await tel(app, 'get_data', { authkey: KEYS.get_data, did: '07333333333', phone, project_id: 10, out });
  assert.equal(r.code, 0, JSON.stringify(r));
  return r.message as Record<string, string | null>[];
}

/** Project 10 as seedProject makes it, without customers: the target of a round trip. */
async function emptySeedLikeProject(app: FastifyInstance) {
  await admin(app, 'POST', '/projects', { id: 10, name: 'Project 10' });
  for (const f of SEED_FIELDS) {
    await admin(app, 'POST', '/projects/10/fields', f);
  }
  await admin(app, 'POST', '/projects/10/statuses', { id: 10, name: 'Interested' });
  await admin(app, 'POST', '/projects/10/statuses', { id: 2, name: 'Call back' });
  await admin(app, 'POST', '/projects/10/repositories', { id: 7, name: 'Leads' });
}

for (const dialect of dialects()) {
  describe(`import and export (${dialect})`, () => {
    let h: Harness;
    let app: FastifyInstance;
    before(async () => {
      h = await setup(dialect);
      app = h.app;
      await seedProject(app);
      await seedProject(app, 20, 1000);
    });
    after(() => h.close());

    test('a CSV import creates good rows, reports bad ones by their own line (a quoted cell over two lines included) and goes on', async () => {
      const repo = await newRepository(app, 'CSV lines');
      const csv = [
        'first_name,last_name,mobile,email,age,plan', // 1
        'Ann,Lee,052-100-0001,ann@csv.test,30,gold', // 2
        'Bob,"Multi', // 3
        'line",052-100-0002,bob@csv.test,,', // 4
        'Cid,Bad,052-100-0003,not-an-email,,', // 5
        '', // 6 (blank)
        'Dee,,052-100-0004,,forty,', // 7
        'Eve,,052-100-0005,,,platinum', // 8
        'Fay,"Quote ""inside""",052-100-0006,fay@csv.test,,basic', // 9
        'Gus,,052-100-0007', // 10: too few cells
      ].join('\n');
      const s = await importOk(app, csv, { repository: repo });
      assert.deepEqual(s.errors.map((e) => e.line), [5, 7, 8, 10]);
      assert.match(s.errors[0]!.message, /email/);
      assert.match(s.errors[1]!.message, /age/);
      assert.match(s.errors[2]!.message, /plan/);
      assert.match(s.errors[3]!.message, /3 cells, the header has 6/);
      assert.deepEqual({ created: s.created, updated: s.updated, skipped: s.skipped, error_count: s.error_count }, { created: 3, updated: 0, skipped: 0, error_count: 4 });

      const [bob] = await byPhone(app, '0521000002');
      assert.equal(bob!.last_name, 'Multi\nline');
      assert.equal(bob!.repository_id, String(repo));
      assert.equal((await byPhone(app, '0521000006'))[0]!.last_name, 'Quote "inside"');
      assert.deepEqual(await byPhone(app, '0521000003'), [], 'a bad row creates nothing');
    });

    test('CRLF line ends and a CRLF inside a quoted cell keep line numbers right', async () => {
      const repo = await newRepository(app, 'CRLF');
      const csv = ['first_name,last_name,mobile,email', 'Hal,"two\r\nlines",052-200-0001,', 'Ian,"three\r\nmore\r\nlines",052-200-0002,', 'Jon,,052-200-0003,bad', 'Kim,,052-200-0004,'].join('\r\n') + '\r\n';
      const s = await importOk(app, csv, { repository: repo });
      assert.deepEqual(s.errors.map((e) => e.line), [7]);
      assert.equal(s.created, 3);
      assert.equal((await byPhone(app, '0522000002'))[0]!.last_name, 'three\r\nmore\r\nlines');
    });

    test('an NDJSON import counts every line, blank ones too, and reports bad lines', async () => {
      const repo = await newRepository(app, 'NDJSON lines');
      const nd = [
        '{"first_name":"Lia","mobile":"052-300-0001","age":41}', // 1
        '', // 2
        '{"first_name":"Max","mobile":"052-300-0002","email":"nope"}', // 3
        'not json', // 4
        '[1,2]', // 5
        '{"first_name":"Ned","shoe_size":"44"}', // 6
        '{"first_name":"Oz","mobile":"052-300-0003","city":null,"last_name":""}', // 7
        '{"first_name":{"x":1}}', // 8
      ].join('\n');
      const s = await importOk(app, nd, { repository: repo, type: 'application/x-ndjson' });
      assert.deepEqual(s.errors.map((e) => e.line), [3, 4, 5, 6, 8]);
      assert.match(s.errors.find((e) => e.line === 6)!.message, /shoe_size \(unknown field\)/);
      assert.equal(s.created, 2);
      const [lia] = await byPhone(app, '0523000001', 'first_name,age');
      assert.equal(lia!.age, '41');
      const [oz] = await byPhone(app, '0523000003', 'first_name,city,last_name');
      assert.deepEqual([oz!.city, oz!.last_name], [null, null], 'null and "" are no value');
    });

    test('a CSV header with an unknown column is an error on line 1 and nothing is imported', async () => {
      const repo = await newRepository(app, 'Bad header');
      const s = await importOk(app, 'first_name,emial\nPia,pia@x.test\n', { repository: repo });
      assert.equal(s.created, 0);
      assert.equal(s.errors.length, 1);
      assert.equal(s.errors[0]!.line, 1);
      assert.match(s.errors[0]!.message, /unknown column emial/);
    });

    test('a quote that is never closed stops the file at its line; the rows before it are imported', async () => {
      const repo = await newRepository(app, 'Unclosed');
      const s = await importOk(app, 'first_name,mobile\nAmy,052-910-0001\n"Ben,052-910-0002\nCat,052-910-0003\n', { repository: repo });
      assert.equal(s.created, 1);
      assert.deepEqual(s.errors.map((e) => e.line), [3]);
      assert.match(s.errors[0]!.message, /never closed; the rest of the file was not read/);
    });

    test('on_duplicate=skip skips a row whose phone (spelled differently), unique email or id is a customer already, also within the file', async () => {
      const repo = await newRepository(app, 'Skip');
      const csv = [
        'id,first_name,mobile,email',
        ',Johnny,+972 50-000-0000,', // John Doe's mobile, another spelling
        ',Jack,,JOHN@mail.com', // John's email, another case
        '123,Jay,,', // John's id
        ',Quinn,052-400-0001,quinn@x.test', // new
        ',Quinn again,0524000001,', // duplicate of the row above, same file
      ].join('\n');
      const s = await importOk(app, csv, { repository: repo });
      assert.deepEqual({ created: s.created, updated: s.updated, skipped: s.skipped, errors: s.errors }, { created: 1, updated: 0, skipped: 4, errors: [] });
      const john = await admin(app, 'GET', '/customers/123');
      assert.equal(john.fields.first_name, 'John', 'skip changes nothing');
      assert.ok(!john.assigns.some((a: { repository_id: number }) => a.repository_id === repo), 'skip does not put the customer in the repository');
    });

    test('on_duplicate=update updates the matched customer with history source import and puts it in the repository', async () => {
      const repo = await newRepository(app, 'Update');
      await importOk(app, 'first_name,last_name,mobile,city\nRay,Old,052-500-0001,Haifa\n', { repository: 7 });
      const csv = ['first_name,last_name,mobile,city,status_id', 'Ray,New,0525000001,,10'].join('\n');
      const s = await importOk(app, csv, { repository: repo, onDuplicate: 'update' });
      assert.deepEqual({ created: s.created, updated: s.updated, skipped: s.skipped, errors: s.errors }, { created: 0, updated: 1, skipped: 0, errors: [] });
      const rows = await byPhone(app, '0525000001', 'uid,last_name,city,repository_id,last_status_id,repository_assign_id');
      assert.equal(rows.length, 2, 'one customer, now in both repositories');
      assert.ok(rows.every((r) => r.last_name === 'New' && r.city === 'Haifa'), 'a blank cell leaves the field as it was');
      const inRepo = rows.find((r) => r.repository_id === String(repo))!;
      assert.equal(inRepo.last_status_id, '10');
      const history = await admin(app, 'GET', `/assigns/${inRepo.repository_assign_id}/history`);
      const change = history.items.find((i: { kind: string; field?: string }) => i.kind === 'field' && i.field === 'last_name');
      assert.deepEqual([change.old_value, change.new_value, change.source], ['Old', 'New', 'import']);

      // Again, into the repository it is now in: the status changes with history, the assign stays.
      const again = await importOk(app, 'mobile,status_id\n0525000001,2\n', { repository: repo, onDuplicate: 'update' });
      assert.equal(again.updated, 1);
      const after = (await byPhone(app, '0525000001', 'repository_id,last_status_id,repository_assign_id')).find((r) => r.repository_id === String(repo))!;
      assert.deepEqual([after.last_status_id, after.repository_assign_id], ['2', inRepo.repository_assign_id]);
      const h2 = await admin(app, 'GET', `/assigns/${inRepo.repository_assign_id}/history`);
      assert.ok(h2.items.some((i: { kind: string; new_status_id?: number; source: string }) => i.kind === 'status' && i.new_status_id === 2 && i.source === 'import'));
    });

    test('update refuses a row matching two customers, and a row whose unique value belongs to another customer', async () => {
      const repo = await newRepository(app, 'Ambiguous');
      await importOk(app, 'first_name,mobile,email\nSam,052-600-0001,sam@x.test\nTia,052-600-0002,tia@x.test\n', { repository: repo });
      const csv = ['first_name,mobile,email', 'Both,052-600-0001,tia@x.test'].join('\n');
      const s = await importOk(app, csv, { repository: repo, onDuplicate: 'update' });
      assert.equal(s.updated, 0);
      assert.match(s.errors[0]!.message, /matches several customers/);
      const sam = (await byPhone(app, '0526000001', 'uid'))[0]!.uid;
      const s2 = await importOk(app, `id,first_name,email\n${sam},Sam,tia@x.test\n`, { repository: repo, onDuplicate: 'update' });
      assert.match(s2.errors[0]!.message, /belongs to customer/);
      assert.equal((await byPhone(app, '0526000001', 'email'))[0]!.email, 'sam@x.test');
    });

    test('id, repository_assign_id and status_id columns keep ids and set the status; wrong ones are row errors', async () => {
      const repo = await newRepository(app, 'Ids');
      const csv = [
        'id,repository_assign_id,status_id,first_name,mobile',
        '7001,8001,10,Uma,052-700-0001', // 2: kept ids, status Interested
        '7002,,0,Vic,052-700-0002', // 3: no assign id, status 0 = none
        '7003,,99999,Wes,052-700-0003', // 4: unknown status
        '7004,,1010,Xan,052-700-0004', // 5: a status of project 20
        '1123,,,Yul,052-700-0005', // 6: customer id of project 20
        '7006,2190811,,Zed,052-700-0006', // 7: assign id taken (John's)
        '7007,1555,,Abe,052-700-0007', // 8: assign id of project 20
        'x,,,Bea,052-700-0008', // 9: not an id
      ].join('\n');
      const s = await importOk(app, csv, { repository: repo });
      assert.equal(s.created, 2);
      assert.deepEqual(s.errors.map((e) => e.line), [4, 5, 6, 7, 8, 9]);
      assert.match(s.errors[0]!.message, /status_id 99999 is not a status of project 10/);
      assert.match(s.errors[1]!.message, /status_id 1010/);
      assert.match(s.errors[2]!.message, /id 1123 belongs to another project/);
      assert.match(s.errors[3]!.message, /repository_assign_id 2190811 already exists/);
      assert.match(s.errors[4]!.message, /repository_assign_id 1555 belongs to another project/);
      const uma = await admin(app, 'GET', '/assigns/8001');
      assert.deepEqual([uma.customer.id, uma.repository_id, uma.status_id], [7001, repo, 10]);
      const [vic] = await byPhone(app, '0527000002', 'uid,last_status_id');
      assert.deepEqual([vic!.uid, vic!.last_status_id], ['7002', null]);
      // A generated id after a kept one does not collide with it.
      const next = await importOk(app, 'first_name,mobile\nCal,052-700-0009\n', { repository: repo });
      assert.equal(next.created, 1);
    });

    test('rows that repeat a customer created earlier in the same import update it when on_duplicate=update, across batch boundaries too', async () => {
      const repo = await newRepository(app, 'Batches');
      const lines = ['first_name,last_name,mobile,email,status_id'];
      for (let i = 0; i < 5; i++) lines.push(`P${i},First,052-800-000${i},p${i}@batch.test,`);
      for (let i = 0; i < 5; i++) lines.push(`P${i},Second,052-800-000${i},,${i % 2 === 0 ? 10 : 2}`);
      const s = await importCustomers(h.db, Readable.from([lines.join('\n')]), { projectId: 10, repositoryId: repo, format: 'csv', onDuplicate: 'update', country: 'IL', batchSize: 3 });
      assert.deepEqual({ created: s.created, updated: s.updated, skipped: s.skipped, errors: s.errors }, { created: 5, updated: 5, skipped: 0, errors: [] });
      for (let i = 0; i < 5; i++) {
        const rows = await byPhone(app, `052800000${i}`, 'last_name,email,last_status_id');
        assert.deepEqual(rows, [{ uid: rows[0]!.uid, last_name: 'Second', email: `p${i}@batch.test`, last_status_id: i % 2 === 0 ? '10' : '2' }]);
      }
    });

    test('the error list is capped at 1000 and error_count counts them all', async () => {
      const repo = await newRepository(app, 'Many errors');
      const body = ['first_name,email', ...Array.from({ length: 1200 }, (_, i) => `E${i},bad-${i}`)].join('\n');
      const s = await importOk(app, body, { repository: repo });
      assert.equal(s.errors.length, 1000);
      assert.equal(s.error_count, 1200);
      assert.equal(s.errors[999]!.line, 1001);
    });

    test('export streams the import format, and the file imports back unchanged into a fresh database', async () => {
      const repo = 7;
      const csv = [
        'id,repository_assign_id,status_id,first_name,last_name,mobile,home,email,city,age,birthday,plan',
        '9001,9101,2,"Dan, Jr.","O""Neil",+972 52-900-0001,03-900-0001,dan@rt.test,"Tel Aviv\nnorth",12.5,1990-02-28,gold',
        '9002,9102,,נועה,כהן,052-900-0002,,,,,,',
        ',,10,Gen,Erated,052-900-0003,,,,-3,,basic',
      ].join('\n');
      assert.deepEqual((await importOk(app, csv, { repository: repo })).errors, []);
      const first = await exportCsv(app, repo);
      const lines = first.split('\n');
      assert.equal(lines[0], 'id,repository_assign_id,status_id,first_name,last_name,mobile,home,email,city,age,birthday,plan');
      assert.ok(lines.includes('123,2190811,,John,Doe,050-000-0000,,john@mail.com,,,,'));
      assert.ok(first.includes('9001,9101,2,"Dan, Jr.","O""Neil",\'+972 52-900-0001,03-900-0001,dan@rt.test,"Tel Aviv\nnorth",12.5,1990-02-28,gold\n'));

      const fresh = await setup(dialect);
      try {
        await emptySeedLikeProject(fresh.app);
        const s = await importOk(fresh.app, first, { repository: 7 });
        assert.deepEqual(s.errors, []);
        assert.equal(await exportCsv(fresh.app, 7), first);
      } finally {
        await fresh.close();
      }
      // Imported again where it came from: every row is a duplicate; update changes nothing.
      const again = await importOk(app, first, { repository: repo, onDuplicate: 'update' });
      assert.equal(again.created, 0);
      assert.equal(again.errors.length, 0);
      assert.equal(await exportCsv(app, repo), first);
      const history = await admin(app, 'GET', '/assigns/9101/history');
      assert.ok(!history.items.some((i: { source: string }) => i.source === 'import'), 'equal values are not changes');
    });

    test('export reads in pages: every assign once, in id order', async () => {
      const repo = await newRepository(app, 'Pages');
      const body = ['first_name,mobile', ...Array.from({ length: 2500 }, (_, i) => `R${i},053${String(i).padStart(7, '0')}`)].join('\n');
      assert.equal((await importOk(app, body, { repository: repo })).created, 2500);
      const lines = (await exportCsv(app, repo)).trimEnd().split('\n').slice(1);
      assert.equal(lines.length, 2500);
      const assignIds = lines.map((l) => Number(l.split(',')[1]));
      assert.deepEqual(assignIds, [...assignIds].sort((a, b) => a - b));
      assert.equal(new Set(assignIds).size, 2500);
      assert.deepEqual(lines.map((l) => l.split(',')[3]), Array.from({ length: 2500 }, (_, i) => `R${i}`));
    });

    test('the import body is streamed from a Readable', async () => {
      const repo = await newRepository(app, 'Stream');
      const body = Readable.from(
        (function* () {
          yield 'first_name,mobile\n';
          for (let i = 0; i < 300; i++) yield `S${i},054${String(i).padStart(7, '0')}\n`;
        })(),
      );
      const s = await importOk(app, body as unknown as string, { repository: repo });
      assert.equal(s.created, 300);
    });

    test('bad requests: unknown project 404, missing or foreign repository 400/422, other content types 415, no token 401', async () => {
      assert.equal((await importBody(app, 'first_name\nA\n', { project: 999, repository: 7 })).statusCode, 404);
      assert.equal((await importBody(app, 'first_name\nA\n', { repository: 99999 })).statusCode, 422);
      assert.equal((await importBody(app, 'first_name\nA\n', { repository: 1007 })).statusCode, 422, "project 20's repository");
      const missing = await app.inject({ method: 'POST', url: '/admin/v1/projects/10/import', headers: { ...adminHeaders, 'content-type': 'text/csv' }, payload: 'first_name\nA\n' });
      assert.equal(missing.statusCode, 400);
      assert.equal((await importBody(app, 'first_name\nA\n', { repository: 7, type: 'application/octet-stream' })).statusCode, 415);
      assert.equal((await importBody(app, '{"first_name":"A"}', { repository: 7, type: 'application/json' })).statusCode, 415);
      const noToken = await app.inject({ method: 'POST', url: '/admin/v1/projects/10/import?repository_id=7', headers: { 'content-type': 'text/csv' }, payload: 'first_name\nA\n' });
      assert.equal(noToken.statusCode, 401);
      const exp = await app.inject({ method: 'GET', url: '/admin/v1/projects/10/export?repository_id=1007', headers: adminHeaders });
      assert.equal(exp.statusCode, 422);
      assert.equal(exp.json().error.code, 'unprocessable');
      assert.equal((await app.inject({ method: 'GET', url: '/admin/v1/projects/999/export?repository_id=7', headers: adminHeaders })).statusCode, 404);
    });
  });

  describe(`import beside another writer (${dialect})`, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect);
      await seedProject(h.app);
    });
    after(() => h.close());

    // SQLite serializes writers (group commit in-process, BEGIN IMMEDIATE across processes), so the race
    // exists on PostgreSQL only: there the unique constraint has the last word, and the batch is retried.
    test('a unique value another transaction commits between the checks and the writes of a batch makes that row a duplicate', { skip: dialect !== 'postgres' && 'PostgreSQL only' }, async () => {
      const other = new pg.Client({ connectionString: h.databaseUrl });
      await other.connect();
      try {
        await other.query(`set search_path to ${h.pgSchema}`);
        const otherPid = (await other.query('select pg_backend_pid() as pid')).rows[0].pid as number;
        const emailField = (await other.query(`select id from fields where project_id = 10 and display_name = 'email'`)).rows[0].id as number;
        await other.query('begin');
        await other.query(`insert into customers (id, project_id, data, created_at, updated_at) values (99000001, 10, '{"email":"race@x.test"}', 0, 0)`);
        await other.query(`insert into customer_uniques (project_id, field_id, value, customer_id) values (10, $1, 'race@x.test', 99000001)`, [emailField]);

        const importing = importOk(h.app, 'first_name,email\nRae,race@x.test\nSol,sol@x.test\n', { repository: 7 });
        // The import has read (no owner yet) and now waits on the other transaction's uncommitted key.
        const watcher = new pg.Client({ connectionString: h.databaseUrl });
        await watcher.connect();
        try {
          for (let i = 0; ; i++) {
            const { rows } = await watcher.query('select count(*)::int as n from pg_stat_activity where $1 = any(pg_blocking_pids(pid))', [otherPid]);
            if (rows[0].n > 0) break;
            assert.ok(i < 500, 'the import never waited on the other transaction');
            await new Promise((r) => setTimeout(r, 20));
          }
        } finally {
          await watcher.end();
        }
        await other.query('commit');
        const s = await importing;
        assert.deepEqual({ created: s.created, skipped: s.skipped, errors: s.errors }, { created: 1, skipped: 1, errors: [] });
        const owner = await h.db.q.selectFrom('customer_uniques').select('customer_id').where('value', '=', 'race@x.test').execute();
        assert.deepEqual(owner, [{ customer_id: 99000001 }]);
      } finally {
        await other.end();
      }
    });
  });

  describe(`import body limit (${dialect})`, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect, { CRM_IMPORT_LIMIT: '2048', CRM_BODY_LIMIT: '1024' });
      await seedProject(h.app);
    });
    after(() => h.close());

    test('an import over CRM_IMPORT_LIMIT is a 413, declared or streamed; one under it may exceed the normal body limit', async () => {
      const rows = (n: number) => ['first_name,mobile', ...Array.from({ length: n }, (_, i) => `L${i},055${String(i).padStart(7, '0')}`)].join('\n');
      const ok = await importBody(h.app, rows(60), { repository: 7 }); // ~1.2 KB: over CRM_BODY_LIMIT, under the import limit
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(ok.json().created, 60);
      const declared = await importBody(h.app, rows(200), { repository: 7 });
      assert.equal(declared.statusCode, 413);
      assert.equal(declared.json().error.code, 'body_too_large');
      const streamed = await importBody(h.app, Readable.from([rows(100), '\n', rows(100)]) as unknown as string, { repository: 7 });
      assert.equal(streamed.statusCode, 413);
    });
  });
}
