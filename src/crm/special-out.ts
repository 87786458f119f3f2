// get_data's special out names: values every assign has, answered by name rather than from a form field.
// The one list: fields.ts refuses them as display_names (a field of that name would be shadowed), and
// telephony/get-data.ts answers them.

/** What a special name is read from: an assign with its repository, status and last call (lookup.ts's AssignView). */
export interface AssignFacts {
  id: number;
  project_id: number;
  repository_id: number;
  repository_name: string;
  customer_id: number;
  group_id: number | null;
  site_id: number | null;
  worker_id: number | null;
  status_id: number | null;
  status_name: string | null;
  last_call_at: number | null;
  last_notes: string | null;
}

/** A special value as the PHP stack answered it: a string or null; `dateTime` prints a legacy date-time. */
type Answer = (r: AssignFacts, dateTime: (ms: number) => string) => string | null;

const str = (v: number | null) => (v === null ? null : String(v));

export const SPECIAL_OUT: ReadonlyMap<string, Answer> = new Map<string, Answer>([
  ['uid', (r) => String(r.customer_id)],
  ['repository_assign_id', (r) => String(r.id)],
  ['repository_id', (r) => String(r.repository_id)],
  ['repository_name', (r) => r.repository_name],
  ['last_status', (r) => r.status_name],
  ['last_status_id', (r) => str(r.status_id)],
  ['last_call', (r, dateTime) => (r.last_call_at === null ? null : dateTime(r.last_call_at))],
  ['last_notes', (r) => r.last_notes],
  ['project_id', (r) => String(r.project_id)],
  ['group_id', (r) => str(r.group_id)],
  ['site_id', (r) => str(r.site_id)],
  ['worker_id', (r) => str(r.worker_id)],
]);
