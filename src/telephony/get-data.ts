// get_data.php: who is calling this number, in this campaign? Runs inside every live call.
import { parseData } from '../crm/customers.ts';
import { SPECIAL_OUT } from '../crm/special-out.ts';
import type { AssignView } from '../crm/lookup.ts';
import { GET_DATA, fail, success } from './codes.ts';
import type { Handler, TelephonyContext } from './context.ts';
import { legacyDateTime } from './legacy-time.ts';
import { parseId, type Params } from './params.ts';
import { findCallerAssigns, hasDid, readFilters, resolveProject } from './target.ts';

/** Most ids one by-assign request may list. */
export const MAX_ASSIGN_IDS = 100;

export const getData: Handler = async (ctx, { params: p, out }) => {
  if (p.get('repository_assign_id') !== undefined) {
    if (!out) return { envelope: fail(GET_DATA.out) };
    return { envelope: await byAssign(ctx, p, out) };
  }

  if (!hasDid(ctx, p)) return { envelope: fail(GET_DATA.did) };
  if (p.get('phone') === undefined) return { envelope: fail(GET_DATA.phone) };
  if (!out) return { envelope: fail(GET_DATA.out) };
  const project = await resolveProject(ctx, p);
  if (!project.ok) return { envelope: fail(GET_DATA.project, project.message) };

  const rows = await findCallerAssigns(ctx, project.projectId, p);
  warnUnknownOut(ctx, project.projectId, out);
  return { envelope: success(rows.map((r) => render(r, out, ctx.config.timezone))), projectId: project.projectId };
};

async function byAssign(ctx: TelephonyContext, p: Params, out: string[]) {
  const ids = p
    .get('repository_assign_id')!
    .split(',')
    .map((s) => parseId(s.trim()))
    .filter((n): n is number => n !== undefined);
  // A non-numeric id counts as not existing; duplicates answer once, in the order first given.
  const unique = [...new Set(ids)].slice(0, MAX_ASSIGN_IDS);
  const found = new Map((await ctx.lookup.findByIds(unique)).map((r) => [r.id, r]));
  const filters = readFilters(p);
  const projectId = p.get('project_id') !== undefined ? (parseId(p.get('project_id')) ?? -1) : undefined;
  // worker_id, like in the by-phone mode, stands for its project: it matches an assign of the worker's
  // project (a decision: requiring assign.worker_id to equal it would fail every unassigned lead).
  let workerProjectId: number | undefined;
  if (p.get('worker_id') !== undefined) {
    const wid = parseId(p.get('worker_id'));
    workerProjectId = (wid === undefined ? undefined : await ctx.lookup.workerProject(wid)) ?? -1;
  }
  const rows: AssignView[] = [];
  for (const id of unique) {
    const r = found.get(id);
    if (!r) continue;
    if (projectId !== undefined && r.project_id !== projectId) continue;
    if (workerProjectId !== undefined && r.project_id !== workerProjectId) continue;
    if (filters.repository_id !== undefined && r.repository_id !== filters.repository_id) continue;
    if (filters.group_id !== undefined && r.group_id !== filters.group_id) continue;
    if (filters.site_id !== undefined && r.site_id !== filters.site_id) continue;
    rows.push(r);
  }
  if (rows.length === 0) return fail(GET_DATA.noAssign);
  warnUnknownOut(ctx, rows[0]!.project_id, out);
  return success(rows.map((r) => render(r, out, ctx.config.timezone)));
}

/**
 * One answer row: `uid` first, then each `out` name in order. Values are strings or null, as the PHP
 * stack returned them. A name that is neither special nor a field answers null: a renamed field must
 * not break a live call flow. A null-prototype object, so an out name like __proto__ is just a key.
 */
function render(r: AssignView, out: string[], tz: string): Record<string, string | null> {
  const data = parseData(r.data);
  const dateTime = (ms: number) => legacyDateTime(ms, tz);
  const row: Record<string, string | null> = Object.create(null);
  row.uid = String(r.customer_id);
  for (const name of out) {
    const special = SPECIAL_OUT.get(name);
    row[name] = special ? special(r, dateTime) : Object.hasOwn(data, name) ? data[name]! : null;
  }
  return row;
}

/**
 * Unknown out names are logged, never an error; the client decides how many, so the lines are
 * rate-limited per project and name and overall (http/client-warnings.ts).
 */
function warnUnknownOut(ctx: TelephonyContext, projectId: number, out: string[]) {
  void ctx.fieldNames(projectId).then(
    (names) => {
      for (const n of out) {
        if (names.has(n) || SPECIAL_OUT.has(n)) continue;
        ctx.warnings.warn(`out\u0000${projectId}\u0000${n}`, { project_id: projectId, out: n.slice(0, 100) }, 'get_data out names an unknown field; answered null');
      }
    },
    () => undefined,
  );
}
