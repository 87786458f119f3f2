// Finding the project and the assigns of a caller: shared by get_data and set_data by phone.
import { normalizePhone } from '../phone.ts';
import type { AssignView, Filters } from '../crm/lookup.ts';
import type { TelephonyContext } from './context.ts';
import { parseId, type Params } from './params.ts';

export type ProjectResolution = { ok: true; projectId: number } | { ok: false; message?: string };

/**
 * The project is project_id if given, else the project of worker_id (which does not filter rows).
 * With CRM_DID_OPTIONAL and neither given, a DID registered to exactly one project names it.
 */
export async function resolveProject(ctx: TelephonyContext, p: Params): Promise<ProjectResolution> {
  const projectParam = p.get('project_id');
  const workerParam = p.get('worker_id');
  const lookup = ctx.lookup;
  if (projectParam !== undefined) {
    const id = parseId(projectParam);
    if (id !== undefined && (await lookup.projectExists(id))) return { ok: true, projectId: id };
    return { ok: false, message: `Unknown project_id: ${projectParam}` };
  }
  if (workerParam !== undefined) {
    const id = parseId(workerParam);
    const projectId = id === undefined ? undefined : await lookup.workerProject(id);
    if (projectId !== undefined) return { ok: true, projectId };
    return { ok: false, message: `Unknown worker_id: ${workerParam}` };
  }
  const did = p.get('did');
  if (ctx.config.didOptional && did !== undefined) {
    const projects = await lookup.didProjects(normalizePhone(did, ctx.config.defaultCountry));
    if (projects.length === 1) return { ok: true, projectId: projects[0]! };
    return { ok: false, message: `DID ${did} is not registered to exactly one project; give project_id or worker_id` };
  }
  return { ok: false };
}

/** True when the request carries what a by-phone lookup needs besides the project (did per the DID rule). */
export function hasDid(ctx: TelephonyContext, p: Params): boolean {
  if (p.get('did') !== undefined) return true;
  return ctx.config.didOptional && (p.get('project_id') !== undefined || p.get('worker_id') !== undefined);
}

/**
 * Optional filters. A value that is not an id matches nothing (it cannot equal any row), so it is kept
 * as an impossible id rather than ignored: ignoring it would widen the answer.
 */
export function readFilters(p: Params): Filters {
  const f: Filters = {};
  for (const name of ['repository_id', 'group_id', 'site_id'] as const) {
    const v = p.get(name);
    if (v !== undefined) f[name] = parseId(v) ?? -1;
  }
  return f;
}

/** Assigns of the project for this caller, narrowed by filters and by a DID pinned to a repository. */
export async function findCallerAssigns(ctx: TelephonyContext, projectId: number, p: Params, limit?: number): Promise<AssignView[]> {
  const country = ctx.config.defaultCountry;
  const filters = readFilters(p);
  const did = p.get('did');
  if (did !== undefined) {
    const pinned = await ctx.lookup.didPin(projectId, normalizePhone(did, country));
    if (pinned != null) {
      if (filters.repository_id !== undefined && filters.repository_id !== pinned) return [];
      filters.repository_id = pinned;
    }
  }
  const phone = normalizePhone(p.get('phone')!, country);
  if (phone === '') return [];
  return ctx.lookup.findByPhone(projectId, phone, filters, limit);
}
