// Dates and times in CRM_TIMEZONE, in the user's language; phones in national format (console.md).
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/min';
import { COUNTRY, TIMEZONE } from './api.ts';
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

/**
 * A phone as people of the country write it: 052-739-4417 for an Israeli number (the index stores
 * E.164, +972527394417), international format for another country's, and as given when it does not
 * parse as a number (the CRM keeps whatever the call center stored).
 */
export function formatPhone(phone: string): string {
  const parsed = parsePhoneNumberFromString(phone, COUNTRY as CountryCode);
  if (!parsed?.isValid()) return phone;
  return parsed.country === COUNTRY ? parsed.formatNational() : parsed.formatInternational();
}
