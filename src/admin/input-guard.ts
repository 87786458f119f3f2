// What the admin API refuses before its schemas run: text holding U+0000, and integers that are not plain
// decimal digits. Both are 400s naming the field, identical on both databases.
import type { FastifyRequest } from 'fastify';
import { invalid } from '../errors.ts';
import { isDecimal, MAX_ID } from '../ids.ts';

/**
 * U+0000 never reaches the database (telephony-api.md "Legacy realities"): PostgreSQL cannot store it in
 * text (a 500 before this check), SQLite can, and both must behave alike. Names, customer fields, notes,
 * query filters and object keys are all checked, so the answer names the field instead of the database
 * failing mid-write.
 */
export async function refuseNul(request: FastifyRequest) {
  const path = nulPath(request.query, '') ?? nulPath(request.body, '');
  if (path !== undefined) throw invalid(`${path || 'body'} must not contain U+0000 (a NUL character)`, { [path || 'body']: 'contains U+0000' });
}

/** The dotted path of the first string or key holding U+0000, or undefined. Bounded by the body limit. */
function nulPath(v: unknown, at: string): string | undefined {
  if (typeof v === 'string') return v.includes('\u0000') ? at : undefined;
  if (v === null || typeof v !== 'object') return undefined;
  // Parsed JSON and queries only: a streamed body (imports) is a stream, checked row by row by the importer.
  if (Buffer.isBuffer(v) || typeof (v as { pipe?: unknown }).pipe === 'function') return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = nulPath(v[i], at ? `${at}.${i}` : String(i));
      if (p !== undefined) return p;
    }
    return undefined;
  }
  for (const [k, x] of Object.entries(v)) {
    const here = at ? `${at}.${k}` : k;
    if (k.includes('\u0000')) return here.replace(/\u0000/g, '\\0');
    const p = nulPath(x, here);
    if (p !== undefined) return p;
  }
  return undefined;
}

type JsonSchema = { type?: unknown; anyOf?: JsonSchema[]; properties?: Record<string, JsonSchema> };
const isInteger = (s: JsonSchema | undefined): boolean => s !== undefined && (s.type === 'integer' || (s.anyOf ?? []).some(isInteger));

/**
 * The schemas' type coercion would read `limit=1e3` as 1000, `assign_id=0x10` as 16 and `10.0` as 10.
 * Integers in queries are plain decimal digits, and ids stay within the id bound (src/ids.ts).
 */
export async function strictQueryIntegers(request: FastifyRequest) {
  const props = (request.routeOptions.schema?.querystring as JsonSchema | undefined)?.properties;
  const query = request.query as Record<string, unknown> | undefined;
  if (!props || !query) return;
  for (const [name, schema] of Object.entries(props)) {
    if (!isInteger(schema)) continue;
    for (const value of [query[name]].flat()) {
      if (typeof value !== 'string') continue;
      // The lower bound is the schema's (status_id=0 means "no status" in some filters); the upper one
      // is the id bound for every *_id.
      const isId = name.endsWith('id');
      if (!isDecimal(value) || (isId && Number(value) > MAX_ID)) {
        const rule = isId ? `a whole number in plain digits, at most ${MAX_ID}` : 'a whole number in plain digits';
        throw invalid(`${name} must be ${rule}`, { [name]: `must be ${rule}` });
      }
    }
  }
}
