// The benchmark's dataset: one project, its fields, statuses, repositories and DIDs, and N customers,
// all derived from the customer number, so a request generator knows the right answer to every request
// without holding the dataset in memory.
//
// Customer i (1..N): id i, one assign (id ASSIGN_BASE + i) in repository block i, a unique Israeli mobile
// and a unique landline. Phone numbers are bijections over 7-digit numbers (multiplier coprime to 10^7),
// so they are unique without a set of the numbers seen.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';

export const PROJECT_ID = 10;
export const WORKER_ID = 301;
export const ASSIGN_BASE = 10_000_000;
export const REPOSITORY_IDS = Array.from({ length: 10 }, (_, k) => 101 + k);
export const STATUS_IDS = Array.from({ length: 20 }, (_, k) => 201 + k);
/** 100 DIDs, registered unpinned (a pinned DID narrows get_data to its repository). */
export const DIDS = Array.from({ length: 100 }, (_, k) => `037000${String(k).padStart(3, '0')}`);

export const FIELDS = [
  { display_name: 'first_name', label: 'First name' },
  { display_name: 'last_name', label: 'Last name' },
  { display_name: 'mobile', label: 'Mobile', type: 'phone' },
  { display_name: 'home', label: 'Home phone', type: 'phone' },
  { display_name: 'city', label: 'City' },
  { display_name: 'email', label: 'Email', type: 'email' },
] as const;

/** What an IVR typically asks for: a few fields plus the assign's state. */
export const OUT = 'first_name,last_name,mobile,city,last_status,last_call';

const MOBILE_PREFIXES = ['50', '52', '53', '54', '55', '58'];
/** 059 is a valid Israeli mobile prefix that no customer of the dataset has: a guaranteed miss. */
export const MISS_PREFIX = '59';
const AREA_CODES = ['2', '3', '4', '8', '9'];
const FIRST_NAMES = ['Noa', 'Yael', 'David', 'Moshe', 'Sarah', 'Avi', 'Tamar', 'Yosef', 'נועה', 'יעל', 'דוד', 'משה', 'שרה', 'אבי', 'תמר', 'יוסף'];
const LAST_NAMES = ['Cohen', 'Levi', 'Mizrahi', 'Peretz', 'Biton', 'Friedman', 'כהן', 'לוי', 'מזרחי', 'פרץ', 'ביטון', 'פרידמן'];
export const CITIES = ['Tel Aviv', 'Jerusalem', 'Haifa', 'Beersheba', 'Netanya', 'תל אביב', 'ירושלים', 'חיפה', 'באר שבע', 'נתניה'];

const seven = (n: number) => String(n).padStart(7, '0');

/** The mobile number of customer i as national significant digits: prefix (2) and subscriber (7). */
export function mobileOf(i: number): { prefix: string; rest: string } {
  return { prefix: MOBILE_PREFIXES[i % MOBILE_PREFIXES.length]!, rest: seven((i * 7919 + 1_234_567) % 10_000_000) };
}

/** The landline of customer i: area code (1) and subscriber (7). */
export function homeOf(i: number): { prefix: string; rest: string } {
  return { prefix: AREA_CODES[i % AREA_CODES.length]!, rest: seven((i * 104_729 + 7_654_321) % 10_000_000) };
}

/** The repository customer i is assigned to: contiguous blocks, so each repository is one import file. */
export function repositoryIndexOf(i: number, customers: number): number {
  return Math.floor(((i - 1) * REPOSITORY_IDS.length) / customers);
}

/**
 * The spellings callers' numbers arrive in (telephony-api.md: they all match the same customer):
 * 0501234567, 050-123-4567, +972 50-123-4567, 972501234567.
 */
export function spell(n: { prefix: string; rest: string }, variant: number): string {
  const { prefix, rest } = n;
  switch (variant & 3) {
    case 0: return `0${prefix}${rest}`;
    case 1: return `0${prefix}-${rest.slice(0, 3)}-${rest.slice(3)}`;
    case 2: return `+972 ${prefix}-${rest.slice(0, 3)}-${rest.slice(3)}`;
    default: return `972${prefix}${rest}`;
  }
}

/** A small, fast, seeded PRNG (mulberry32): every run asks the same questions. */
export function rng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n);
  };
}

export const CSV_HEADER = 'id,repository_assign_id,first_name,last_name,mobile,home,city,email';

function csvLine(i: number): string {
  const m = mobileOf(i);
  const h = homeOf(i);
  // Stored as entered: the spellings call centers' spreadsheets hold.
  const mobile = `0${m.prefix}-${m.rest}`;
  const home = `0${h.prefix}-${h.rest}`;
  const first = FIRST_NAMES[i % FIRST_NAMES.length]!;
  const last = LAST_NAMES[(i >>> 4) % LAST_NAMES.length]!;
  const city = CITIES[(i >>> 2) % CITIES.length]!;
  return `${i},${ASSIGN_BASE + i},${first},${last},${mobile},${home},${city},c${i}@example.com\n`;
}

export interface ImportFile {
  repositoryId: number;
  path: string;
  rows: number;
}

/**
 * Writes one CSV file per repository into dir, streamed in chunks with backpressure (a million rows
 * are never in memory at once).
 */
export async function writeCsvFiles(dir: string, customers: number): Promise<ImportFile[]> {
  const files: ImportFile[] = [];
  let i = 1;
  for (let r = 0; r < REPOSITORY_IDS.length; r++) {
    const path = join(dir, `customers-${REPOSITORY_IDS[r]}.csv`);
    const out = createWriteStream(path);
    out.write(`${CSV_HEADER}\n`);
    let rows = 0;
    let chunk = '';
    for (; i <= customers && repositoryIndexOf(i, customers) === r; i++, rows++) {
      chunk += csvLine(i);
      if (chunk.length >= 64 * 1024) {
        if (!out.write(chunk)) await once(out, 'drain');
        chunk = '';
      }
    }
    out.end(chunk);
    await once(out, 'finish');
    files.push({ repositoryId: REPOSITORY_IDS[r]!, path, rows });
  }
  return files;
}

/** The customer fields of customer i as the import writes them (for the temporary admin-route loader). */
export function customerFields(i: number): Record<string, string> {
  const [id, , first_name, last_name, mobile, home, city, email] = csvLine(i).trimEnd().split(',');
  void id;
  return { first_name: first_name!, last_name: last_name!, mobile: mobile!, home: home!, city: city!, email: email! };
}
