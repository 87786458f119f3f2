// Statuses (dispositions) are per project; an assign may only take one of its own project's.
import type { Q } from '../db/connect.ts';

export async function statusOfProject(q: Q, statusId: number, projectId: number): Promise<boolean> {
  const row = await q.selectFrom('statuses').select('project_id').where('id', '=', statusId).executeTakeFirst();
  return row !== undefined && row.project_id === projectId;
}
