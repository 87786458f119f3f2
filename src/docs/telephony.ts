// The OpenAPI description of the routes that carry no TypeBox schema: the three legacy .php endpoints
// and the process probes. Documentation only: the telephony endpoints read their own parameters
// (PHP-like merge of query and body) and must never be validated or coerced by Fastify (a bad value is
// a legacy code in a 200 answer, not a 400), so their operations are written here, in OpenAPI form, and
// put into the document by openapi.ts; the routes themselves carry no schema.
import { GET_DATA, SET_DATA, SET_STATUS, TRANSPORT_CODE } from '../telephony/codes.ts';
import { DEMO_KEYS, TELEPHONY_EXAMPLES, type TelephonyEndpoint, type TelephonyExample } from './telephony-examples.ts';

type Json = Record<string, unknown>;

/** Name of the envelope's schema in components.schemas. */
export const ENVELOPE = 'TelephonyEnvelope';

export const ENVELOPE_SCHEMA: Json = {
  type: 'object',
  required: ['code', 'status', 'message'],
  properties: {
    code: { type: 'integer', description: '0 is success; clients branch on it' },
    status: { type: 'string', enum: ['success', 'fail'] },
    message: { description: 'get_data success: an array of rows (values are strings or null); otherwise a text' },
    errors: { type: 'object', additionalProperties: { type: 'string' }, description: 'set_data partial success: the reason per field left out (and "status")' },
    repository_assign_id: { type: 'string', description: 'set_data success: the assign that was changed' },
  },
};

interface Param {
  name: string;
  description: string;
  /** Always required (not only in one mode). */
  required?: true;
}

const AUTHKEY = (endpoint: TelephonyEndpoint): Param => ({
  name: 'authkey',
  description: `The endpoint's key (CRM_AUTHKEY_${endpoint.toUpperCase()}; by default the vendor's \`${DEMO_KEYS[endpoint]}\`). Or send it in the X-Api-Key header, which keeps it out of URLs and logs. Missing or wrong: code 1.`,
});

const LOOKUP: Param[] = [
  { name: 'did', description: 'The dialed number (DID). Required in phone mode, unless CRM_DID_OPTIONAL=true and project_id or worker_id is given.' },
  { name: 'phone', description: "The caller's phone number, in any spelling (0500000000, 050-000-0000, +972 50-000-0000 and 972500000000 are one number)." },
  { name: 'project_id', description: 'Project id; this or worker_id is required in phone mode.' },
  { name: 'worker_id', description: 'Worker id: resolves the project in phone mode (it does not filter rows); otherwise recorded for audit.' },
  { name: 'group_id', description: 'Filter: the group of the assign (else of its repository).' },
  { name: 'repository_id', description: 'Filter: the repository (lead list).' },
  { name: 'site_id', description: 'Filter: the site of the assign (else of its repository).' },
];

/** set_data's field updates that the demo's examples use: any display_name works the same way. */
const DEMO_FIELDS: Param[] = ['first_name', 'last_name', 'email', 'city'].map((name) => ({
  name,
  description: `A form field, by its display_name (\`${name}\` is one of the demo project's). Any field of the project can be sent the same way; an empty value clears it.`,
}));

interface EndpointDoc {
  summary: string;
  description: string;
  params: Param[];
  codes: Record<string, readonly [number, string]>;
  /** Names not in `params` are field updates (set_data). */
  anyField: boolean;
}

const DOCS: Record<TelephonyEndpoint, EndpointDoc> = {
  get_data: {
    summary: 'Look up a caller (by DID and phone) or assigns (by id)',
    description:
      'Two modes. With `repository_assign_id` (one id or a comma-separated list): those assigns, in the order given. ' +
      'Without it: every assign of the project whose customer has a phone field matching `phone`, newest activity first, at most 100; ' +
      'no match is a success with `"message": []`. Each row starts with `uid`, then the names in `out`, in order. ' +
      'GET is the documented method; POST is taken too.',
    params: [
      AUTHKEY('get_data'),
      {
        name: 'out',
        required: true,
        description:
          'Comma-separated names to return: form fields by display_name and the special fields uid, repository_assign_id, repository_id, repository_name, ' +
          'last_status, last_status_id, last_call, last_notes, project_id, group_id, site_id, worker_id. A name that is neither answers null.',
      },
      { name: 'repository_assign_id', description: 'By-assign mode: one id or a comma-separated list (then did, phone and project are not needed).' },
      ...LOOKUP,
    ],
    codes: GET_DATA,
    anyField: false,
  },
  set_data: {
    summary: "Write back a customer's fields and/or the assign's status",
    description:
      'Target: `repository_assign_id`, else the newest assign found by phone as get_data finds it. Every parameter that is not reserved is a field update ' +
      'by display_name; invalid ones are left out and reported in `errors` (partial success), the rest commit together. ' +
      'A status records a call event (worker, notes, time). A repeated `call_id` with the same changes is applied once.',
    params: [
      AUTHKEY('set_data'),
      { name: 'repository_assign_id', description: 'The assign to update (else phone + did + project_id or worker_id find it).' },
      ...LOOKUP,
      { name: 'status_id', description: "Status to set; 0 clears the assign's status." },
      { name: 'notes', description: 'Notes of the call event a status change records (a form field named notes takes precedence).' },
      { name: 'call_id', description: "The telephony system's id of the call: a retry with the same call_id and changes is applied once." },
      ...DEMO_FIELDS,
    ],
    codes: SET_DATA,
    anyField: true,
  },
  set_status: {
    summary: "Set or clear an assign's status (disposition)",
    description:
      'Sets (or with status_id 0 clears) the status and records a call event with worker_id and notes. Both answer "Status set successfully". ' +
      'A worker_id that is not a registered worker is still recorded as given.',
    params: [
      AUTHKEY('set_status'),
      { name: 'repository_assign_id', required: true, description: 'The assign.' },
      { name: 'status_id', required: true, description: "A status of the assign's project, or 0 to clear." },
      { name: 'worker_id', description: 'The agent, for audit.' },
      { name: 'notes', description: 'Notes of the call event.' },
      { name: 'call_id', description: "The telephony system's id of the call: a retry is applied once." },
    ],
    codes: SET_STATUS,
    anyField: false,
  },
};

const codeTable = (codes: Record<string, readonly [number, string]>) =>
  '| code | message |\n|---|---|\n| 0 | success |\n' +
  Object.values(codes)
    .sort((a, b) => a[0] - b[0])
    .map(([c, m]) => `| ${c} | ${m} |`)
    .join('\n');

const envelopeRef = { $ref: `#/components/schemas/${ENVELOPE}` };

/** The URL of an example request under the prefix, as a reader would paste it. */
export function exampleUrl(prefix: string, endpoint: TelephonyEndpoint, example: TelephonyExample): string {
  const query = new URLSearchParams(example.params).toString();
  return example.method === 'GET' ? `GET ${prefix}/api/${endpoint}.php?${query}` : `POST ${prefix}/api/${endpoint}.php (form body) ${query}`;
}

function answers(prefix: string, endpoint: TelephonyEndpoint, method: 'GET' | 'POST'): Json {
  const examples: Json = {};
  // This operation's own "try it" example first: Swagger UI shows the first one.
  const own = TELEPHONY_EXAMPLES[endpoint].filter((e) => e.tryIt && e.method === method);
  const rest = TELEPHONY_EXAMPLES[endpoint].filter((e) => !own.includes(e));
  for (const e of [...own, ...rest]) examples[e.key] = { summary: e.summary, description: `\`${exampleUrl(prefix, endpoint, e)}\``, value: e.answer };
  for (const [c, m] of Object.values(DOCS[endpoint].codes).sort((a, b) => a[0] - b[0])) {
    const key = `code_${c}`;
    if (!(key in examples)) examples[key] = { summary: `code ${c}: ${m}`, value: { code: c, status: 'fail', message: m } };
  }
  const transport = (status: number, message: string) => ({
    description: `${message}: the envelope with code ${TRANSPORT_CODE}`,
    content: { 'application/json': { schema: envelopeRef, example: { code: TRANSPORT_CODE, status: 'fail', message } } },
  });
  return {
    200: { description: 'The envelope; `code` 0 is success, any other code is a failure of the catalog above', content: { 'application/json': { schema: envelopeRef, examples } } },
    ...(method === 'POST' ? { 400: transport(400, 'Malformed request'), 413: transport(413, 'Request body too large'), 415: transport(415, 'Unsupported content type') } : {}),
  };
}

/**
 * The OpenAPI operation of a telephony endpoint for one method, for a path under `prefix` (the base
 * path, '' for none). GET takes the parameters in the query string; POST in the body (form, multipart
 * or JSON), a query string being merged too, as PHP's $_REQUEST does.
 */
export function telephonyOperation(endpoint: TelephonyEndpoint, method: 'GET' | 'POST', prefix: string): Json {
  const doc = DOCS[endpoint];
  const tryIt = TELEPHONY_EXAMPLES[endpoint].find((e) => e.tryIt && e.method === method)?.params ?? {};
  const others = TELEPHONY_EXAMPLES[endpoint].filter((e) => e.method !== method || !e.tryIt);
  const description =
    `${doc.description}\n\n` +
    'Parameters come from the query string and the body together (a body value wins, as PHP\'s `$_REQUEST`). ' +
    'Every answer is HTTP 200 with the JSON envelope; `code` says what happened:\n\n' +
    `${codeTable(doc.codes)}\n\n` +
    `**Try it** on a server with the demo loaded (\`npm run demo\`): the form below is filled with the demo's values; press *Execute*. Other examples:\n\n` +
    others.map((e) => `- ${e.summary}: \`${exampleUrl(prefix, endpoint, e)}\``).join('\n');
  const apiKeyHeader = { name: 'X-Api-Key', in: 'header', required: false, description: 'The endpoint\'s key, instead of the authkey parameter.', schema: { type: 'string' } };
  const operation: Json = {
    tags: ['Telephony'],
    summary: doc.summary,
    description: method === 'GET' ? description : `The same parameters as GET (listed there), in a form, multipart or JSON body.\n\n${description}`,
    operationId: method === 'GET' ? endpoint : `${endpoint}_post`,
  };
  if (method === 'GET') {
    operation.parameters = [
      ...doc.params.map((p) => ({
        name: p.name,
        in: 'query',
        required: p.required === true,
        description: p.description,
        schema: { type: 'string' },
        ...(tryIt[p.name] === undefined ? {} : { example: tryIt[p.name] }),
      })),
      apiKeyHeader,
    ];
  } else {
    // The body names only the example's parameters; every other parameter of the GET operation is taken
    // the same way. Swagger UI's form sends every field it shows, empty or not (an empty field is a
    // field update that clears it in set_data), so a form listing all of them could not be tried safely.
    const used = doc.params.filter((p) => tryIt[p.name] !== undefined);
    const schema: Json = {
      type: 'object',
      properties: Object.fromEntries(used.map((p) => [p.name, { type: 'string', description: p.description, example: tryIt[p.name] }])),
      required: used.filter((p) => p.required).map((p) => p.name),
      additionalProperties: {
        type: 'string',
        description: `Any other parameter of GET ${prefix}/api/${endpoint}.php${doc.anyField ? ', and any customer field by its display_name' : ''}.`,
      },
    };
    const media = { schema, example: tryIt };
    operation.parameters = [apiKeyHeader];
    operation.requestBody = {
      required: true,
      content: { 'application/x-www-form-urlencoded': media, 'multipart/form-data': media, 'application/json': media },
    };
  }
  operation.responses = answers(prefix, endpoint, method);
  return operation;
}

/** The endpoint and the base prefix of a documented path, when it is a telephony endpoint. */
export function telephonyEndpointOf(path: string): { endpoint: TelephonyEndpoint; prefix: string } | undefined {
  const m = /^(.*)\/api\/(get_data|set_data|set_status)\.php$/.exec(path);
  return m ? { endpoint: m[2] as TelephonyEndpoint, prefix: m[1]! } : undefined;
}

const PROBES: Record<string, Json> = {
  '/healthz': {
    tags: ['Operations'],
    summary: 'Liveness: the process is up',
    response: { 200: { description: 'Up', type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } } },
  },
  '/readyz': {
    tags: ['Operations'],
    summary: 'Readiness: the database is reachable',
    response: {
      200: { description: 'Ready', type: 'object', properties: { status: { type: 'string', enum: ['ok'] }, database: { type: 'string', enum: ['sqlite', 'postgres'] } } },
      503: { description: 'The database is unreachable', type: 'object', properties: { status: { type: 'string', enum: ['unavailable'] }, database: { type: 'string' } } },
    },
  },
};

/**
 * The route schema to document a route outside the admin API with, by its path without the base prefix
 * and its methods; undefined for a route that documents itself. A telephony route gets a placeholder
 * (openapi.ts writes its operations); its other methods are hidden: they only answer 405, which the
 * document says once, in its description.
 */
export function documentationOf(path: string, methods: readonly string[]): Json | undefined {
  if (telephonyEndpointOf(path)) return methods.includes('GET') || methods.includes('POST') ? { tags: ['Telephony'] } : { hide: true };
  return PROBES[path];
}
