// Dates and times in CRM_TIMEZONE, in the user's language.
import { TIMEZONE } from './api.ts';
import type { Lang } from './i18n.ts';

const cache = new Map<string, Intl.DateTimeFormat>();

export function formatDateTime(iso: string | null, lang: Lang): string {
  if (!iso) return '';
  const key = lang;
  let f = cache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(lang === 'he' ? 'he-IL' : 'en-GB', { timeZone: TIMEZONE, dateStyle: 'medium', timeStyle: 'short' });
    cache.set(key, f);
  }
  return f.format(new Date(iso));
}

/** A field value as a person reads it: the name fields joined, or the first value. */
export function customerName(fields: Record<string, string>): string {
  const first = fields.first_name ?? fields.firstname ?? '';
  const last = fields.last_name ?? fields.lastname ?? '';
  const joined = `${first} ${last}`.trim();
  return joined || fields.name || fields.full_name || '';
}
