// {BASE}/openapi.json describes every route the app registers (admin API from its schemas, the
// telephony endpoints and probes from src/docs/telephony.ts), and {BASE}/docs is a self-contained page.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import vm from 'node:vm';
import type { FastifyInstance } from 'fastify';
import { dialects, setup, KEYS, type Harness } from './helpers.ts';

type Doc = {
  openapi: string;
  info: { title: string; version: string };
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
      for (const r of [...registered]) {
        // The console's pages and files (/app/…) are not API operations.
        if (r.startsWith('HEAD ') || r.endsWith(' /openapi.json') || r.endsWith(' /docs') || / \/app([/*]|$)/.test(r)) registered.delete(r);
      }
      assert.ok(registered.has('PATCH /admin/v1/customers/{customer_id}'), 'the route list was read');
      assert.ok(registered.has('GET /api/get_data.php'));
      assert.deepEqual([...documentedRoutes(doc)].sort(), [...registered].sort());
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

    test('the telephony endpoints are described with their parameters, codes and both methods', () => {
      const expected: Record<string, string[]> = {
        '/api/get_data.php': ['did', 'phone', 'out', 'project_id', 'worker_id', 'group_id', 'repository_id', 'site_id', 'repository_assign_id'],
        '/api/set_data.php': ['repository_assign_id', 'project_id', 'worker_id', 'phone', 'did', 'status_id', 'notes', 'call_id'],
        '/api/set_status.php': ['repository_assign_id', 'status_id', 'worker_id', 'notes', 'call_id'],
      };
      for (const [path, params] of Object.entries(expected)) {
        const item = doc.paths[path]!;
        const names = item.get.parameters.map((p: { name: string }) => p.name);
        for (const p of params) assert.ok(names.includes(p), `${path} ${p}`);
        assert.deepEqual(item.get.security, [{ telephonyKey: [] }, { telephonyKeyHeader: [] }]);
        assert.match(item.get.description, /\| 1 \| Missing or invalid authkey \|/);
        assert.ok(item.get.responses['200']);
        assert.deepEqual(Object.keys(item.post.requestBody.content).sort(), ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data']);
        for (const m of ['put', 'delete', 'patch', 'options']) assert.deepEqual(Object.keys(item[m].responses), ['405'], `${m} ${path}`);
      }
      assert.match(doc.paths['/api/set_data.php']!.get.description, /\| 4 \| Duplicate unique field \|/);
      assert.match(doc.paths['/api/get_data.php']!.get.description, /\| 6 \| No matching repository assign \|/);
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

    test('/docs is one HTML page that loads nothing from other hosts and is pinned by its CSP', async () => {
      const res = await h.app.inject({ url: '/docs' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      const html = res.body;
      assert.doesNotMatch(html, /https?:\/\//);
      assert.doesNotMatch(html, /<script[^>]*\bsrc=/i);
      assert.doesNotMatch(html, /<link\b/i);
      assert.doesNotMatch(html, /@import|url\(/i);
      assert.match(html, /data-spec="\/openapi\.json"/);
      const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
      const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
      assert.doesNotThrow(() => new vm.Script(script), 'the page script compiles');
      const csp = String(res.headers['content-security-policy']);
      const hash = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
      assert.match(csp, /default-src 'none'/);
      assert.ok(csp.includes(`script-src ${hash(script)}`), 'the script is the one the CSP allows');
      assert.ok(csp.includes(`style-src ${hash(style)}`), 'the style is the one the CSP allows');
      assert.match(csp, /connect-src 'self'/);
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
        const page = await based.app.inject({ url: '/dev-6/docs' });
        assert.match(page.body, /data-spec="\/dev-6\/openapi\.json"/);
      } finally {
        await based.close();
      }
    });
  });
}
