// {BASE}/openapi.json describes every route the app registers (admin API from its schemas, the
// telephony endpoints and probes from src/docs/telephony.ts), telephony first, with the demo's examples;
// {BASE}/docs is Swagger UI served from this server (test/docs-browser.test.ts drives it in Chromium).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import fastifyStatic from '@fastify/static';
import { dialects, setup, KEYS, type Harness } from './helpers.ts';
import { loadDemo } from '../src/crm/demo.ts';
import { openapiOptions } from '../src/docs/openapi.ts';
import { docsRoutes, DOCS_CSP } from '../src/docs/routes.ts';
import { TAGS, tagList, tagName } from '../src/docs/tags.ts';
import { TELEPHONY_EXAMPLES, type TelephonyEndpoint } from '../src/docs/telephony-examples.ts';

type Doc = {
  openapi: string;
  info: { title: string; version: string; description: string };
  tags: { name: string; description?: string }[];
  paths: Record<string, Record<string, any>>;
  components: { schemas?: Record<string, unknown>; securitySchemes: Record<string, any> };
};

const OPERATION_KEYS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/**
 * Every (method, path) the app registers, from app.printRoutes(): a tree whose lines are
 * `<indent>├── <segment> (METHODS)`, four characters of indent per level, a segment continuing its
 * parent's path. Paths come out in OpenAPI form (`/x/{id}`).
 */
function registeredRoutes(app: FastifyInstance): Set<string> {
  const out = new Set<string>();
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:[│ ]   )*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    const path = (stack[depth - 1] ?? '') + m[2]!;
    stack.push(path);
    for (const method of (m[3] ?? '').split(', ').filter(Boolean)) {
      out.add(`${method} ${path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
    }
  }
  return out;
}

function documentedRoutes(doc: Doc): Set<string> {
  const out = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const key of OPERATION_KEYS) if (item[key]) out.add(`${key.toUpperCase()} ${path}`);
  }
  return out;
}

/** Every $ref in the document, which must point into components.schemas. */
function refsOf(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => refsOf(v, found));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') found.push(v);
      else refsOf(v, found);
    }
  }
  return found;
}

for (const dialect of dialects()) {
  describe(dialect, () => {
    let h: Harness;
    let doc: Doc;
    before(async () => {
      h = await setup(dialect);
      const res = await h.app.inject({ url: '/openapi.json' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /application\/json/);
      doc = res.json();
    });
    after(() => h.close());

    test('/openapi.json is an OpenAPI 3 document: version, info, paths, and responses with a description on every operation', () => {
      assert.match(doc.openapi, /^3\.[01]\.\d+$/);
      assert.equal(doc.info.title, 'callcrm');
      assert.match(doc.info.version, /^\d+\.\d+\.\d+/);
      assert.ok(Object.keys(doc.paths).length > 10);
      for (const [path, item] of Object.entries(doc.paths)) {
        assert.ok(path.startsWith('/'), path);
        for (const key of Object.keys(item)) assert.ok(OPERATION_KEYS.includes(key) || key === 'parameters' || key === 'summary', `${path}: ${key}`);
        for (const key of OPERATION_KEYS) {
          const op = item[key];
          if (!op) continue;
          const codes = Object.keys(op.responses ?? {});
          assert.ok(codes.length > 0, `${key} ${path} has responses`);
          for (const code of codes) {
            assert.match(code, /^[1-5]\d\d$|^default$/, `${key} ${path} ${code}`);
            assert.equal(typeof op.responses[code].description, 'string', `${key} ${path} ${code} description`);
          }
          for (const p of op.parameters ?? []) {
            assert.ok(['query', 'path', 'header', 'cookie'].includes(p.in), `${key} ${path} ${p.name}`);
            if (p.in === 'path') assert.equal(p.required, true);
            assert.ok(p.schema, `${key} ${path} ${p.name} has a schema`);
          }
          // Every {param} of the path is declared.
          for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
            assert.ok((op.parameters ?? []).some((p: { in: string; name: string }) => p.in === 'path' && p.name === name), `${key} ${path} declares ${name}`);
          }
          if (key === 'get') assert.equal(op.requestBody, undefined, `GET ${path} has no body`);
        }
      }
    });

    test('every $ref points to a schema in components', () => {
      const refs = refsOf(doc);
      assert.ok(refs.length > 0);
      for (const ref of refs) {
        const m = /^#\/components\/schemas\/(.+)$/.exec(ref);
        assert.ok(m, ref);
        assert.ok(doc.components.schemas && m[1]! in doc.components.schemas, ref);
      }
    });

    test('the document lists every route the app registers, and nothing else', () => {
      const registered = registeredRoutes(h.app);
      const notAllowed: string[] = [];
      for (const r of [...registered]) {
        // The page's own routes (/docs, /docs/json, /docs/static/*) and HEAD are not part of the API.
        if (r.startsWith('HEAD ') || r.endsWith(' /openapi.json') || / \/docs([/*]|$)/.test(r) || / \/app([/*]|$)/.test(r)) registered.delete(r);
        // The legacy endpoints' other methods only answer 405: said once in the description, not as operations.
        if (/^(PUT|DELETE|PATCH|OPTIONS) \/api\/\w+\.php$/.test(r)) {
          registered.delete(r);
          notAllowed.push(r);
        }
      }
      assert.ok(registered.has('PATCH /admin/v1/customers/{customer_id}'), 'the route list was read');
      assert.ok(registered.has('GET /api/get_data.php'));
      assert.deepEqual([...documentedRoutes(doc)].sort(), [...registered].sort());
      assert.equal(notAllowed.length, 12, 'four 405 methods on each of the three endpoints were found and left out');
      assert.match(doc.info.description, /\*\*405\*\*.*code 7, "Method not allowed"/);
    });

    test('the admin API requires the bearer scheme and documents its error answers', () => {
      assert.deepEqual(doc.components.securitySchemes.adminBearer, { type: 'http', scheme: 'bearer', description: doc.components.securitySchemes.adminBearer.description });
      for (const [path, item] of Object.entries(doc.paths)) {
        if (!path.startsWith('/admin/')) continue;
        for (const key of OPERATION_KEYS) {
          if (!item[key]) continue;
          assert.deepEqual(item[key].security, [{ adminBearer: [] }], `${key} ${path}`);
          assert.ok(item[key].responses['401'] && item[key].responses['403'], `${key} ${path} 401/403`);
        }
      }
      const patch = doc.paths['/admin/v1/customers/{customer_id}']!.patch;
      assert.deepEqual(Object.keys(patch.responses).sort(), ['200', '400', '401', '403', '404', '409', '413']);
      assert.ok(patch.requestBody.content['application/json'].schema.properties.fields);
      const calls = doc.paths['/admin/v1/assigns/{assign_id}/calls']!.post;
      assert.deepEqual(Object.keys(calls.requestBody.content['application/json'].schema.properties).sort(), ['at', 'call_id', 'notes', 'status_id', 'worker_id']);
      assert.ok(calls.responses['422']);
      const list = doc.paths['/admin/v1/projects/{project_id}/customers']!.get;
      assert.deepEqual(list.parameters.filter((p: { in: string }) => p.in === 'query').map((p: { name: string }) => p.name).sort(), ['cursor', 'limit', 'phone', 'q']);
      assert.equal(list.parameters.find((p: { name: string }) => p.name === 'limit').schema.maximum, 1000);
    });

    test('the telephony endpoints are described with their parameters, codes and both methods, and no 405 operations', () => {
      const expected: Record<string, string[]> = {
        '/api/get_data.php': ['authkey', 'did', 'phone', 'out', 'project_id', 'worker_id', 'group_id', 'repository_id', 'site_id', 'repository_assign_id'],
        '/api/set_data.php': ['authkey', 'repository_assign_id', 'project_id', 'worker_id', 'phone', 'did', 'status_id', 'notes', 'call_id'],
        '/api/set_status.php': ['authkey', 'repository_assign_id', 'status_id', 'worker_id', 'notes', 'call_id'],
      };
      for (const [path, params] of Object.entries(expected)) {
        const item = doc.paths[path]!;
        assert.deepEqual(Object.keys(item).sort(), ['get', 'post'], `${path}: GET and POST only`);
        const names = item.get.parameters.map((p: { name: string }) => p.name);
        for (const p of params) assert.ok(names.includes(p), `${path} ${p}`);
        assert.ok(names.includes('X-Api-Key'));
        // POST takes the same parameters in its body; the body names the example's and allows the rest.
        const form = item.post.requestBody.content['application/x-www-form-urlencoded'].schema;
        assert.ok(form.properties.authkey && form.additionalProperties, `${path} POST body`);
        assert.match(item.get.description, /\| 1 \| Missing or invalid authkey \|/);
        assert.deepEqual(Object.keys(item.post.requestBody.content).sort(), ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data']);
        for (const op of [item.get, item.post]) {
          assert.deepEqual(op.tags, ['Telephony']);
          assert.equal(op.responses['200'].content['application/json'].schema.$ref, '#/components/schemas/TelephonyEnvelope');
        }
      }
      assert.equal(doc.paths['/api/get_data.php']!.get.operationId, 'get_data');
      assert.equal(doc.paths['/api/get_data.php']!.post.operationId, 'get_data_post');
      assert.equal(doc.paths['/api/get_data.php']!.get.parameters.find((p: { name: string }) => p.name === 'out').required, true);
      assert.match(doc.paths['/api/set_data.php']!.get.description, /\| 4 \| Duplicate unique field \|/);
      assert.match(doc.paths['/api/get_data.php']!.get.description, /\| 6 \| No matching repository assign \|/);
      assert.doesNotMatch(JSON.stringify(doc.paths), /Method not allowed/);
    });

    test('every code and message of the catalog is an example answer of its endpoint', async () => {
      const { GET_DATA, SET_DATA, SET_STATUS } = await import('../src/telephony/codes.ts');
      const catalogs = { get_data: GET_DATA, set_data: SET_DATA, set_status: SET_STATUS };
      for (const [endpoint, codes] of Object.entries(catalogs)) {
        for (const method of ['get', 'post']) {
          const examples = Object.values(doc.paths[`/api/${endpoint}.php`]![method].responses['200'].content['application/json'].examples) as { value: { code: number; message: unknown } }[];
          for (const [code, message] of Object.values(codes)) {
            assert.ok(examples.some((e) => e.value.code === code && e.value.message === message), `${method} ${endpoint}: ${code} ${message}`);
          }
          assert.ok(examples.some((e) => e.value.code === 0), `${method} ${endpoint}: a success`);
        }
      }
    });

    test('the document leads with the telephony API and groups the admin API by task', () => {
      assert.deepEqual(Object.keys(doc.paths).slice(0, 3), ['/api/get_data.php', '/api/set_data.php', '/api/set_status.php']);
      const names = doc.tags.map((t) => t.name);
      assert.equal(names[0], 'Telephony');
      assert.equal(names.at(-1), 'Operations');
      for (const t of ['Setup', 'Customers', 'Assigns & calls', 'Import & export', 'Audit']) assert.ok(names.includes(t), t);
      // In the order tags.ts gives, and only groups that have operations.
      const order = TAGS.map((t) => t.name);
      assert.deepEqual(names.filter((n) => order.includes(n)), order.filter((n) => names.includes(n)));
      const used = new Set<string>();
      for (const item of Object.values(doc.paths)) for (const key of OPERATION_KEYS) for (const t of item[key]?.tags ?? []) used.add(t);
      assert.deepEqual([...used].sort(), [...names].sort());
      assert.deepEqual(doc.paths['/admin/v1/customers/{customer_id}']!.patch.tags, ['Customers']);
      assert.deepEqual(doc.paths['/admin/v1/assigns/{assign_id}/calls']!.post.tags, ['Assigns & calls']);
      assert.deepEqual(doc.paths['/healthz']!.get.tags, ['Operations']);
    });

    test('the admin API\'s path ids are the demo\'s, so "Try it" after Authorize answers demo data', async () => {
      const get = doc.paths['/admin/v1/customers/{customer_id}']!.get;
      assert.equal(get.parameters.find((p: { name: string }) => p.name === 'customer_id').example, 123);
      const demo = await setup(dialect);
      try {
        await loadDemo(demo.db, demo.config.defaultCountry);
        const res = await demo.app.inject({ url: '/admin/v1/customers/123', headers: { authorization: `Bearer ${demo.config.adminToken}` } });
        assert.equal(res.statusCode, 200);
        assert.equal(res.json().fields.first_name, 'John');
        for (const [path, item] of Object.entries(doc.paths)) {
          for (const name of ['project_id', 'assign_id', 'repository_id']) {
            for (const op of Object.values(item)) {
              const p = (op.parameters ?? []).find((q: { in: string; name: string }) => q.in === 'path' && q.name === name);
              if (p) assert.equal(typeof p.example, 'number', `${path} ${name}`);
            }
          }
        }
      } finally {
        await demo.close();
      }
    });

    test('"Try it" is filled with the demo values, and every documented example answers as documented on a fresh demo', async () => {
      const demo = await setup(dialect);
      try {
        await loadDemo(demo.db, demo.config.defaultCountry);
        for (const [endpoint, examples] of Object.entries(TELEPHONY_EXAMPLES) as [TelephonyEndpoint, (typeof TELEPHONY_EXAMPLES)[TelephonyEndpoint]][]) {
          const item = doc.paths[`/api/${endpoint}.php`]!;
          for (const e of examples) {
            const query = new URLSearchParams(e.params).toString();
            const res =
              e.method === 'GET'
                ? await demo.app.inject({ url: `/api/${endpoint}.php?${query}` })
                : await demo.app.inject({ method: 'POST', url: `/api/${endpoint}.php`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: query });
            assert.equal(res.statusCode, 200);
            assert.deepEqual(res.json(), e.answer, `${endpoint} ${e.key}`);
            const documented = item[e.method.toLowerCase()].responses['200'].content['application/json'].examples[e.key];
            assert.deepEqual(documented.value, e.answer, `${endpoint} ${e.key} is in the document`);
            if (!e.tryIt) continue;
            // The operation's form is filled with exactly this example's parameters.
            if (e.method === 'GET') {
              const filled = Object.fromEntries(item.get.parameters.filter((p: { example?: string }) => p.example !== undefined).map((p: { name: string; example: string }) => [p.name, p.example]));
              assert.deepEqual(filled, e.params, `${endpoint} GET form`);
            } else {
              const media = item.post.requestBody.content['application/x-www-form-urlencoded'];
              assert.deepEqual(media.example, e.params, `${endpoint} POST example`);
              const filled = Object.fromEntries(Object.entries(media.schema.properties as Record<string, { example?: string }>).filter(([, p]) => p.example !== undefined).map(([n, p]) => [n, p.example]));
              assert.deepEqual(filled, e.params, `${endpoint} POST form`);
            }
          }
          assert.ok(examples.some((e) => e.tryIt && e.method === 'GET') && examples.some((e) => e.tryIt && e.method === 'POST'), `${endpoint}: both methods are filled`);
        }
      } finally {
        await demo.close();
      }
    });

    test('describing the telephony endpoints does not make Fastify validate their parameters', async () => {
      // A non-numeric project_id is the legacy code 5 in a 200 answer, never a 400.
      const res = await h.app.inject({ url: `/api/get_data.php?authkey=${KEYS.get_data}&did=1&phone=0500000000&out=uid&project_id=abc` });
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().code, 5);
      const form = await h.app.inject({ method: 'POST', url: '/api/set_status.php', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `authkey=${KEYS.set_status}&repository_assign_id=x1&status_id=10` });
      assert.equal(form.statusCode, 200);
      assert.equal(form.json().code, 3);
    });

    test('/docs is Swagger UI from this server: no inline script, no other host, a CSP that allows only its own files', async () => {
      const res = await h.app.inject({ url: '/docs' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      const html = res.body;
      assert.doesNotMatch(html, /https?:\/\//);
      assert.doesNotMatch(html, /\sstyle=|\son[a-z]+=/i, 'no inline style or handler attribute');
      const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
      assert.ok(scripts.length >= 3);
      for (const [, attrs, body] of scripts) {
        assert.equal(body!.trim(), '', 'no inline script');
        assert.match(attrs!, /src="\/docs\/static\//);
      }
      const csp = String(res.headers['content-security-policy']);
      assert.equal(csp, DOCS_CSP);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.doesNotMatch(csp, /unsafe-|https?:|\*/);
      assert.match(csp, /connect-src 'self'/);
      assert.equal(res.headers['x-frame-options'], 'DENY');
      // Every file the page names is served here, with the same policy.
      const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
      assert.ok(assets.some((a) => a.endsWith('/swagger-ui-bundle.js')) && assets.some((a) => a.endsWith('/swagger-ui.css')));
      for (const asset of assets) {
        const file = await h.app.inject({ url: asset });
        assert.equal(file.statusCode, 200, asset);
        assert.equal(file.headers['content-security-policy'], DOCS_CSP, asset);
      }
      // The UI reads the same document as /openapi.json.
      assert.deepEqual((await h.app.inject({ url: '/docs/json' })).json(), doc);
    });

    test('/openapi.json and /docs need no admin token, even when the admin API is closed', async () => {
      const closed = await setup(dialect, { CRM_ADMIN_TOKEN: '' });
      try {
        assert.equal((await closed.app.inject({ url: '/openapi.json' })).statusCode, 200);
        assert.equal((await closed.app.inject({ url: '/docs' })).statusCode, 200);
        assert.equal((await closed.app.inject({ url: '/admin/v1/projects' })).statusCode, 403);
      } finally {
        await closed.close();
      }
    });

    test('under CRM_BASE_PATH the document and the page live under the prefix and name the prefixed paths', async () => {
      const based = await setup(dialect, { CRM_BASE_PATH: '/dev-6' });
      try {
        const d = (await based.app.inject({ url: '/dev-6/openapi.json' })).json() as Doc;
        assert.ok(d.paths['/dev-6/api/set_data.php']);
        assert.ok(d.paths['/dev-6/admin/v1/customers/{customer_id}']!.patch);
        assert.deepEqual(d.paths['/dev-6/admin/v1/projects']!.get.security, [{ adminBearer: [] }]);
        assert.equal(d.tags[0]!.name, 'Telephony');
        assert.equal(d.paths['/dev-6/api/get_data.php']!.get.operationId, 'get_data');
        assert.match(d.paths['/dev-6/api/set_data.php']!.get.description, /`POST \/dev-6\/api\/set_data\.php \(form body\) authkey=Mindc_2023_set_data/);
        const page = await based.app.inject({ url: '/dev-6/docs' });
        assert.match(page.body, /src="\/dev-6\/docs\/static\/swagger-ui-bundle\.js"/);
        assert.equal((await based.app.inject({ url: '/dev-6/docs/static/swagger-ui-bundle.js' })).statusCode, 200);
        assert.equal((await based.app.inject({ url: '/docs' })).statusCode, 404);
      } finally {
        await based.close();
      }
    });
  });
}

describe('docs module', () => {
  test('a route tag is shown under its group: slugs map to names, unknown tags follow the known groups, Operations stays last', () => {
    assert.equal(tagName('assigns'), 'Assigns & calls');
    assert.equal(tagName('Webhooks'), 'Webhooks');
    assert.equal(tagName('users'), 'Users & keys');
    assert.equal(tagName('Something new'), 'Something new');
    assert.deepEqual(
      tagList(['Operations', 'Something new', 'Webhooks', 'Telephony', 'Webhooks']).map((t) => t.name),
      ['Telephony', 'Webhooks', 'Something new', 'Operations'],
    );
  });

  test('the docs claim no reply decorator: an app that registers @fastify/static for its own files still starts and serves both', async () => {
    const app = Fastify();
    try {
      await app.register(swagger, openapiOptions(''));
      // As the console does: the root @fastify/static with its reply.sendFile decorator.
      await app.register(fastifyStatic, { root: new URL('.', import.meta.url).pathname, prefix: '/app/' });
      await app.register(docsRoutes, { base: '' });
      app.get('/sent', (_req, reply) => reply.sendFile('helpers.ts'));
      await app.ready();
      assert.equal((await app.inject({ url: '/docs/static/swagger-ui.css' })).statusCode, 200);
      assert.equal((await app.inject({ url: '/app/helpers.ts' })).statusCode, 200);
      assert.equal((await app.inject({ url: '/sent' })).statusCode, 200);
    } finally {
      await app.close();
    }
  });
});
