// Import rate of real-shaped files: a 100k-row .xlsx (written with exceljs's streaming writer: Hebrew
// text, numeric phones with the leading 0 dropped, date cells) and a 100k-row windows-1255 CSV with CRLF
// and DMY dates, each imported into a fresh SQLite database through importCustomers (the CLI's path).
//   npx tsx bench/import-files.ts [rows=100000]
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import ExcelJS from 'exceljs';
import { openDatabase } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createProject, createStaffed } from '../src/crm/setup.ts';
import { createField } from '../src/crm/fields.ts';
import { importCustomers, type ImportFormat } from '../src/crm/import.ts';

const rows = Number(process.argv[2] ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'callcrm-import-files-'));
const NAMES = ['דנה', 'יוסי', 'מיכל', 'אבי', 'נועה', 'שירה', 'אורי'];
const CITIES = ['תל אביב', 'חיפה', 'ירושלים', 'באר שבע'];

function cp1255(text: string): Buffer {
  const decoder = new TextDecoder('windows-1255');
  const table = new Map<string, number>();
  for (let b = 0; b < 256; b++) {
    const ch = decoder.decode(Uint8Array.of(b));
    if (ch !== '\uFFFD' && !table.has(ch)) table.set(ch, b);
  }
  return Buffer.from(Array.from(text, (ch) => table.get(ch)!));
}

async function writeCsv(path: string) {
  const out = createWriteStream(path);
  out.write(cp1255('שם פרטי,שם משפחה,טלפון נייד,תאריך לידה,עיר\r\n'));
  for (let i = 0; i < rows; i++) {
    const line = `${NAMES[i % 7]},כהן ${i},05${String(20000000 + i).padStart(8, '0')},${(i % 28) + 1}/${(i % 12) + 1}/19${50 + (i % 50)},${CITIES[i % 4]}\r\n`;
    if (!out.write(cp1255(line))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function writeXlsx(path: string) {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useSharedStrings: true, useStyles: true });
  const ws = wb.addWorksheet('לקוחות');
  ws.columns = [{ header: 'שם פרטי' }, { header: 'שם משפחה' }, { header: 'טלפון נייד' }, { header: 'תאריך לידה', style: { numFmt: 'dd/mm/yyyy' } }, { header: 'עיר' }];
  for (let i = 0; i < rows; i++) {
    ws.addRow([NAMES[i % 7], `כהן ${i}`, 530000000 + i, new Date(Date.UTC(1950 + (i % 50), i % 12, (i % 28) + 1)), CITIES[i % 4]]).commit();
  }
  ws.commit();
  await wb.commit();
}

async function run(file: string, format: ImportFormat) {
  const db = openDatabase(`sqlite:${join(dir, `${format}.sqlite`)}`, { durable: true, poolSize: 2, bulk: true });
  try {
    await migrateToLatest(db.q);
    await db.write(async (trx) => {
      await createProject(trx, { id: 1, name: 'bench' });
      await createField(trx, 1, { display_name: 'first_name', label: 'שם פרטי' });
      await createField(trx, 1, { display_name: 'last_name', label: 'שם משפחה' });
      await createField(trx, 1, { display_name: 'mobile', label: 'טלפון נייד', type: 'phone' });
      await createField(trx, 1, { display_name: 'birthday', label: 'תאריך לידה', type: 'date' });
      await createField(trx, 1, { display_name: 'city', label: 'עיר' });
      await createStaffed(trx, 'repositories', 1, { id: 1, name: 'leads' });
    });
    const started = performance.now();
    const s = await importCustomers(db, createReadStream(file), { projectId: 1, repositoryId: 1, format, country: 'IL', who: 'bench' });
    const seconds = (performance.now() - started) / 1000;
    const mb = statSync(file).size / 1e6;
    console.log(`${format.padEnd(4)} ${rows} rows, ${mb.toFixed(1)} MB: ${seconds.toFixed(1)} s, ${Math.round(rows / seconds)} rows/s (created ${s.created}, errors ${s.error_count}, read as ${s.encoding})`);
  } finally {
    await db.close();
  }
}

try {
  const csv = join(dir, 'leads.csv');
  const xlsx = join(dir, 'leads.xlsx');
  await writeCsv(csv);
  await writeXlsx(xlsx);
  await run(csv, 'csv');
  await run(xlsx, 'xlsx');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
