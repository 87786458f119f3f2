// Per-project settings of the inbound integrations (3CX, VICIdial, Asterisk): which fields are a
// contact's name, email and phones; which callcrm status a VICIdial disposition means.
// Read on every adapter request (one primary-key read): settings change rarely, but a change made in one
// process must hold at once in every other, so nothing is remembered.
import type { Q } from '../db/connect.ts';
import { unprocessable } from '../errors.ts';
import { getProject } from './setup.ts';
import { listFields } from './fields.ts';

export interface ThreeCxSettings {
  first_name_field?: string;
  last_name_field?: string;
  company_field?: string;
  email_field?: string;
  phone_fields?: string[];
}
export interface VicidialSettings {
  status_map: Record<string, number>;
}
export interface AsteriskSettings {
  name_fields: string[];
}
export interface IntegrationSettings {
  '3cx': ThreeCxSettings;
  vicidial: VicidialSettings;
  asterisk: AsteriskSettings;
}
export type IntegrationKind = keyof IntegrationSettings;

/** What a project that never configured an integration gets: the seed's usual field names. */
export const DEFAULTS: IntegrationSettings = {
  '3cx': {},
  vicidial: { status_map: {} },
  asterisk: { name_fields: [] },
};

export async function getSettings<K extends IntegrationKind>(q: Q, projectId: number, kind: K): Promise<IntegrationSettings[K]> {
  const row = await q.selectFrom('integration_settings').select('settings').where('project_id', '=', projectId).where('kind', '=', kind).executeTakeFirst();
  return row ? (JSON.parse(row.settings) as IntegrationSettings[K]) : DEFAULTS[kind];
}

/** Replaces a project's settings of one integration after checking every named field and status belongs to it (422). */
export async function putSettings<K extends IntegrationKind>(trx: Q, projectId: number, kind: K, settings: IntegrationSettings[K]): Promise<IntegrationSettings[K]> {
  await getProject(trx, projectId);
  const fieldNames = new Set((await listFields(trx, projectId)).map((f) => f.display_name));
  const named: string[] = [];
  if (kind === '3cx') {
    const s = settings as ThreeCxSettings;
    for (const k of ['first_name_field', 'last_name_field', 'company_field', 'email_field'] as const) if (s[k] !== undefined) named.push(s[k]);
    named.push(...(s.phone_fields ?? []));
  } else if (kind === 'asterisk') named.push(...(settings as AsteriskSettings).name_fields);
  const unknown = named.filter((n) => !fieldNames.has(n));
  if (unknown.length > 0) throw unprocessable(`unknown fields: ${unknown.join(', ')}`, Object.fromEntries(unknown.map((n) => [n, 'no such field in this project'])));
  if (kind === 'vicidial') {
    const ids = [...new Set(Object.values((settings as VicidialSettings).status_map))];
    const found = ids.length === 0 ? [] : await trx.selectFrom('statuses').select('id').where('project_id', '=', projectId).where('id', 'in', ids).execute();
    const missing = ids.filter((id) => !found.some((f) => f.id === id));
    if (missing.length > 0) throw unprocessable(`statuses not in this project: ${missing.join(', ')}`, { status_map: `statuses ${missing.join(', ')} do not exist in this project` });
  }
  const now = Date.now();
  const text = JSON.stringify(settings);
  await trx
    .insertInto('integration_settings')
    .values({ project_id: projectId, kind, settings: text, updated_at: now })
    .onConflict((oc) => oc.columns(['project_id', 'kind']).doUpdateSet({ settings: text, updated_at: now }))
    .execute();
  return settings;
}
