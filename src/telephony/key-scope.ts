// A named key limited to projects (access/keys.ts) answers code 1 for any other project. The project of
// a request is found before its handler runs, the way the handler will find it: the assigns named by
// repository_assign_id (an assign never changes project), else resolveProject (project_id, the worker's
// project, or a DID). Only requests with such a key pay for this read.
import type { Endpoint } from '../config.ts';
import type { TelephonyContext } from './context.ts';
import { parseId, type Params } from './params.ts';
import { resolveProject } from './target.ts';

/** Most assign ids looked at (get_data answers at most this many; see get-data.ts MAX_ASSIGN_IDS). */
const MAX_IDS = 100;

/** True when every project the request touches is one of `allowed`. Unknown rows are the handler's to answer. */
export async function keyScopeAllows(ctx: TelephonyContext, endpoint: Endpoint, p: Params, allowed: readonly number[]): Promise<boolean> {
  const projectParam = p.get('project_id');
  if (projectParam !== undefined) {
    const id = parseId(projectParam);
    if (id !== undefined && !allowed.includes(id)) return false;
  }
  const assignParam = p.get('repository_assign_id');
  if (assignParam !== undefined) {
    const raw = endpoint === 'get_data' ? assignParam.split(',') : [assignParam];
    const ids = [...new Set(raw.map((s) => parseId(s.trim())).filter((n): n is number => n !== undefined))].slice(0, MAX_IDS);
    if (ids.length === 0) return true;
    const rows = await ctx.db.read.selectFrom('assigns').select('project_id').distinct().where('id', 'in', ids).execute();
    return rows.every((r) => allowed.includes(r.project_id));
  }
  const project = await resolveProject(ctx, p);
  return !project.ok || allowed.includes(project.projectId);
}
