// The console's reads that the admin API has no single route for, registered inside the admin API
// (same auth, session, role and project checks): the screen pop's lookup, the agent's search, and the
// customer card in one round trip. Reads only: every change the console makes goes through the admin
// API's own routes (PATCH /customers, PATCH /assigns, POST /assigns/:id/calls).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from '../config.ts';
import type { Db, Q } from '../db/connect.ts';
import type { CustomerRow } from '../db/schema.ts';
import { listAssigns } from '../crm/assigns.ts';
import { getCustomerRow, toCustomer } from '../crm/customers.ts';
import { listFields } from '../crm/fields.ts';
import type { Lookup } from '../crm/lookup.ts';
import { listCustomers } from '../crm/search.ts';
import { forbidden, invalid, notFound } from '../errors.ts';
import { projectLimit, roleAllows } from '../access/roles.ts';
import { normalizePhone } from '../phone.ts';

export interface ConsoleApiDeps {
  config: Config;
  db: Db;
  lookup: Lookup;
}

/** Most customers a screen pop offers in its chooser. */
const MAX_POP = 20;
const Id = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
const agent = { role: 'agent' } as const;
/** Error answers, as every admin route documents them (the Error schema is the admin API's). */
const errors = (...codes: number[]) => Object.fromEntries([400, 401, 403, ...codes].map((c) => [c, Type.Ref('Error')]));

/**
 * The projects this request may see: null = every project (the bearer token, or a user whose
 * project_ids is absent). The admin API's access hook (access/roles.ts) puts the caller on the request.
 */
export function visibleProjects(request: FastifyRequest): readonly number[] | null {
  return projectLimit(request.principal);
}

const notYours = () => forbidden('This belongs to a project you have no access to');

async function projectsOf(q: Q, visible: readonly number[] | null): Promise<{ id: number; name: string }[]> {
  let query = q.selectFrom('projects').select(['id', 'name']).orderBy('id');
  if (visible !== null) {
    if (visible.length === 0) return [];
    query = query.where('id', 'in', [...visible]);
  }
  return query.execute();
}

/** A phone-like query: digits with the punctuation people type around them. */
const PHONE_LIKE = /^[+()\d\s.\-/]*\d[()\d\s.\-/]*$/;

export async function consoleApiRoutes(app: FastifyInstance, { config, db, lookup }: ConsoleApiDeps) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['console'];
  const country = config.defaultCountry;

  // A found customer with its project's name and its phone values (the project's phone fields, in order).
  // The phone field names are read per answer, so a field added a moment ago shows at once.
  const summaries = async (rows: CustomerRow[], projects: Map<number, string>) => {
    const phoneFields = new Map<number, Promise<string[]>>();
    const phonesOf = (projectId: number) => {
      let names = phoneFields.get(projectId);
      if (!names) {
        names = listFields(db.q, projectId).then((fs) => fs.filter((f) => f.type === 'phone').map((f) => f.display_name));
        phoneFields.set(projectId, names);
      }
      return names;
    };
    return Promise.all(
      rows.map(async (row) => {
        const c = toCustomer(row);
        const phones = (await phonesOf(row.project_id)).map((n) => c.fields[n]).filter((v): v is string => v !== undefined && v !== '');
        return { ...c, project_name: projects.get(row.project_id) ?? '', phones };
      }),
    );
  };

  r.get(
    '/console/projects',
    { config: agent, schema: { tags, summary: 'The projects the caller may see, with their fields (the new-customer form)', response: errors() } },
    async (req) => {
      const projects = await projectsOf(db.q, visibleProjects(req));
      const items = await Promise.all(projects.map(async (p) => ({ ...p, fields: (await listFields(db.q, p.id)).filter((f) => !(f as { archived?: boolean }).archived) })));
      return { items };
    },
  );

  r.get(
    '/console/pop',
    {
      config: agent,
      schema: {
        tags,
        summary: 'Screen pop: the customers holding a ringing number',
        description:
          'Same matching as get_data by phone: any spelling of the number; project_id, else the project of worker `agent`, else ' +
          "the DID's project, else every project the caller may see; a DID pinned to a repository narrows to that repository. " +
          'Customers of the project(s) whose phone fields hold the number but who are in no matching repository are included after those who are.',
        querystring: Type.Object({
          phone: Type.String({ minLength: 1, maxLength: 64 }),
          did: Type.Optional(Type.String({ maxLength: 64 })),
          agent: Type.Optional(Type.String({ maxLength: 32 })),
          project_id: Type.Optional(Type.String({ maxLength: 32 })),
        }),
        response: errors(),
      },
    },
    async (req) => {
      const phone = normalizePhone(req.query.phone.trim(), country);
      if (phone === '') throw invalid('phone holds no digit', { phone: 'a phone number needs at least one digit' });
      const visible = visibleProjects(req);
      const all = await projectsOf(db.q, visible);
      const names = new Map(all.map((p) => [p.id, p.name]));
      const asId = (s: string | undefined) => (s !== undefined && /^\d{1,15}$/.test(s.trim()) ? Number(s.trim()) : undefined);
      let scope = all.map((p) => p.id);
      const projectId = asId(req.query.project_id);
      const workerId = asId(req.query.agent);
      const did = req.query.did?.trim() ? normalizePhone(req.query.did.trim(), country) : undefined;
      if (projectId !== undefined) scope = scope.filter((id) => id === projectId);
      else if (workerId !== undefined && (await lookup.workerProject(workerId)) !== undefined) {
        const wp = await lookup.workerProject(workerId);
        scope = scope.filter((id) => id === wp);
      } else if (did) {
        const owners = await lookup.didProjects(did);
        if (owners.length > 0) scope = scope.filter((id) => owners.includes(id));
      }
      if (projectId !== undefined && visible !== null && !visible.includes(projectId)) throw notYours();

      const ids: number[] = [];
      for (const pid of scope) {
        const pinned = did ? await lookup.didPin(pid, did) : undefined;
        const views = await lookup.findByPhone(pid, phone, pinned == null ? {} : { repository_id: pinned });
        for (const v of views) if (!ids.includes(v.customer_id)) ids.push(v.customer_id);
        const holders = await listCustomers(db.q, pid, { phone }, { limit: MAX_POP });
        for (const c of holders.rows) if (!ids.includes(c.id)) ids.push(c.id);
        if (ids.length >= MAX_POP) break;
      }
      const rows = (await Promise.all(ids.slice(0, MAX_POP).map((id) => getCustomerRow(db.q, id)))).filter((c): c is CustomerRow => c !== undefined);
      return { phone, project_ids: scope, items: await summaries(rows, names) };
    },
  );

  r.get(
    '/console/search',
    {
      config: agent,
      schema: {
        tags,
        summary: "Search the caller's projects by phone (any spelling), name, email or id",
        description:
          'A phone-like `q` matches phone fields through the phone index, and a whole number also the customer with that id; ' +
          'agents may look up by number only (a name or email search needs the supervisor role: 403); ' +
          'any other `q` is a case-insensitive substring of any field value (a scan, as `GET /projects/:id/customers?q=`). ' +
          'Pages: keep walking `next_cursor` until it is null; a page may hold fewer than `limit` items.',
        querystring: Type.Object({
          q: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
          project_id: Type.Optional(Id),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
          cursor: Type.Optional(Type.String({ maxLength: 64 })),
        }),
        response: errors(),
      },
    },
    async (req) => {
      const q = req.query.q.trim();
      const limit = req.query.limit ?? 20;
      const visible = visibleProjects(req);
      if (req.query.project_id !== undefined && visible !== null && !visible.includes(req.query.project_id)) throw notYours();
      const all = await projectsOf(db.q, visible);
      const names = new Map(all.map((p) => [p.id, p.name]));
      const scope = all.map((p) => p.id).filter((id) => req.query.project_id === undefined || id === req.query.project_id);
      const cursor = decodeCursor(req.query.cursor);
      if (cursor === null) throw invalid('cursor is not a cursor of this list', { cursor: 'invalid' });

      const phoneLike = PHONE_LIKE.test(q);
      // admin-api.md: an agent reads its projects' customers; listing and searching is the supervisor's.
      // A number (a phone in any spelling, or an id) is a lookup; a name or an email is a search.
      const who = req.principal;
      if (!phoneLike && who?.kind === 'session' && !roleAllows(who.user.role, 'supervisor')) {
        throw forbidden('Agents look customers up by phone or id; searching by name or email needs the supervisor role');
      }
      const filter = phoneLike ? { phone: normalizePhone(q, country) } : { text: q };
      const items: CustomerRow[] = [];
      // The customer with this id first, on the first page only.
      if (cursor === undefined && /^\d{1,15}$/.test(q)) {
        const row = await getCustomerRow(db.q, Number(q));
        if (row && scope.includes(row.project_id)) items.push(row);
      }
      let start = cursor === undefined ? 0 : scope.indexOf(cursor.project);
      if (start < 0) start = scope.findIndex((id) => id > cursor!.project);
      let after = cursor?.after;
      for (let i = start; i >= 0 && i < scope.length; i++, after = undefined) {
        const pid = scope[i]!;
        const found = await listCustomers(db.q, pid, filter, { limit: limit - items.length, after });
        for (const row of found.rows) if (!items.some((c) => c.id === row.id)) items.push(row);
        if (found.next !== null) return { items: await summaries(items, names), next_cursor: encodeCursor(pid, found.next) };
        if (items.length >= limit) return { items: await summaries(items, names), next_cursor: i + 1 < scope.length ? encodeCursor(scope[i + 1]!, 0) : null };
      }
      return { items: await summaries(items, names), next_cursor: null };
    },
  );

  r.get(
    '/console/customers/:customer_id',
    {
      config: agent,
      schema: {
        tags,
        summary: 'The customer card: the customer, its project, fields, statuses and assigns with repository and status names',
        params: Type.Object({ customer_id: Id }),
        response: errors(404),
      },
    },
    async (req) => {
      const row = await getCustomerRow(db.q, req.params.customer_id);
      if (!row) throw notFound('customer', req.params.customer_id);
      const visible = visibleProjects(req);
      if (visible !== null && !visible.includes(row.project_id)) throw notYours();
      const pid = row.project_id;
      const [project, fields, statuses, repositories, workers, assigns] = await Promise.all([
        db.q.selectFrom('projects').select(['id', 'name']).where('id', '=', pid).executeTakeFirstOrThrow(),
        listFields(db.q, pid),
        activeRows(db.q, 'statuses', pid),
        activeRows(db.q, 'repositories', pid),
        activeRows(db.q, 'workers', pid),
        listAssigns(db.q, { customer_id: row.id }, { limit: 100 }),
      ]);
      const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
      return {
        customer: toCustomer(row),
        project,
        fields: fields.filter((f) => !(f as { archived?: boolean }).archived),
        statuses,
        repositories,
        workers,
        assigns: assigns.map((a) => ({
          id: a.id,
          repository_id: a.repository_id,
          worker_id: a.worker_id,
          status_id: a.status_id,
          last_call: iso(a.last_call_at),
          last_notes: a.last_notes,
        })),
      };
    },
  );
}

/** A project's statuses, repositories or workers by id, name (archived ones too: old history names them). */
async function activeRows(q: Q, table: 'statuses' | 'repositories' | 'workers', projectId: number) {
  return q.selectFrom(table).select(['id', 'name']).where('project_id', '=', projectId).orderBy('id').execute();
}

function encodeCursor(project: number, after: number): string {
  return Buffer.from(`cs:${project}:${after}`).toString('base64url');
}

function decodeCursor(cursor: string | undefined): { project: number; after: number | undefined } | undefined | null {
  if (cursor === undefined || cursor === '') return undefined;
  const m = /^cs:(\d{1,15}):(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) return null;
  const after = Number(m[2]);
  return { project: Number(m[1]), after: after === 0 ? undefined : after };
}
