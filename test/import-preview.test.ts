// The import's new choices (admin-api.md "Real files in and out", console.md "Import wizard"): a dry run
// that previews the first rows with each cell's error and writes nothing, `columns` remapping a header
// cell to a field, and `delimiter` / `date_order` overriding what would be detected or configured.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { admin, adminHeaders, dialects, setup, type Harness } from './helpers.ts';
import { cp1255 } from './cp1255.ts';

const P = 40;
const REPO = 41;

/** A Hebrew Excel CSV: semicolons, CRLF, DMY dates, and a column ("עיר מגורים") that matches no field. */
const HEBREW_CSV = cp1255(['שם פרטי;טלפון נייד;תאריך לידה;עיר מגורים', 'דנה;0501234567;15/03/1985;חיפה', 'יוסי;0521234567;31/02/1990;תל אביב', ''].join('\r\n'));

type Preview = {
  dry_run: true;
  format: string;
  encoding: { detected: string | null; used: string | null };
  delimiter: { detected: string | null; used: string | null };
  date_order: { default: string; used: string };
  header: string[];
  mapping: (string | null)[];
  header_error: string | null;
  rows: { line: number; cells: { value: string; error: string | null }[]; error: string | null }[];
};

function post(app: FastifyInstance, body: Buffer | string, query: Record<string, string | number>, type = 'text/csv') {
  const qs = new URLSearchParams(Object.entries({ repository_id: REPO, ...query }).map(([k, v]) => [k, String(v)]));
  return app.inject({ method: 'POST', url: `/admin/v1/projects/${P}/import?${qs}`, headers: { ...adminHeaders, 'content-type': type }, payload: body });
}

async function ok<T>(app: FastifyInstance, body: Buffer | string, query: Record<string, string | number>, type?: string): Promise<T> {
  const res = await post(app, body, query, type);
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as T;
}

for (const dialect of dialects()) {
  describe(`import preview and column choices (${dialect})`, () => {
    let h: Harness;
    let app: FastifyInstance;
    const counts = async () => ({
      customers: Number((await h.db.q.selectFrom('customers').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n),
      imports: Number((await h.db.q.selectFrom('imports').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n),
    });
    const byPhone = async (phone: string) => {
      const list = await admin(app, 'GET', `/projects/${P}/customers?phone=${phone}`);
      return list.items as { id: number; fields: Record<string, string> }[];
    };

    before(async () => {
      h = await setup(dialect);
      app = h.app;
      await admin(app, 'POST', '/projects', { id: P, name: 'Wizard' });
      await admin(app, 'POST', `/projects/${P}/fields`, { display_name: 'first_name', label: 'שם פרטי', required: true });
      await admin(app, 'POST', `/projects/${P}/fields`, { display_name: 'mobile', label: 'טלפון נייד', type: 'phone' });
      await admin(app, 'POST', `/projects/${P}/fields`, { display_name: 'birthday', label: 'תאריך לידה', type: 'date' });
      await admin(app, 'POST', `/projects/${P}/fields`, { display_name: 'city', label: 'City' });
      await admin(app, 'POST', `/projects/${P}/repositories`, { id: REPO, name: 'Leads' });
    });
    after(() => h.close());

    test('a windows-1255 Hebrew CSV with semicolons previews with its encoding, delimiter, Hebrew values and a per-cell date error', async () => {
      const p = await ok<Preview>(app, HEBREW_CSV, { dry_run: 'true', unknown_columns: 'ignore' });
      assert.deepEqual(p.encoding, { detected: 'windows-1255', used: 'windows-1255' });
      assert.deepEqual(p.delimiter, { detected: 'semicolon', used: 'semicolon' });
      assert.deepEqual(p.date_order, { default: 'DMY', used: 'DMY' });
      assert.deepEqual(p.header, ['שם פרטי', 'טלפון נייד', 'תאריך לידה', 'עיר מגורים']);
      assert.deepEqual(p.mapping, ['first_name', 'mobile', 'birthday', null]);
      assert.equal(p.header_error, null);
      assert.deepEqual(p.rows.map((r) => r.line), [2, 3]);
      assert.deepEqual(p.rows[0]!.cells, ['דנה', '0501234567', '15/03/1985', 'חיפה'].map((value) => ({ value, error: null })));
      assert.equal(p.rows[0]!.error, null);
      const bad = p.rows[1]!;
      assert.deepEqual(bad.cells.map((c) => c.error === null), [true, true, false, true]);
      assert.match(bad.cells[2]!.error!, /"31\/02\/1990" is not a real date/);
      assert.equal(bad.error, null, 'an error on a cell is not repeated on the row');

      // Without unknown_columns=ignore the import would refuse the file: the preview says so.
      const refused = await ok<Preview>(app, HEBREW_CSV, { dry_run: 'true' });
      assert.match(refused.header_error ?? '', /unknown column עיר מגורים/);
      assert.deepEqual(refused.rows, []);
    });

    test('a dry run writes nothing: no customer, no import record', async () => {
      const before = await counts();
      await ok<Preview>(app, HEBREW_CSV, { dry_run: 'true', unknown_columns: 'ignore', columns: JSON.stringify({ 'עיר מגורים': 'city' }) });
      assert.deepEqual(await counts(), before);
    });

    test('preview_rows bounds the rows read; a missing required field is a row error', async () => {
      const lines = ['first_name,mobile', ...Array.from({ length: 30 }, (_, i) => `n${i},050${String(7000000 + i)}`), ',0509999999'];
      const p = await ok<Preview>(app, lines.join('\n'), { dry_run: 'true', preview_rows: 5 });
      assert.equal(p.rows.length, 5);
      assert.deepEqual(p.encoding, { detected: 'utf-8', used: 'utf-8' });
      const last = await ok<Preview>(app, [lines[0], lines.at(-1)].join('\n'), { dry_run: 'true' });
      assert.match(last.rows[0]!.error ?? '', /first_name is required/);
    });

    test('columns remaps a header cell that matches no field into the chosen field', async () => {
      const s = await ok<{ import_id: number; created: number; error_count: number; errors: { line: number; message: string }[] }>(app, HEBREW_CSV, { columns: JSON.stringify({ 'עיר מגורים': 'city' }) });
      assert.equal(s.created, 1);
      assert.equal(s.error_count, 1);
      assert.deepEqual(s.errors.map((e) => e.line), [3]);
      const [dana] = await byPhone('0501234567');
      assert.deepEqual(dana?.fields, { first_name: 'דנה', mobile: '0501234567', birthday: '1985-03-15', city: 'חיפה' });
      // "" leaves a column out even when it would match.
      const left = await ok<Preview>(app, HEBREW_CSV, { dry_run: 'true', columns: JSON.stringify({ 'עיר מגורים': 'city', 'תאריך לידה': '' }) });
      assert.deepEqual(left.mapping, ['first_name', 'mobile', null, 'city']);
      assert.deepEqual(left.rows[1]!.cells.map((c) => c.error), [null, null, null, null]);
    });

    test('delimiter and date_order override detection and CRM_DATE_ORDER', async () => {
      const file = 'first_name;mobile;birthday\nרון;0531111111;03/04/1985\n';
      // Read as comma-separated, the header is one unknown column.
      const asComma = await ok<Preview>(app, file, { dry_run: 'true', delimiter: 'comma' });
      assert.deepEqual(asComma.delimiter, { detected: 'semicolon', used: 'comma' });
      assert.deepEqual(asComma.header, ['first_name;mobile;birthday']);
      assert.match(asComma.header_error ?? '', /unknown column/);

      const mdy = await ok<Preview>(app, file, { dry_run: 'true', date_order: 'MDY' });
      assert.deepEqual(mdy.date_order, { default: 'DMY', used: 'MDY' });
      await ok(app, file, { date_order: 'MDY' }, 'text/csv');
      assert.equal((await byPhone('0531111111'))[0]?.fields.birthday, '1985-03-04');
      await ok(app, file.replace('0531111111', '0531111112'), {});
      assert.equal((await byPhone('0531111112'))[0]?.fields.birthday, '1985-04-03');
      // 15/03/1985 is no date in MDY order: a cell error.
      const bad = await ok<Preview>(app, 'first_name,birthday\nא,15/03/1985\n', { dry_run: 'true', date_order: 'MDY' });
      assert.match(bad.rows[0]!.cells[1]!.error ?? '', /15\/03\/1985/);
    });

    test('bad choices are a 400 naming the parameter, and nothing is written', async () => {
      const before = await counts();
      const cases: [Record<string, string | number>, RegExp][] = [
        [{ delimiter: 'pipe' }, /delimiter/],
        [{ date_order: 'DYM' }, /date_order/],
        [{ columns: '{not json' }, /^columns: not valid JSON/],
        [{ columns: '["city"]' }, /^columns: must be a JSON object/],
        [{ columns: JSON.stringify({ 'עיר מגורים': 'town' }) }, /^columns: "town"/],
        [{ columns: JSON.stringify({ 'עיר מגורים': 5 }) }, /^columns: .* must map to a string/],
        [{ dry_run: 'maybe' }, /dry_run/],
        [{ dry_run: 'true', preview_rows: 101 }, /preview_rows/],
      ];
      for (const [query, message] of cases) {
        const res = await post(app, HEBREW_CSV, query);
        assert.equal(res.statusCode, 400, `${JSON.stringify(query)}: ${res.body}`);
        assert.match(res.json().error.message, message, JSON.stringify(query));
      }
      assert.deepEqual(await counts(), before, 'a 400 writes nothing, not even an import record');
      // A name that is not a header cell refuses the file as a header error, before any row.
      const s = await ok<{ created: number; errors: { message: string }[]; import_id: number }>(app, HEBREW_CSV, { columns: JSON.stringify({ Town: 'city' }) });
      assert.equal(s.created, 0);
      assert.match(s.errors[0]!.message, /columns names "Town", not a header cell/);
      assert.equal((await counts()).customers, before.customers);
    });
  });
}
