// Random and hostile requests to the three legacy endpoints, and the properties every answer must have.
// Shared by test/fuzz.test.ts (a CI-sized run per dialect) and scripts/fuzz.ts (a long run).
//
// Properties: never a 5xx; always the JSON envelope with a numeric code and a matching status; and on
// every failure code, the CRM's data exactly as before the request.
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../src/db/connect.ts';
import { KEYS } from './helpers.ts';

export type Endpoint = 'get_data' | 'set_data' | 'set_status';

export interface FuzzRequest {
  endpoint: Endpoint;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'OPTIONS' | 'HEAD';
  /** Already encoded, appended after `?` (may be hostile: broken escapes, invalid UTF-8). */
  query: string;
  headers: Record<string, string>;
  payload?: string;
}

// authkey is among the hostile names (rarer): a random value would mostly override the key under test.
const RESERVED = ['repository_assign_id', 'project_id', 'worker_id', 'phone', 'did', 'group_id', 'repository_id', 'site_id', 'status_id', 'notes', 'call_id', 'out'];
const FIELDS = ['first_name', 'last_name', 'mobile', 'home', 'email', 'city', 'age', 'birthday', 'plan'];
const HOSTILE_NAMES = ['authkey', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', 'a[]', 'status_id[]', 'authkey[]', 'out[0]', 'x[y][z]', '', ' ', 'city ', 'CITY', 'שם_פרטי', '\u202Eeman_tsrif', 'na\u0000me', "city'--", 'email"'];

const SQLISH = [
  "' OR '1'='1", "'; DROP TABLE customers; --", '" OR ""="', '1; DELETE FROM assigns', "2190811' --", '1 UNION SELECT * FROM audit_log',
  "\\'; SELECT pg_sleep(10); --", '%', '_', '\\', "O'Brien", '$1', '?', ':name', '/*', '*/',
];
const UNICODE = ['שלום עולם', 'مرحبا', '\u202Ereversed\u202C', '\u200F\u200E', 'ÅÄÖ', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '👨‍👩‍👧‍👦', 'e\u0301', '\uFEFF', '\u0000', '\r\n', '\t', 'ＡＢＣ１２３', '\u2028'];
const IDS = ['2190811', '555', '123', '10', '99', '7', '8', '3', '4', '2', '0', '-1', '1e3', '0x10', '1.5', '99999999999999999999', ' 2190811 ', '2190811,555', '555,abc,2190811', '２１９０８１１', '00002190811', 'NaN', 'Infinity', 'null', 'undefined', 'true', '[]', '{}'];
const PHONES = ['050-000-0000', '0500000000', '+972500000000', '972500000000', '07333333333', '039999999', '+1 (555) 010-9999', 'abc', '+', '00', '05000000000000000000000000'];
// Values around the limits (10,000 characters per field, 64 KiB per value, 1 MiB per body), built once.
const BIG = [10_000, 10_001, 65_536, 65_537, 300_000, 1_100_000].flatMap((n) => ['a', 'ש', '😀'].map((c) => c.repeat(Math.ceil(n / Buffer.byteLength(c)))));

const idValue = fc.constantFrom(...IDS);
const valueArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: idValue },
  { weight: 2, arbitrary: fc.constantFrom(...PHONES) },
  { weight: 2, arbitrary: fc.constantFrom(...SQLISH) },
  { weight: 2, arbitrary: fc.constantFrom(...UNICODE) },
  { weight: 2, arbitrary: fc.constantFrom('john@mail.com', 'not-an-email', '2024-02-29', '2023-02-29', 'basic', 'gold', 'GOLD', '42', '-0', '1e999', 'first_name,email,uid,last_call,__proto__', 'uid', '') },
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
);

const nameArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...RESERVED) },
  { weight: 4, arbitrary: fc.constantFrom(...FIELDS) },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_NAMES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

const pairsArb = fc.array(fc.tuple(nameArb, valueArb), { maxLength: 12 });

/** Where the key goes: a valid one most of the time, so the property reaches past authentication. */
const keyArb = (endpoint: Endpoint) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.record({ where: fc.constantFrom('query', 'body', 'header'), key: fc.constant<string>(KEYS[endpoint]) }) },
    { weight: 1, arbitrary: fc.record({ where: fc.constantFrom('query', 'body', 'header'), key: fc.constantFrom(KEYS.get_data, KEYS.set_data, KEYS.set_status, `${KEYS[endpoint]} `, KEYS[endpoint].toLowerCase(), '', 'x') }) },
    { weight: 1, arbitrary: fc.constant({ where: 'none' as const, key: '' }) },
  );

/** Valid-looking targets, so that a fair share of requests gets as far as the database. */
const targetArb = fc.constantFrom<[string, string][]>(
  [['repository_assign_id', '2190811']],
  [['repository_assign_id', '555']],
  [['repository_assign_id', '2190811'], ['status_id', '10']],
  [['repository_assign_id', '555'], ['status_id', '2'], ['call_id', 'c-1']],
  [['did', '07333333333'], ['phone', '050-000-0000'], ['project_id', '10']],
  [['did', '039999999'], ['phone', '0500000000'], ['worker_id', '99']],
  [['repository_assign_id', '2190811'], ['out', 'first_name,last_name,last_status,last_call,email,nope']],
  [],
);

const RAW_SUFFIXES = ['', '', '', '&%', '&%zz=1', '&a=%ED%A0%80', '&%C0%AF=1', '&&&', '&=x', '&status_id', '&a+b=c+d', '&city=%00', '&notes=%F0%9F%98%80', '&;=;'];

type BodyKind = 'none' | 'form' | 'json' | 'multipart' | 'malformed';

const jsonScalar = fc.oneof(valueArb, fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
const jsonValue = fc.oneof({ weight: 6, arbitrary: jsonScalar }, { weight: 1, arbitrary: fc.array(jsonScalar, { maxLength: 3 }) }, { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 5 }), jsonScalar, { maxKeys: 3 }) });

const MALFORMED: { type: string; payload: string }[] = [
  { type: 'application/json', payload: '{"authkey": ' },
  { type: 'application/json', payload: '[1,2,3]' },
  { type: 'application/json', payload: '"just a string"' },
  { type: 'application/json', payload: 'null' },
  { type: 'application/json', payload: '{"a":1}garbage' },
  { type: 'application/json', payload: '{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}' },
  { type: 'application/json', payload: '{"a": ' + '['.repeat(5000) + ']'.repeat(5000) + '}' },
  { type: 'application/json; charset=utf-16', payload: '{}' },
  { type: 'text/plain', payload: 'authkey=x' },
  { type: 'application/xml', payload: '<a>1</a>' },
  { type: 'application/octet-stream', payload: '\u0000\u0001\u0002' },
  { type: 'multipart/form-data', payload: 'no boundary' },
  { type: 'multipart/form-data; boundary=B', payload: '--B\r\nContent-Disposition: form-data; name="a"\r\n\r\nunterminated' },
  { type: 'multipart/form-data; boundary=B', payload: '--B\r\nContent-Disposition: form-data; name="f"; filename="x.csv"\r\n\r\n1,2\r\n--B--\r\n' },
  { type: 'multipart/form-data; boundary=B', payload: '--B\r\nContent-Disposition: form-data; name="__proto__"\r\n\r\nx\r\n--B--\r\n' },
  { type: 'multipart/form-data; boundary=B', payload: '--B\r\nContent-Type: application/json\r\nContent-Disposition: form-data; name="city"\r\n\r\n{"a":\r\n--B--\r\n' },
  { type: 'application/x-www-form-urlencoded', payload: '%%%&&==&a=%ZZ' },
  { type: '', payload: 'authkey=x' },
  { type: 'application/x-www-form-urlencoded; charset=iso-8859-8', payload: 'city=%F9%EC%E5%ED' },
];

function multipartOf(pairs: [string, string][]): string {
  // A name with a quote or CR/LF cannot be written in a Content-Disposition header: such pairs are left out.
  return pairs
    .filter(([n]) => !/["\r\n]/.test(n))
    .map(([n, v]) => `--B\r\nContent-Disposition: form-data; name="${n}"\r\n\r\n${v}\r\n`)
    .join('') + '--B--\r\n';
}

export function requestArb(endpoint: Endpoint): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      method: fc.oneof({ weight: 10, arbitrary: fc.constantFrom<'GET' | 'POST'>('GET', 'POST') }, { weight: 1, arbitrary: fc.constantFrom<FuzzRequest['method']>('PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD') }),
      key: keyArb(endpoint),
      target: targetArb,
      queryPairs: pairsArb,
      bodyPairs: pairsArb,
      bodyKind: fc.constantFrom<BodyKind>('none', 'form', 'form', 'json', 'json', 'multipart', 'malformed'),
      jsonExtra: fc.dictionary(nameArb, jsonValue, { maxKeys: 4 }),
      malformed: fc.constantFrom(...MALFORMED),
      rawSuffix: fc.constantFrom(...RAW_SUFFIXES),
      targetInBody: fc.boolean(),
      // get_data needs `out` to get past code 4.
      out: fc.option(fc.constantFrom('first_name', 'first_name,last_name,email,last_status,last_call,repository_name', 'uid,nope,__proto__,constructor', ',,,', 'last_notes, city ,age'), { freq: 4 }),
      // One request in twenty carries a value near a size limit (a URL past 16 KiB would be a 431 on a
      // real socket; through inject it exercises the parameter limits).
      big: fc.oneof({ weight: 19, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.record({ name: nameArb, value: fc.constantFrom(...BIG), inQuery: fc.boolean() }) }),
    })
    .map((r): FuzzRequest => {
      const headers: Record<string, string> = {};
      const target: [string, string][] = endpoint === 'get_data' && r.out !== null ? [...r.target, ['out', r.out]] : r.target;
      const query: [string, string][] = [...(r.targetInBody ? [] : target), ...r.queryPairs];
      const body: [string, string][] = [...(r.targetInBody ? target : []), ...r.bodyPairs];
      if (r.big) (r.big.inQuery ? query : body).push([r.big.name, r.big.value]);
      if (r.key.where === 'query') query.unshift(['authkey', r.key.key]);
      else if (r.key.where === 'body') body.unshift(['authkey', r.key.key]);
      else if (r.key.where === 'header') headers['x-api-key'] = r.key.key;
      const qs = new URLSearchParams(query).toString() + r.rawSuffix;
      if (r.method === 'GET' || r.method === 'HEAD' || r.bodyKind === 'none') {
        return { endpoint, method: r.method, query: qs + (body.length ? `&${new URLSearchParams(body)}` : ''), headers };
      }
      let payload: string;
      switch (r.bodyKind) {
        case 'form':
          headers['content-type'] = 'application/x-www-form-urlencoded';
          payload = new URLSearchParams(body).toString();
          break;
        case 'json': {
          headers['content-type'] = 'application/json';
          const obj: Record<string, unknown> = Object.create(null);
          for (const [k, v] of body) obj[k] = v;
          for (const [k, v] of Object.entries(r.jsonExtra)) obj[k] = v;
          payload = JSON.stringify(obj);
          break;
        }
        case 'multipart':
          headers['content-type'] = 'multipart/form-data; boundary=B';
          payload = multipartOf(body);
          break;
        default:
          if (r.malformed.type) headers['content-type'] = r.malformed.type;
          payload = r.malformed.payload;
      }
      return { endpoint, method: r.method, query: qs, headers, payload };
    });
}

/**
 * The data the telephony endpoints may change, as one string: equal strings mean unchanged data.
 * Customers and assigns in full; history and call events are append-only (nothing updates or deletes
 * them), so their row count and last id stand for them and the snapshot stays cheap as they grow.
 */
export async function snapshot(db: Db): Promise<string> {
  const q = db.q;
  const tail = (table: 'history' | 'call_events') =>
    q.selectFrom(table).select((e) => [e.fn.countAll().as('n'), e.fn.max('id').as('last')]).executeTakeFirstOrThrow();
  const [customers, phones, uniques, assigns, history, calls] = await Promise.all([
    q.selectFrom('customers').selectAll().orderBy('id').execute(),
    q.selectFrom('customer_phones').selectAll().orderBy('customer_id').orderBy('field_id').orderBy('phone').execute(),
    q.selectFrom('customer_uniques').selectAll().orderBy('field_id').orderBy('value').execute(),
    q.selectFrom('assigns').selectAll().orderBy('id').execute(),
    tail('history'),
    tail('call_events'),
  ]);
  return JSON.stringify({ customers, phones, uniques, assigns, history, calls });
}

export interface Checked {
  /** What is wrong with the answer, or undefined when every property holds. */
  problem?: string;
  status: number;
  code?: number;
}

/** Sends one request and checks the properties. `before` is the snapshot taken before it. */
export async function sendAndCheck(app: FastifyInstance, db: Db, req: FuzzRequest, before: string): Promise<Checked & { after: string }> {
  const res = await app.inject({
    method: req.method,
    url: `/api/${req.endpoint}.php?${req.query}`,
    headers: req.headers,
    ...(req.payload === undefined ? {} : { payload: req.payload }),
  });
  const after = await snapshot(db);
  const status = res.statusCode;
  const result = (problem?: string, code?: number) => ({ problem, status, code, after });
  if (status >= 500) return result(`HTTP ${status}: ${res.body.slice(0, 300)}`);
  // HEAD runs the GET handler as PHP did (the legacy API writes on GET); its answer has no body to check.
  if (req.method === 'HEAD') return result();
  if (!/^application\/json/.test(String(res.headers['content-type']))) return result(`content-type ${res.headers['content-type']}`);
  let body: { code?: unknown; status?: unknown; message?: unknown; repository_assign_id?: unknown };
  try {
    body = JSON.parse(res.body);
  } catch {
    return result(`not JSON: ${res.body.slice(0, 200)}`);
  }
  if (typeof body.code !== 'number' || !Number.isInteger(body.code)) return result(`code is not a number: ${res.body.slice(0, 200)}`);
  if (body.status !== (body.code === 0 ? 'success' : 'fail')) return result(`status ${String(body.status)} with code ${body.code}`);
  if (!('message' in body)) return result('no message');
  if (status !== 200 && body.code === 0) return result(`HTTP ${status} with code 0`);
  if (body.code !== 0 && after !== before) return result(`code ${body.code} (${JSON.stringify(body.message).slice(0, 100)}) but data changed`, body.code);
  if (body.code === 0 && req.endpoint === 'get_data') {
    if (!Array.isArray(body.message) || !body.message.every((row) => row && typeof row === 'object' && typeof row.uid === 'string')) {
      return result(`get_data success without rows of uid strings: ${res.body.slice(0, 200)}`, 0);
    }
  }
  if (body.code === 0 && req.endpoint === 'set_data' && typeof body.repository_assign_id !== 'string') return result('set_data success without repository_assign_id', 0);
  return result(undefined, body.code);
}

/** A short, replayable description of a request for failure reports. */
export function describeRequest(req: FuzzRequest): string {
  const payload = req.payload === undefined ? '' : ` body(${req.headers['content-type'] ?? 'none'})=${JSON.stringify(req.payload.slice(0, 300))}`;
  return `${req.method} /api/${req.endpoint}.php?${req.query.slice(0, 300)} headers=${JSON.stringify(req.headers)}${payload}`;
}
