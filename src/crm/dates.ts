// The one date parser (STYLE 14): every date a field takes — admin API, set_data, imports, the CLI —
// goes through parseDate. Stored and answered as YYYY-MM-DD.
//
// Accepted: YYYY-MM-DD (also with / or . and one-digit month/day: 1985-3-5), and day, month, year in the
// country's order (CRM_DATE_ORDER; DMY for Israel and most of the world, MDY for the US, YMD for East
// Asia) with /, . or - between: 15/03/1985, 15.3.85, 1/2/2024. A two-digit year is 19xx or 20xx,
// whichever is nearer to today within a century window (now + 20 years back to now - 79).
// An impossible date (31/02/2024, 13/13/2024) or an ambiguous one (a 1-or-2-digit first part that could
// be a year or a day, like 01/02/03 in YMD order) is an error that names the value.

export type DateOrder = 'DMY' | 'MDY' | 'YMD';

export const DATE_ORDERS: readonly DateOrder[] = ['DMY', 'MDY', 'YMD'];

/** Countries whose everyday numeric date is month first, or year first; every other country is DMY. */
const MDY_COUNTRIES = new Set(['US', 'PH', 'FM', 'MH', 'PW', 'AS', 'GU', 'MP', 'PR', 'UM', 'VI']);
const YMD_COUNTRIES = new Set(['CN', 'JP', 'KR', 'KP', 'TW', 'HU', 'MN', 'LT', 'IR', 'BT']);

/** The default CRM_DATE_ORDER for a country (CRM_DEFAULT_COUNTRY). */
export function dateOrderOf(country: string): DateOrder {
  if (MDY_COUNTRIES.has(country)) return 'MDY';
  if (YMD_COUNTRIES.has(country)) return 'YMD';
  return 'DMY';
}

export type ParsedDate = { ok: true; value: string } | { ok: false; reason: string };

const ISO = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/;
const PARTS = /^(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})$/;

/** Parses a date as written by a person or a spreadsheet; `now` is for tests of the two-digit-year window. */
export function parseDate(raw: string, order: DateOrder, now = new Date()): ParsedDate {
  const value = raw.trim();
  const bad = (why: string): ParsedDate => ({ ok: false, reason: `${JSON.stringify(value)} is ${why}` });
  const iso = ISO.exec(value);
  if (iso) return build(Number(iso[1]), Number(iso[2]), Number(iso[3])) ?? bad('not a real date');
  const m = PARTS.exec(value);
  if (!m) return bad(`not a date (YYYY-MM-DD or ${example(order)})`);
  const [a, b, c] = [m[1]!, m[2]!, m[3]!];
  let y: string, mo: string, d: string;
  if (order === 'YMD') {
    // A short first part could be a two-digit year or a day written the other way round: ambiguous.
    if (a.length < 4 && c.length > 2) return bad(`not in the order ${order}`);
    if (a.length < 4) return bad(`ambiguous (write the year with 4 digits: YYYY-MM-DD)`);
    [y, mo, d] = [a, b, c];
  } else {
    if (a.length > 2) return bad(`not in the order ${order} (${example(order)}) nor YYYY-MM-DD`);
    if (c.length === 3 || c.length === 1) return bad('ambiguous: the year needs 2 or 4 digits');
    [y, mo, d] = order === 'DMY' ? [c, b, a] : [c, a, b];
  }
  const year = y.length === 2 ? twoDigitYear(Number(y), now) : Number(y);
  return build(year, Number(mo), Number(d)) ?? bad('not a real date');
}

function example(order: DateOrder): string {
  return order === 'DMY' ? 'DD/MM/YYYY' : order === 'MDY' ? 'MM/DD/YYYY' : 'YYYY/MM/DD';
}

function twoDigitYear(yy: number, now: Date): number {
  const current = now.getUTCFullYear();
  let year = Math.floor(current / 100) * 100 + yy;
  if (year > current + 20) year -= 100;
  return year;
}

function build(year: number, month: number, day: number): ParsedDate | undefined {
  if (year < 1 || month < 1 || month > 12 || day < 1) return undefined;
  const d = new Date(Date.UTC(2000, month - 1, day));
  d.setUTCFullYear(year);
  if (d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return undefined;
  return { ok: true, value: `${String(year).padStart(4, '0')}-${pad(month)}-${pad(day)}` };
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * A spreadsheet's date cell (exceljs gives a Date at UTC midnight of the day shown) as YYYY-MM-DD, or
 * YYYY-MM-DD HH:MM[:SS] when it carries a time of day.
 */
export function spreadsheetDate(d: Date): string {
  const day = `${String(d.getUTCFullYear()).padStart(4, '0')}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const h = d.getUTCHours();
  const mi = d.getUTCMinutes();
  const s = d.getUTCSeconds();
  if (h === 0 && mi === 0 && s === 0) return day;
  return `${day} ${pad(h)}:${pad(mi)}${s ? `:${pad(s)}` : ''}`;
}
