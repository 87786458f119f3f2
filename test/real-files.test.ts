// The files a call center really has (issue 11, admin-api.md "Real files in and out"): Hebrew Excel CSV in
// windows-1255 with CRLF, UTF-8 with BOM, UTF-16 tab-separated, .xlsx with dates and numeric phones, DMY
// dates, Hebrew headers, formula cells, 5,000+ rows; imports as objects (summary, rejects, undo).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import type { FastifyInstance } from 'fastify';
import { admin, adminHeaders, dialects, setup, tel, KEYS, type Harness } from './helpers.ts';
import { cp1255 } from './cp1255.ts';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const P = 30;
const REPO = 31;

function utf16le(text: string): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
}

type Summary = { import_id: number; created: number; updated: number; skipped: number; errors: { line: number; message: string }[]; error_count: number; encoding: string | null; ignored_columns: string[] };

async function importRaw(app: FastifyInstance, body: Buffer | string, type: string, query: Record<string, string | number> = {}, project = P) {
  const qs = new URLSearchParams(Object.entries({ repository_id: REPO, ...query }).map(([k, v]) => [k, String(v)]));
  return app.inject({ method: 'POST', url: `/admin/v1/projects/${project}/import?${qs}`, headers: { ...adminHeaders, 'content-type': type }, payload: body });
}

async function importOk(app: FastifyInstance, body: Buffer | string, type: string, query: Record<string, string | number> = {}, project = P): Promise<Summary> {
  const res = await importRaw(app, body, type, query, project);
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as Summary;
}

async function get(app: FastifyInstance, url: string) {
  const res = await app.inject({ method: 'GET', url: `/admin/v1${url}`, headers: adminHeaders });
  assert.equal(res.statusCode, 200, res.body);
  return res;
}

async function customerByPhone(app: FastifyInstance, phone: string, project = P) {
  const list = (await get(app, `/projects/${project}/customers?phone=${encodeURIComponent(phone)}`)).json() as { items: { id: number; fields: Record<string, string> }[] };
  assert.equal(list.items.length, 1, `one customer with ${phone}: ${JSON.stringify(list.items)}`);
  return list.items[0]!;
}

/** A project whose fields carry Hebrew labels, as a call center sets them up. */
async function hebrewProject(app: FastifyInstance, project = P, repo = REPO) {
  await admin(app, 'POST', '/projects', { id: project, name: `Hebrew ${project}` });
  await admin(app, 'POST', `/projects/${project}/fields`, { display_name: 'first_name', label: 'שם פרטי' });
  await admin(app, 'POST', `/projects/${project}/fields`, { display_name: 'last_name', label: 'שם משפחה' });
  await admin(app, 'POST', `/projects/${project}/fields`, { display_name: 'mobile', label: 'טלפון נייד', type: 'phone' });
  await admin(app, 'POST', `/projects/${project}/fields`, { display_name: 'birthday', label: 'תאריך לידה', type: 'date' });
  await admin(app, 'POST', `/projects/${project}/fields`, { display_name: 'city', label: 'City' });
  // Our telephony extension's name is a form field like any other.
  await admin(app, 'POST', `/projects/${project}/fields`, { display_name: 'notes', label: 'הערות' });
  await admin(app, 'POST', `/projects/${project}/statuses`, { id: project * 10, name: 'Interested' });
  await admin(app, 'POST', `/projects/${project}/repositories`, { id: repo, name: 'Leads' });
}

const FIRST = ['דנה', 'יוסי', 'מיכל', 'אבי', 'נועה'];

for (const dialect of dialects()) {
  describe(`real call-center files (${dialect})`, () => {
    let h: Harness;
    let app: FastifyInstance;
    before(async () => {
      h = await setup(dialect);
      app = h.app;
      await hebrewProject(app);
    });
    after(() => h.close());

    test('a 5,200-row Hebrew Excel CSV in windows-1255 with CRLF, Hebrew headers, DMY dates and Excel phones imports; rejects are kept and retrievable', async () => {
      const lines = ['שם פרטי,שם משפחה,טלפון נייד,תאריך לידה,הערות'];
      const bad = new Map<number, string>();
      for (let i = 0; i < 5200; i++) {
        const nsn = `52${String(i).padStart(7, '0')}`; // 9 digits: 52xxxxxxx
        const phone = [`'0${nsn}`, nsn, `${nsn}.0`, `0${nsn.slice(0, 2)}-${nsn.slice(2, 5)}-${nsn.slice(5)}`][i % 4]!;
        const day = (i % 28) + 1;
        const date = i % 2 === 0 ? `${String(day).padStart(2, '0')}/03/1985` : `${day}.3.85`;
        lines.push(`${FIRST[i % 5]},כהן ${i},${phone},${date},לקוח ותיק`);
      }
      // Bad rows, each naming what is wrong: scientific notation, an impossible date, an ambiguous year.
      lines[1001] = 'שגיא,לוי,5.01234E+08,01/01/1990,';
      bad.set(1002, 'scientific notation');
      lines[2001] = 'שגיא,לוי,0529999001,31/02/1990,';
      bad.set(2002, '"31/02/1990" is not a real date');
      lines[3001] = 'שגיא,לוי,0529999002,1/2/123,';
      bad.set(3002, 'ambiguous');
      const body = Buffer.concat([cp1255(lines.slice(0, 4001).join('\r\n') + '\r\n'), Buffer.from([0x41, 0xff, 0x2c]), cp1255(lines[4001]!.split(',').slice(1).join(',') + '\r\n'), cp1255(lines.slice(4002).join('\r\n') + '\r\n')]);
      bad.set(4002, 'not valid windows-1255');

      const s = await importOk(app, body, 'text/csv');
      assert.equal(s.encoding, 'windows-1255');
      assert.equal(s.error_count, 4, JSON.stringify(s.errors));
      assert.equal(s.created, 5200 - 4);
      assert.deepEqual(s.errors.map((e) => e.line), [...bad.keys()]);
      for (const e of s.errors) assert.ok(e.message.includes(bad.get(e.line)!), `line ${e.line}: ${e.message}`);

      // Hebrew stored as Hebrew, dates as YYYY-MM-DD, phones cleaned: apostrophe, .0 and the dropped 0.
      for (const i of [0, 1, 2, 3]) {
        const nsn = `52${String(i).padStart(7, '0')}`;
        const c = await customerByPhone(app, `0${nsn}`);
        assert.equal(c.fields.first_name, FIRST[i % 5]);
        assert.equal(c.fields.last_name, `כהן ${i}`);
        assert.equal(c.fields.notes, 'לקוח ותיק');
        assert.equal(c.fields.birthday, `1985-03-0${i + 1}`);
        assert.equal(c.fields.mobile, i === 3 ? `0${nsn.slice(0, 2)}-${nsn.slice(2, 5)}-${nsn.slice(5)}` : `0${nsn}`);
      }

      const summary = (await get(app, `/imports/${s.import_id}`)).json();
      assert.equal(summary.status, 'done');
      assert.equal(summary.who, 'admin');
      assert.equal(summary.created, 5196);
      assert.equal(summary.error_count, 4);
      assert.equal(summary.encoding, 'windows-1255');
      assert.equal(summary.format, 'csv');

      const rejects = await get(app, `/imports/${s.import_id}/rejects`);
      assert.match(String(rejects.headers['content-type']), /^text\/csv/);
      assert.ok(rejects.body.startsWith('\uFEFF'));
      const rows = parse(rejects.body, { bom: true, columns: true, relax_column_count: true }) as Record<string, string>[];
      assert.equal(rows.length, 4);
      assert.deepEqual(rows.map((x) => Number(x.line)), [...bad.keys()]);
      assert.equal(rows[0]!['טלפון נייד'], '5.01234E+08');
      assert.equal(rows[0]!['שם פרטי'], 'שגיא');
      assert.match(rows[1]!.error!, /31\/02\/1990/);
    });

    test('UTF-8 with BOM, semicolons, headers by label or display_name in any case and spacing; an unknown column refuses the file unless unknown_columns=ignore', async () => {
      const csv = '\uFEFF  FIRST_NAME ;שם  משפחה;Mobile;city;Fax\n' + 'רונית;לוי;054-111-0001;חיפה;03-5555555\n' + 'Ron;Levi;054-111-0002;"Tel Aviv; north";\n';
      const refused = await importOk(app, csv, 'text/csv');
      assert.equal(refused.created, 0);
      assert.match(refused.errors[0]!.message, /unknown column Fax/);
      const s = await importOk(app, csv, 'text/csv', { unknown_columns: 'ignore' });
      assert.equal(s.encoding, 'utf-8');
      assert.deepEqual(s.ignored_columns, ['Fax']);
      assert.equal(s.created, 2, JSON.stringify(s.errors));
      const c = await customerByPhone(app, '0541110001');
      assert.deepEqual(c.fields, { first_name: 'רונית', last_name: 'לוי', mobile: '054-111-0001', city: 'חיפה' });
      assert.equal((await customerByPhone(app, '0541110002')).fields.city, 'Tel Aviv; north');
    });

    test("UTF-16 LE with BOM, tab-separated (Excel's Unicode text), and a declared charset on the content type are read right", async () => {
      const tsv = 'שם פרטי\tשם משפחה\tטלפון נייד\tתאריך לידה\r\nשירה\tאלון\t0541120001\t29/02/2024\r\n';
      const s = await importOk(app, utf16le(tsv), 'text/tab-separated-values');
      assert.equal(s.encoding, 'utf-16le');
      assert.equal(s.created, 1, JSON.stringify(s.errors));
      assert.deepEqual((await customerByPhone(app, '0541120001')).fields, { first_name: 'שירה', last_name: 'אלון', mobile: '0541120001', birthday: '2024-02-29' });

      // ISO-8859-8 declared: the same Hebrew letters at the same bytes as windows-1255.
      const declared = await importOk(app, cp1255('first_name,mobile\r\nאורי,0541120002\r\n'), 'text/csv; charset=ISO-8859-8');
      assert.equal(declared.encoding, 'iso-8859-8');
      assert.equal((await customerByPhone(app, '0541120002')).fields.first_name, 'אורי');
      // Declared UTF-8 but the bytes are not: refused by row, never stored as U+FFFD.
      const wrong = await importOk(app, cp1255('first_name,mobile\r\nאורי,0541120003\r\n'), 'text/csv; charset=utf-8');
      assert.equal(wrong.created, 0);
      assert.match(wrong.errors[0]!.message, /not valid utf-8/);
      const unknown = await importRaw(app, 'first_name\nA\n', 'text/csv; charset=klingon');
      assert.equal(unknown.statusCode, 415);
    });

    test('an .xlsx (second sheet by name) with Hebrew headers, date cells and numeric phones imports through the same engine', async () => {
      const wb = new ExcelJS.Workbook();
      wb.addWorksheet('notes').addRow(['nothing to import here']);
      const ws = wb.addWorksheet('לקוחות');
      ws.addRow(['שם פרטי', 'טלפון נייד', 'תאריך לידה', 'City']);
      for (let i = 0; i < 300; i++) ws.addRow([`אלה ${i}`, 545000000 + i, new Date(Date.UTC(1990, 0, 1 + i)), i === 7 ? '=HYPERLINK("x")' : 'עכו']);
      ws.addRow(['רע', 5.01234e8 + 0.5, 'not a date', '']);
      const buf = Buffer.from(await wb.xlsx.writeBuffer());

      const s = await importOk(app, buf, XLSX, { sheet: 'לקוחות' });
      assert.equal(s.encoding, 'xlsx');
      assert.equal(s.created, 300, JSON.stringify(s.errors));
      assert.equal(s.error_count, 1);
      assert.equal(s.errors[0]!.line, 302);
      const c = await customerByPhone(app, '0545000005');
      assert.deepEqual(c.fields, { first_name: 'אלה 5', mobile: '0545000005', birthday: '1990-01-06', city: 'עכו' });
      assert.equal((await customerByPhone(app, '0545000007')).fields.city, '=HYPERLINK("x")');
      // The first sheet by default: it has no known columns.
      const first = await importOk(app, buf, XLSX);
      assert.equal(first.created, 0);
      assert.match(first.errors[0]!.message, /unknown column nothing to import here/);
      const missing = await importOk(app, buf, XLSX, { sheet: 'nope' });
      assert.match(missing.errors[0]!.message, /no sheet "nope"/);

      // Streamed past CRM_IMPORT_LIMIT, an .xlsx is a 413 like a CSV, and the import says it failed.
      const small = await setup(dialect, { CRM_IMPORT_LIMIT: String(Math.floor(buf.length / 2)) });
      try {
        await hebrewProject(small.app);
        const chunks = [buf.subarray(0, 4096), buf.subarray(4096)];
        const res = await importRaw(small.app, Readable.from(chunks) as unknown as Buffer, XLSX);
        assert.equal(res.statusCode, 413, res.body);
        const failed = await small.db.q.selectFrom('imports').select(['status', 'format']).executeTakeFirstOrThrow();
        assert.deepEqual(failed, { status: 'failed', format: 'xlsx' });
      } finally {
        await small.close();
      }
    });

    test('formula cells are neutralized in every export format and the round trip csv → excel → xlsx → import is unchanged', async () => {
      await hebrewProject(app, 40, 41);
      // A third-party file's '= is read as = (the neutralizing ' of a spreadsheet); -5 and +9725… are plain numbers.
      const evil = ['=cmd|\' /C calc\'!A0', '+SUM(1,2)', '-2+3', '@A1', "'=from a spreadsheet", '-5', '+972501234567'];
      const csv = ['first_name,mobile,city,notes', ...evil.map((v, i) => `"${v.replace(/"/g, '""')}",05460000${String(i).padStart(2, '0')},${i === 0 ? '"=1+1"' : 'x'},"${i}"`)].join('\n');
      const s = await importOk(app, csv, 'text/csv', { repository_id: 41 }, 40);
      assert.equal(s.created, evil.length, JSON.stringify(s.errors));
      // A value that itself starts with '= (typed through the API) survives the round trip too.
      const typed = await admin(app, 'POST', '/projects/40/customers', { fields: { first_name: "'=typed", mobile: '0546000099' } });
      await admin(app, 'POST', '/repositories/41/assigns', { customer_id: typed.id });

      const plain = (await get(app, `/projects/40/export?repository_id=41`)).body;
      const rows = parse(plain, { columns: true }) as Record<string, string>[];
      assert.deepEqual(rows.map((r) => r.first_name), ["'=cmd|' /C calc'!A0", "'+SUM(1,2)", "'-2+3", "'@A1", "'=from a spreadsheet", '-5', '+972501234567', "''=typed"]);
      assert.equal(rows[0]!.city, "'=1+1");

      const excel = await get(app, `/projects/40/export?repository_id=41&format=excel`);
      assert.ok(excel.body.startsWith('\uFEFFid,repository_assign_id,status_id,שם פרטי,שם משפחה,טלפון נייד,תאריך לידה,City,הערות\r\n'));
      assert.ok(excel.body.includes("'=cmd|' /C calc'!A0"));

      const xlsx = await app.inject({ method: 'GET', url: '/admin/v1/projects/40/export?repository_id=41&format=xlsx', headers: adminHeaders });
      assert.equal(xlsx.statusCode, 200);
      assert.equal(xlsx.headers['content-type'], XLSX);
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
      const sheet = wb.worksheets[0]!;
      assert.equal(sheet.getRow(2).getCell(4).value, "'=cmd|' /C calc'!A0");
      assert.equal(sheet.rowCount, evil.length + 2);

      // Each export imports back into an empty copy of the project and exports the same plain CSV.
      for (const [body, type] of [[Buffer.from(plain), 'text/csv'], [Buffer.from(excel.rawPayload), 'text/csv'], [xlsx.rawPayload, XLSX]] as const) {
        const fresh = await setup(dialect);
        try {
          await hebrewProject(fresh.app, 40, 41);
          const back = await importOk(fresh.app, body, type, { repository_id: 41 }, 40);
          assert.equal(back.created, evil.length + 1, JSON.stringify(back.errors));
          assert.equal((await get(fresh.app, `/projects/40/export?repository_id=41`)).body, plain, type);
        } finally {
          await fresh.close();
        }
      }
    });

    test('undo removes exactly the customers and assigns the import created that nothing changed since', async () => {
      await hebrewProject(app, 50, 51);
      await admin(app, 'POST', '/projects/50/repositories', { id: 52, name: 'Second' });
      const existing = await admin(app, 'POST', '/projects/50/customers', { fields: { first_name: 'Old', mobile: '0547000099' } });
      const rows = Array.from({ length: 20 }, (_, i) => `N${i},05470000${String(i).padStart(2, '0')}`);
      const s = await importOk(app, ['first_name,mobile', ...rows, 'Old again,0547000099'].join('\n'), 'text/csv', { repository_id: 51, on_duplicate: 'update' }, 50);
      assert.equal(s.created, 20);
      assert.equal(s.updated, 1);

      const changed = await customerByPhone(app, '0547000001', 50);
      await admin(app, 'PATCH', `/customers/${changed.id}`, { fields: { city: 'Haifa' } });
      const called = (await get(app, `/customers/${(await customerByPhone(app, '0547000002', 50)).id}`)).json();
      await admin(app, 'POST', `/assigns/${called.assigns[0].id}/calls`, { notes: 'spoke' });
      const elsewhere = await customerByPhone(app, '0547000003', 50);
      await admin(app, 'POST', '/repositories/52/assigns', { customer_id: elsewhere.id });

      const del = await app.inject({ method: 'DELETE', url: `/admin/v1/imports/${s.import_id}`, headers: adminHeaders });
      assert.equal(del.statusCode, 200, del.body);
      assert.deepEqual(del.json(), { removed: 17, kept: 3, assigns_removed: 18 });
      for (const i of [0, 4, 19]) {
        const list = (await get(app, `/projects/50/customers?phone=05470000${String(i).padStart(2, '0')}`)).json();
        assert.equal(list.items.length, 0, `customer ${i} removed`);
      }
      for (const c of [changed, elsewhere]) assert.equal((await get(app, `/customers/${c.id}`)).json().id, c.id);
      // The existing customer stays, with the field the import updated; its assign in 51 is gone.
      const old = (await get(app, `/customers/${existing.id}`)).json();
      assert.equal(old.fields.first_name, 'Old again');
      assert.deepEqual(old.assigns, []);
      assert.equal((await get(app, `/imports/${s.import_id}`)).json().status, 'undone');
      const none = await app.inject({ method: 'DELETE', url: '/admin/v1/imports/999999', headers: adminHeaders });
      assert.equal(none.statusCode, 404);
    });

    test('dates and phones follow the same rules in PATCH and set_data; impossible or ambiguous dates name the value', async () => {
      const c = await admin(app, 'POST', `/projects/${P}/customers`, { fields: { first_name: 'D', mobile: "'0548000001", birthday: '15/03/1985' } });
      assert.deepEqual(c.fields, { first_name: 'D', mobile: '0548000001', birthday: '1985-03-15' });
      const bad = await app.inject({ method: 'PATCH', url: `/admin/v1/customers/${c.id}`, headers: adminHeaders, payload: { fields: { birthday: '30/02/1985' } } });
      assert.equal(bad.statusCode, 400);
      assert.match(bad.json().error.message, /"30\/02\/1985" is not a real date/);
      const sci = await app.inject({ method: 'PATCH', url: `/admin/v1/customers/${c.id}`, headers: adminHeaders, payload: { fields: { mobile: '5.48E+08' } } });
      assert.equal(sci.statusCode, 400);
      assert.match(sci.json().error.message, /scientific notation/);
      const patched = await admin(app, 'PATCH', `/customers/${c.id}`, { fields: { birthday: '1.2.24', mobile: '548000002' } });
      assert.equal(patched.fields.birthday, '2024-02-01');
      assert.equal(patched.fields.mobile, '0548000002');

      const assign = await admin(app, 'POST', `/repositories/${REPO}/assigns`, { customer_id: c.id });
      const r = await tel(app, 'set_data', { authkey: KEYS.set_data, repository_assign_id: assign.id, birthday: '7.11.1999' });
      assert.equal(r.code, 0, JSON.stringify(r));
      assert.equal((await get(app, `/customers/${c.id}`)).json().fields.birthday, '1999-11-07');
    });

    test('fields named notes, call_id or in Hebrew can be created; a duplicate status id names the project holding it', async () => {
      const f = await admin(app, 'POST', `/projects/${P}/fields`, { display_name: 'call_id' });
      assert.equal(f.display_name, 'call_id');
      const heb = await admin(app, 'POST', `/projects/${P}/fields`, { display_name: 'עיר_מגורים' });
      assert.equal(heb.display_name, 'עיר_מגורים');
      const digit = await app.inject({ method: 'POST', url: `/admin/v1/projects/${P}/fields`, headers: adminHeaders, payload: { display_name: '1abc' } });
      assert.equal(digit.statusCode, 400);
      const dup = await app.inject({ method: 'POST', url: `/admin/v1/projects/${P}/statuses`, headers: adminHeaders, payload: { id: P * 10, name: 'again' } });
      assert.equal(dup.statusCode, 409);
      assert.match(dup.json().error.message, new RegExp(`status ${P * 10} already exists \\(in project ${P}\\)`));
    });
  });
}
