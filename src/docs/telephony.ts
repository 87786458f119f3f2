// The OpenAPI description of the routes that carry no TypeBox schema: the three legacy .php endpoints
// and the process probes. These are documentation only — they are attached in the OpenAPI transform,
// never to the routes, because the telephony endpoints read their own parameters (PHP-like merge of
// query and body) and must not be validated or coerced by Fastify (a bad value is a legacy code in a
// 200 answer, not a 400).
import { GET_DATA, SET_DATA, SET_STATUS } from '../telephony/codes.ts';

type Json = Record<string, unknown>;

const str = (description: string): Json => ({ type: 'string', description });

const Envelope: Json = {
  type: 'object',
  required: ['code', 'status', 'message'],
  properties: {
    code: { type: 'integer', description: '0 is success; clients branch on it' },
    status: { type: 'string', enum: ['success', 'fail'] },
    message: { description: 'get_data: an array of rows (values are strings or null); otherwise a text' },
    errors: { type: 'object', additionalProperties: { type: 'string' }, description: 'set_data partial success: reason per field left out (and "status")' },
    repository_assign_id: { type: 'string', description: 'set_data success: the assign that was changed' },
  },
};

const codeTable = (codes: Record<string, readonly [number, string]>) =>
  '| code | message |\n|---|---|\n| 0 | success |\n' +
  Object.values(codes)
    .sort((a, b) => a[0] - b[0])
    .map(([c, m]) => `| ${c} | ${m} |`)
    .join('\n');

const transport = {
  400: { description: 'Malformed body (bad JSON or multipart) or more than 500 parameters; the envelope with code 7', ...Envelope },
  413: { description: 'Body over the configured limit; the envelope with code 7', ...Envelope },
  415: { description: 'Unsupported content type; the envelope with code 7', ...Envelope },
};

const AUTH = {
  authkey: str("The endpoint's key (or send it in the X-Api-Key header, which keeps it out of URLs and logs). Missing or wrong: code 1."),
};
const LOOKUP = {
  did: str('The dialed number (DID). Required unless CRM_DID_OPTIONAL=true and project_id or worker_id is given.'),
  phone: str("The caller's phone number, in any spelling (0500000000, 050-000-0000, +972 50-000-0000 match)."),
  project_id: str('Project id; this or worker_id is required in phone mode.'),
  worker_id: str("Worker id: resolves the project in phone mode (it does not filter rows); otherwise recorded for audit."),
  group_id: str('Filter: group of the assign (else of its repository).'),
  repository_id: str('Filter: repository (lead list).'),
  site_id: str('Filter: site of the assign (else of its repository).'),
};

function legacy(summary: string, description: string, params: Record<string, Json>, codes: Record<string, readonly [number, string]>, extraFields: boolean) {
  const object: Json = { type: 'object', properties: params };
  if (extraFields) object.additionalProperties = str('Any other name is a customer field update, addressed by its display_name; an empty value clears it.');
  return {
    tags: ['telephony'],
    summary,
    description: `${description}\n\nParameters come from the query string and the body together (a body value wins, as PHP's $_REQUEST). Every answer is HTTP 200 with the JSON envelope; \`code\` says what happened:\n\n${codeTable(codes)}`,
    security: [{ telephonyKey: [] }, { telephonyKeyHeader: [] }],
    querystring: object,
    body: object,
    consumes: ['application/x-www-form-urlencoded', 'multipart/form-data', 'application/json'],
    response: { 200: { description: 'The envelope; `code` 0 is success', ...Envelope }, ...transport },
  };
}

const GET_DATA_DOC = legacy(
  'Look up a caller (by phone) or assigns (by id)',
  'Two modes. With `repository_assign_id` (one id or a comma-separated list): those assigns, in the order given. ' +
    'Without it: every assign of the project whose customer has a phone field matching `phone`, newest activity first, at most 100; ' +
    'no match is a success with `"message": []`. Each row starts with `uid`, then the names in `out`. GET is the documented method; POST is taken too.',
  {
    ...AUTH,
    out: str('Required. Comma-separated names to return: form fields by display_name and the special fields uid, repository_assign_id, repository_id, repository_name, last_status, last_status_id, last_call, last_notes, project_id, group_id, site_id, worker_id. An unknown name is returned as null.'),
    repository_assign_id: str('By-assign mode: one id or a comma-separated list.'),
    ...LOOKUP,
  },
  GET_DATA,
  false,
);

const SET_DATA_DOC = legacy(
  "Write back a customer's fields and/or the assign's status",
  'Target: `repository_assign_id`, else the newest assign found by phone as get_data finds it. Every parameter that is not reserved is a field update ' +
    'by display_name; invalid ones are left out and reported in `errors` (partial success), the rest commit together. ' +
    'A status records a call event (worker, notes, time). A repeated `call_id` with the same changes is applied once.',
  {
    ...AUTH,
    repository_assign_id: str('The assign to update (else phone + did + project_id or worker_id).'),
    ...LOOKUP,
    status_id: str("Status to set; 0 clears the assign's status."),
    notes: str('Notes of the call event a status change records.'),
    call_id: str("The telephony system's id of the call: a retry with the same call_id and changes is applied once."),
  },
  SET_DATA,
  true,
);

const SET_STATUS_DOC = legacy(
  "Set or clear an assign's status (disposition)",
  'Sets (or with status_id 0 clears) the status and records a call event with worker_id and notes. Both answer "Status set successfully". ' +
    'A worker_id that is not a registered worker is still recorded as given.',
  {
    ...AUTH,
    repository_assign_id: str('Required. The assign.'),
    status_id: str('Required. A status of the assign\'s project, or 0 to clear.'),
    worker_id: str('The agent, for audit.'),
    notes: str('Notes of the call event.'),
    call_id: str("The telephony system's id of the call: a retry is applied once."),
  },
  SET_STATUS,
  false,
);

const NOT_ALLOWED = {
  tags: ['telephony'],
  summary: 'Method not allowed',
  description: 'The legacy endpoints take GET and POST only; other methods answer 405 with the envelope and an Allow header.',
  response: { 405: { description: 'The envelope with code 7, "Method not allowed"', ...Envelope } },
};

const PROBES: Record<string, Json> = {
  '/healthz': {
    tags: ['operations'],
    summary: 'Liveness: the process is up',
    response: { 200: { description: 'Up', type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } } },
  },
  '/readyz': {
    tags: ['operations'],
    summary: 'Readiness: the database is reachable',
    response: {
      200: { description: 'Ready', type: 'object', properties: { status: { type: 'string', enum: ['ok'] }, database: { type: 'string', enum: ['sqlite', 'postgres'] } } },
      503: { description: 'The database is unreachable', type: 'object', properties: { status: { type: 'string', enum: ['unavailable'] }, database: { type: 'string' } } },
    },
  },
};

const LEGACY: Record<string, Json> = {
  '/api/get_data.php': GET_DATA_DOC,
  '/api/set_data.php': SET_DATA_DOC,
  '/api/set_status.php': SET_STATUS_DOC,
};

/**
 * The documentation schema of a route outside the admin API, by its path without the base prefix and
 * its methods; undefined for a route that documents itself.
 */
export function documentationOf(path: string, methods: readonly string[]): Json | undefined {
  const legacy = LEGACY[path];
  if (legacy) return methods.includes('GET') || methods.includes('POST') ? legacy : NOT_ALLOWED;
  return PROBES[path];
}
