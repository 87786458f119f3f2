// Form fields: the project's customer schema, and the one place a value is validated by its type.
import type { Q } from '../db/connect.ts';
import type { FieldRow, FieldType } from '../db/schema.ts';
import { advanceIdSequence, isUniqueViolation } from '../db/dialect.ts';
import { conflict, invalid } from '../errors.ts';
import { normalizePhone, type CountryCode } from '../phone.ts';
import { SPECIAL_OUT } from './special-out.ts';
import { parseDate, type DateOrder } from './dates.ts';
import { cleanPhoneCell } from './phone-cells.ts';
import { bumpSetupVersion } from './setup-version.ts';

export const FIELD_TYPES: readonly FieldType[] = ['text', 'phone', 'email', 'number', 'date', 'select'];

export interface Field {
  id: number;
  project_id: number;
  display_name: string;
  label: string;
  type: FieldType;
  unique: boolean;
  required: boolean;
  options: string[] | null;
  position: number;
  /** retired: get_data answers null, set_data and imports treat it as unknown (admin-api.md) */
  archived: boolean;
}

export function toField(row: FieldRow): Field {
  return {
    id: row.id,
    project_id: row.project_id,
    display_name: row.display_name,
    label: row.label,
    type: row.type,
    unique: Boolean(row.is_unique),
    required: Boolean(row.is_required),
    options: row.options === null ? null : (JSON.parse(row.options) as string[]),
    position: row.position,
    archived: row.archived_at !== null,
  };
}

/**
 * A project's fields in form order: those in use, or with `archived: true` the archived ones too.
 * Validation, imports and exports see the fields in use only, so an archived field is an unknown name.
 */
export async function listFields(q: Q, projectId: number, opts: { archived?: boolean } = {}): Promise<Field[]> {
  let query = q.selectFrom('fields').selectAll().where('project_id', '=', projectId);
  if (!opts.archived) query = query.where('archived_at', 'is', null);
  const rows = await query.orderBy('position').orderBy('id').execute();
  return rows.map(toField);
}

export interface FieldInput {
  id?: number;
  display_name: string;
  label?: string;
  type?: FieldType;
  unique?: boolean;
  required?: boolean;
  options?: string[];
}

/** Names the telephony API reserves; a field may not take them (it could never be written by set_data). */
export const RESERVED_PARAMS: ReadonlySet<string> = new Set([
  'authkey', 'repository_assign_id', 'project_id', 'worker_id', 'phone', 'did', 'group_id', 'repository_id',
  'site_id', 'status_id', 'notes', 'call_id',
]);
/**
 * Names that JavaScript gives every object (or its constructor): a client keying a map by display_name
 * with a plain object would corrupt it. Other member names (valueOf, toString...) are ordinary fields:
 * every map of ours keyed by display_name has a null prototype or is a Map.
 */
export const OBJECT_MEMBER_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
/**
 * Reserved names a form field may still take: `notes` and `call_id` are our own extensions of set_data,
 * not the vendor's, and a field of that name wins over the extension (telephony-api.md).
 */
const FIELD_MAY_TAKE = new Set(['phone', 'notes', 'call_id']);
/** A display_name: a letter (any script: Hebrew labels are common) or _, then letters, marks, digits or _. */
const DISPLAY_NAME = /^[\p{L}_][\p{L}\p{M}0-9_]{0,63}$/u;
/** Columns the export/import format uses for itself. */
const IMPORT_COLUMNS = new Set(['id', 'status_id', 'repository_assign_id']);

/** A display_name a field may take (create and rename), trimmed; else a 400. */
export function checkDisplayName(raw: string): string {
  const name = raw.trim();
  // `phone` is reserved as a lookup key but is also the natural name of a phone field; set_data treats it
  // as a field update in by-assign mode (telephony-api.md), so it stays allowed.
  if (!DISPLAY_NAME.test(name)) {
    throw invalid('display_name must be 1-64 letters (any alphabet), digits 0-9 or _, and not start with a digit', { display_name: 'invalid' });
  }
  if (OBJECT_MEMBER_NAMES.has(name)) {
    throw invalid(`display_name ${name} is not allowed: it names a JavaScript object's own machinery, which client code mishandles`, { display_name: 'reserved' });
  }
  if ((RESERVED_PARAMS.has(name) && !FIELD_MAY_TAKE.has(name)) || SPECIAL_OUT.has(name) || IMPORT_COLUMNS.has(name)) {
    throw invalid(`display_name ${name} is reserved by the telephony API`, { display_name: 'reserved' });
  }
  return name;
}

/** The options a field of this type may hold (create and PATCH); else a 400. */
export function checkOptions(type: FieldType, given: string[] | undefined): string[] | null {
  if (type === 'select') {
    const options = (given ?? []).map((o) => o.trim()).filter(Boolean);
    if (options.length === 0) throw invalid('a select field needs a non-empty options list', { options: 'required for select' });
    return options;
  }
  if (given && given.length > 0) throw invalid('options are only for select fields', { options: 'only for select' });
  return null;
}

export async function createField(q: Q, projectId: number, input: FieldInput): Promise<Field> {
  const type = input.type ?? 'text';
  const name = checkDisplayName(input.display_name);
  const options = checkOptions(type, input.options);
  const last = await q.selectFrom('fields').select((eb) => eb.fn.max('position').as('p')).where('project_id', '=', projectId).executeTakeFirst();
  try {
    const row = await q
      .insertInto('fields')
      .values({
        ...(input.id !== undefined ? { id: input.id } : {}),
        project_id: projectId,
        display_name: name,
        label: input.label?.trim() || name,
        type,
        is_unique: input.unique ? 1 : 0,
        is_required: input.required ? 1 : 0,
        options: options === null ? null : JSON.stringify(options),
        position: Number(last?.p ?? 0) + 1,
        created_at: Date.now(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    if (input.id !== undefined) await advanceIdSequence(q, 'fields', input.id);
    await bumpSetupVersion(q);
    return toField(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`field ${input.id !== undefined ? `id ${input.id} or ` : ''}display_name ${name} already exists`);
    throw err;
  }
}

export type Validated = { ok: true; value: string } | { ok: false; reason: string };

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)$/;
const MAX_VALUE_LENGTH = 10_000;

/** How values of the server's country are read (CRM_DEFAULT_COUNTRY, CRM_DATE_ORDER). */
export interface ValueRules {
  country: CountryCode;
  dateOrder: DateOrder;
}

/** The configuration's defaults (IL, DMY), for callers that are not handed a Config. */
export const DEFAULT_VALUE_RULES: ValueRules = Object.freeze({ country: 'IL', dateOrder: 'DMY' });

/** The rules of a Config (CRM_DEFAULT_COUNTRY, CRM_DATE_ORDER). */
export function valueRules(config: { defaultCountry: CountryCode; dateOrder: DateOrder }): ValueRules {
  return { country: config.defaultCountry, dateOrder: config.dateOrder };
}

/**
 * Validates a value for a field by its type. The value is stored as entered (trimmed), except dates
 * (stored as YYYY-MM-DD) and phones (Excel's artefacts cleaned, phone-cells.ts); '' is no value (it
 * clears the field), which a required field refuses.
 */
export function validateValue(field: Field, raw: string, rules: ValueRules = DEFAULT_VALUE_RULES): Validated {
  const value = raw.trim();
  if (value === '') return field.required ? { ok: false, reason: `${field.display_name} is required` } : { ok: true, value };
  if (value.length > MAX_VALUE_LENGTH) return { ok: false, reason: `longer than ${MAX_VALUE_LENGTH} characters` };
  // U+0000 never reaches the database (PostgreSQL cannot store it): a field error on every path.
  if (value.includes('\u0000')) return { ok: false, reason: 'contains U+0000 (a NUL character)' };
  switch (field.type) {
    case 'email':
      return EMAIL.test(value) ? { ok: true, value } : { ok: false, reason: 'not a valid email address' };
    case 'number':
      return NUMBER.test(value) && Number.isFinite(Number(value)) ? { ok: true, value } : { ok: false, reason: 'not a number' };
    case 'date':
      return parseDate(value, rules.dateOrder);
    case 'select':
      return field.options?.includes(value) ? { ok: true, value } : { ok: false, reason: `not one of the options: ${field.options?.join(', ')}` };
    case 'phone':
      return cleanPhoneCell(value, rules.country);
    default:
      return { ok: true, value };
  }
}

/**
 * The value a unique field is compared by: phones by meaning (normalized), emails case-insensitively,
 * everything else exactly as stored.
 */
export function uniqueKey(field: Field, value: string, country: CountryCode): string {
  if (field.type === 'phone') return normalizePhone(value, country);
  if (field.type === 'email') return value.toLowerCase();
  return value;
}
