// The demo project: what the seed's own example requests talk about, so that they answer real data.
//   get_data?did=07333333333&phone=0500000000&project_id=10&out=first_name,last_status,repository_name
//   get_data?repository_assign_id=2190811&out=uid,repository_name,customer_name
//   set_data?repository_assign_id=555&first_name=Jane&email=jane@example.com   (…&city=New York&status_id=2&worker_id=99)
//   set_status?repository_assign_id=555&status_id=10
// Loading is idempotent: every row has a fixed id (or name) and is created only when missing, so a second
// run changes nothing, and changes made since (a status set by set_status) are left as they are.
import type { Db, Q } from '../db/connect.ts';
import { conflict } from '../errors.ts';
import type { CountryCode } from '../phone.ts';
import { insertAssign } from './assigns.ts';
import { insertCustomer, validateAll } from './customers.ts';
import { createField, listFields, type FieldInput } from './fields.ts';
import { createDid, createPart, createProject, createStaffed } from './setup.ts';

export const DEMO = Object.freeze({
  projectId: 10,
  projectName: 'Demo call center',
  repositoryId: 7,
  did: '07333333333',
});

const FIELDS: FieldInput[] = [
  { display_name: 'first_name', label: 'First name' },
  { display_name: 'last_name', label: 'Last name' },
  { display_name: 'phone', label: 'Phone', type: 'phone' },
  { display_name: 'email', label: 'Email', type: 'email', unique: true },
  { display_name: 'city', label: 'City' },
];
const STATUSES = [
  { id: 10, name: 'Interested' },
  { id: 2, name: 'Call back' },
  { id: 3, name: 'Not relevant' },
];
const GROUP = { id: 3, name: 'Team A' };
const SITE = { id: 4, name: 'Tel Aviv' };
const WORKER = { id: 99, name: 'Dana', group_id: 3, site_id: 4 };
const REPOSITORIES = [
  { id: 7, name: 'Leads' },
  { id: 8, name: 'VIP', group_id: 3, site_id: 4 },
];

interface DemoCustomer {
  id: number;
  fields: Record<string, string>;
  assigns: { id: number; repository_id: number; status_id: number | null }[];
}

/** The seed's John Doe: uid 123, phone 0500000000, assign 2190811 in Leads and 555 in VIP, no status yet. */
const JOHN: DemoCustomer = {
  id: 123,
  fields: { first_name: 'John', last_name: 'Doe', phone: '050-000-0000', email: 'john@mail.com', city: 'Tel Aviv' },
  assigns: [
    { id: 2190811, repository_id: 7, status_id: null },
    { id: 555, repository_id: 8, status_id: null },
  ],
};

const GENERATED = 300;
const FIRST = ['Noa', 'Yossi', 'Maya', 'David', 'Tamar', 'Avi', 'Shira', 'Omer', 'Lior', 'Dana', 'Eitan', 'Yael', 'Amit', 'Roni', 'Gal', 'Michal'];
const LAST = ['Cohen', 'Levi', 'Mizrahi', 'Peretz', 'Biton', 'Friedman', 'Azulay', 'Katz', 'Shapiro', 'Dahan', 'Avraham', 'Golan'];
const CITIES = ['Tel Aviv', 'Jerusalem', 'Haifa', 'Beer Sheva', 'Netanya', 'Ashdod', 'Rishon LeZion', 'Petah Tikva'];

/** The generated customers 1001…1300: the same every run (a fixed-seed generator), one assign each. */
function generated(): DemoCustomer[] {
  let seed = 20230501;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return Math.floor(seed / 65536) % n;
  };
  const out: DemoCustomer[] = [];
  for (let i = 1; i <= GENERATED; i++) {
    const first = FIRST[next(FIRST.length)]!;
    const last = LAST[next(LAST.length)]!;
    const statusPick = next(5);
    out.push({
      id: 1000 + i,
      fields: {
        first_name: first,
        last_name: last,
        phone: `05${next(9)}-${1_000_000 + ((i * 7919) % 9_000_000)}`,
        ...(i % 4 === 0 ? {} : { email: `${first}.${last}.${i}@example.com`.toLowerCase() }),
        city: CITIES[next(CITIES.length)]!,
      },
      assigns: [{ id: 3_000_000 + i, repository_id: i % 10 === 0 ? 8 : 7, status_id: statusPick < 2 ? null : STATUSES[statusPick - 2]!.id }],
    });
  }
  return out;
}

export interface DemoResult {
  project_id: number;
  /** rows created by this run (0 when the demo was already loaded) */
  created: number;
}

/** Loads the demo project (see the top of this file). A project 10 that is not the demo is left alone: 409. */
export async function loadDemo(db: Db, country: CountryCode): Promise<DemoResult> {
  return db.write(async (trx) => {
    let created = 0;
    const P = DEMO.projectId;
    const project = await trx.selectFrom('projects').select('name').where('id', '=', P).executeTakeFirst();
    if (project && project.name !== DEMO.projectName) {
      throw conflict(`project ${P} exists and is not the demo project ("${project.name}"); the demo loads only into an empty database or its own project`);
    }
    if (!project) {
      await createProject(trx, { id: P, name: DEMO.projectName });
      created++;
    }
    const haveFields = new Set((await listFields(trx, P)).map((f) => f.display_name));
    for (const f of FIELDS) {
      if (haveFields.has(f.display_name)) continue;
      await createField(trx, P, f);
      created++;
    }
    for (const s of STATUSES) if (await ensure(trx, 'statuses', s.id, P, () => createPart(trx, 'statuses', P, s))) created++;
    if (await ensure(trx, 'groups', GROUP.id, P, () => createPart(trx, 'groups', P, GROUP))) created++;
    if (await ensure(trx, 'sites', SITE.id, P, () => createPart(trx, 'sites', P, SITE))) created++;
    if (await ensure(trx, 'workers', WORKER.id, P, () => createStaffed(trx, 'workers', P, WORKER))) created++;
    for (const r of REPOSITORIES) if (await ensure(trx, 'repositories', r.id, P, () => createStaffed(trx, 'repositories', P, r))) created++;
    const did = await trx.selectFrom('dids').select('id').where('project_id', '=', P).where('did', '=', DEMO.did).executeTakeFirst();
    if (!did) {
      await createDid(trx, P, { did: DEMO.did }, country);
      created++;
    }

    const fields = await listFields(trx, P);
    // One time for every row: get_data's newest-first order then falls to the assign id, the same each run.
    const at = Date.now();
    for (const c of [JOHN, ...generated()]) {
      const exists = await trx.selectFrom('customers').select('project_id').where('id', '=', c.id).executeTakeFirst();
      if (exists && exists.project_id !== P) throw conflict(`customer ${c.id} exists in project ${exists.project_id}; the demo needs its ids`);
      if (!exists) {
        await insertCustomer(trx, P, validateAll(fields, c.fields, true), { id: c.id, country, source: 'admin', at });
        created++;
      }
      for (const a of c.assigns) {
        const have = await trx.selectFrom('assigns').select(['id', 'customer_id']).where('id', '=', a.id).executeTakeFirst();
        if (have && have.customer_id !== c.id) throw conflict(`assign ${a.id} exists for customer ${have.customer_id}; the demo needs its ids`);
        if (have) continue;
        const inRepo = await trx.selectFrom('assigns').select('id').where('repository_id', '=', a.repository_id).where('customer_id', '=', c.id).executeTakeFirst();
        if (inRepo) continue;
        await insertAssign(trx, P, a.repository_id, { id: a.id, customer_id: c.id, status_id: a.status_id }, at);
        created++;
      }
    }
    return { project_id: P, created };
  });
}

/** Creates the row when its id is free; 409 when the id is taken by another project. True when created. */
async function ensure(trx: Q, table: 'statuses' | 'groups' | 'sites' | 'workers' | 'repositories', id: number, projectId: number, create: () => Promise<unknown>) {
  const row = await trx.selectFrom(table).select('project_id').where('id', '=', id).executeTakeFirst();
  if (row && row.project_id !== projectId) throw conflict(`${table} id ${id} belongs to project ${row.project_id}; the demo needs it`);
  if (row) return false;
  await create();
  return true;
}
