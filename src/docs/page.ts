// The docs page at {BASE}/docs: one self-contained HTML page (inline CSS and JS, nothing from other
// hosts — a call center's admin network may have no internet) that fetches openapi.json and renders
// every path, method, parameter, request body schema and response. @fastify/swagger-ui is not used:
// its dependencies need Node 22.
//
// The page's script and style are fixed strings; the only variable part (the document's URL) goes in
// a data attribute, so the Content-Security-Policy can pin both by hash and allow nothing else.
import { createHash } from 'node:crypto';

const CSS = `
:root { --fg: #1d2430; --muted: #5b6575; --line: #d9dee7; --bg: #f6f8fb; --card: #fff; --code: #eef1f6; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 20px 28px; background: #1f2a3c; color: #fff; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header .version { color: #b9c4d6; font-size: 13px; margin-left: 8px; }
header .desc p { margin: 6px 0 0; color: #dbe2ee; max-width: 900px; }
header .desc code { background: #33415a; color: #fff; }
.layout { display: flex; align-items: flex-start; }
nav { position: sticky; top: 0; width: 300px; max-height: 100vh; overflow: auto; padding: 16px; border-right: 1px solid var(--line); background: var(--card); flex: none; }
nav input { width: 100%; padding: 7px 9px; border: 1px solid var(--line); border-radius: 6px; font: inherit; margin-bottom: 10px; }
nav h3 { font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 14px 0 4px; }
nav a { display: flex; gap: 6px; align-items: baseline; padding: 2px 4px; color: var(--fg); text-decoration: none; font-size: 13px; border-radius: 4px; word-break: break-all; }
nav a:hover { background: var(--bg); }
main { flex: 1; padding: 20px 28px 60px; min-width: 0; }
h2.tag { margin: 28px 0 4px; font-size: 19px; }
p.tagdesc { margin: 0 0 10px; color: var(--muted); }
section.op { background: var(--card); border: 1px solid var(--line); border-radius: 8px; margin: 12px 0; }
section.op > details > summary { list-style: none; cursor: pointer; padding: 10px 14px; display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; }
section.op > details > summary::-webkit-details-marker { display: none; }
.path { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-weight: 600; word-break: break-all; }
.summary { color: var(--muted); }
.body { padding: 4px 16px 14px; border-top: 1px solid var(--line); }
.method { display: inline-block; min-width: 64px; text-align: center; font: 700 12px/20px ui-monospace, Menlo, Consolas, monospace; color: #fff; border-radius: 4px; padding: 0 6px; text-transform: uppercase; }
.m-get { background: #2f7d4f; } .m-post { background: #2b63b5; } .m-patch { background: #9a6a00; } .m-put { background: #7a4fb0; }
.m-delete { background: #b23a3a; } .m-options, .m-head, .m-trace { background: #6a7280; }
h4 { margin: 14px 0 6px; font-size: 14px; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid var(--line); }
th { color: var(--muted); font-weight: 600; font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
td.name { font-family: ui-monospace, Menlo, Consolas, monospace; white-space: nowrap; }
.req { color: #b23a3a; font-size: 11px; margin-left: 4px; }
.type { font-family: ui-monospace, Menlo, Consolas, monospace; color: #5a3e9c; }
.constraints { color: var(--muted); font-size: 12.5px; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; background: var(--code); padding: 1px 4px; border-radius: 3px; font-size: 90%; }
.schema { border-left: 3px solid var(--line); padding-left: 10px; margin: 4px 0; }
.response { margin: 6px 0 10px; }
.code { display: inline-block; font: 700 13px ui-monospace, Menlo, Consolas, monospace; padding: 0 6px; border-radius: 4px; background: var(--code); }
.c2 { color: #2f7d4f; } .c4 { color: #9a6a00; } .c5 { color: #b23a3a; }
.ctype { color: var(--muted); font-size: 12.5px; }
.muted { color: var(--muted); }
.error { margin: 20px 28px; padding: 12px; border: 1px solid #b23a3a; background: #fff0f0; border-radius: 6px; }
.hidden { display: none; }
`;

const JS = `
(function () {
  'use strict';
  var specUrl = document.body.getAttribute('data-spec');
  var spec = null;
  var METHODS = ['get', 'post', 'put', 'patch', 'delete', 'options', 'head', 'trace'];

  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) for (var k in attrs) if (attrs[k] !== undefined && attrs[k] !== null) el.setAttribute(k, attrs[k]);
    for (var i = 2; i < arguments.length; i++) add(el, arguments[i]);
    return el;
  }
  function add(el, child) {
    if (child === undefined || child === null || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { add(el, c); }); return; }
    el.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }

  // A little Markdown: paragraphs, "- " lists, pipe tables and inline code. Built as DOM nodes,
  // never as HTML strings, so nothing in the document can inject markup.
  function inline(text) {
    var out = [];
    String(text).split(/(\`[^\`]*\`)/).forEach(function (part) {
      if (/^\`[^\`]*\`$/.test(part)) out.push(h('code', null, part.slice(1, -1)));
      else if (part) out.push(part);
    });
    return out;
  }
  function markdown(text) {
    var wrap = h('div', { 'class': 'md' });
    if (!text) return wrap;
    String(text).split(/\\n\\s*\\n/).forEach(function (block) {
      var lines = block.split('\\n').filter(function (l) { return l.trim() !== ''; });
      if (lines.length === 0) return;
      if (lines.every(function (l) { return l.trim().charAt(0) === '|'; })) {
        var rows = lines.filter(function (l) { return !/^\\s*\\|[\\s:|-]+\\|\\s*$/.test(l); }).map(function (l) {
          return l.trim().replace(/^\\|/, '').replace(/\\|$/, '').split('|').map(function (c) { return c.trim(); });
        });
        var table = h('table', null, h('thead', null, h('tr', null, rows[0].map(function (c) { return h('th', null, inline(c)); }))));
        var tbody = h('tbody');
        rows.slice(1).forEach(function (r) { tbody.appendChild(h('tr', null, r.map(function (c) { return h('td', null, inline(c)); }))); });
        table.appendChild(tbody);
        wrap.appendChild(table);
      } else if (lines.every(function (l) { return /^\\s*- /.test(l); })) {
        wrap.appendChild(h('ul', null, lines.map(function (l) { return h('li', null, inline(l.replace(/^\\s*- /, ''))); })));
      } else {
        wrap.appendChild(h('p', null, inline(lines.join(' '))));
      }
    });
    return wrap;
  }

  function refName(ref) { return ref.replace(/^#\\/components\\/schemas\\//, ''); }
  function resolve(s) {
    var seen = 0;
    while (s && s.$ref && seen++ < 20) {
      var name = refName(s.$ref);
      s = spec.components && spec.components.schemas ? spec.components.schemas[name] : undefined;
    }
    return s || {};
  }

  function typeLabel(s) {
    if (!s) return 'any';
    if (s.$ref) return refName(s.$ref);
    if (s.const !== undefined) return JSON.stringify(s.const);
    if (s.enum) return s.enum.map(function (v) { return JSON.stringify(v); }).join(' | ');
    var alts = s.anyOf || s.oneOf;
    if (alts) return alts.map(typeLabel).join(' | ');
    if (s.allOf) return s.allOf.map(typeLabel).join(' & ');
    var t = Array.isArray(s.type) ? s.type.join(' | ') : s.type;
    if (t === 'array') return 'array of ' + typeLabel(s.items);
    if (!t && s.properties) t = 'object';
    if (!t) return 'any';
    if (s.format) t += ' (' + s.format + ')';
    return t;
  }

  function constraints(s) {
    var c = [];
    [['minimum', '≥ '], ['maximum', '≤ '], ['minLength', 'min length '], ['maxLength', 'max length '], ['minItems', 'min items '],
     ['maxItems', 'max items '], ['maxProperties', 'max properties '], ['pattern', 'pattern '], ['default', 'default ']].forEach(function (k) {
      if (s[k[0]] !== undefined) c.push(k[1] + (k[0] === 'pattern' || k[0] === 'default' ? JSON.stringify(s[k[0]]) : s[k[0]]));
    });
    return c.join(', ');
  }

  function isComplex(s) {
    var r = resolve(s);
    if (r.properties || r.additionalProperties && typeof r.additionalProperties === 'object' || r.patternProperties) return true;
    if (r.type === 'array') return isComplex(r.items);
    var alts = r.anyOf || r.oneOf || r.allOf;
    return !!alts && alts.some(isComplex);
  }

  // A schema as a table of its properties (nested objects below their row), or a one-line type.
  function schemaView(s, depth) {
    var box = h('div', { 'class': 'schema' });
    if (!s) { box.appendChild(h('span', { 'class': 'muted' }, 'any')); return box; }
    if (depth > 8) { box.appendChild(h('span', { 'class': 'type' }, typeLabel(s))); return box; }
    var r = resolve(s);
    if (s.$ref) box.appendChild(h('div', { 'class': 'type' }, refName(s.$ref)));
    if (r.description && depth === 0) box.appendChild(markdown(r.description));
    var alts = r.anyOf || r.oneOf;
    if (alts && alts.some(isComplex)) {
      box.appendChild(h('div', { 'class': 'muted' }, r.oneOf ? 'one of:' : 'any of:'));
      alts.forEach(function (a) { box.appendChild(schemaView(a, depth + 1)); });
      return box;
    }
    if (r.type === 'array' && isComplex(r.items)) {
      box.appendChild(h('div', { 'class': 'type' }, 'array of ' + typeLabel(r.items) + ':'));
      box.appendChild(schemaView(r.items, depth + 1));
      return box;
    }
    var props = r.properties || {};
    var names = Object.keys(props);
    var extra = [];
    if (r.additionalProperties && typeof r.additionalProperties === 'object') extra.push(['‹any name›', r.additionalProperties]);
    if (r.patternProperties) Object.keys(r.patternProperties).forEach(function (p) { extra.push(['‹name matching ' + p + '›', r.patternProperties[p]]); });
    if (names.length === 0 && extra.length === 0) {
      box.appendChild(h('div', null, h('span', { 'class': 'type' }, typeLabel(r)), ' ', h('span', { 'class': 'constraints' }, constraints(r))));
      if (r.description && depth > 0) box.appendChild(markdown(r.description));
      return box;
    }
    var required = r.required || [];
    var tbody = h('tbody');
    function row(name, p, isReq) {
      var pr = resolve(p);
      var desc = h('td', null, markdown(p.description || pr.description), h('div', { 'class': 'constraints' }, constraints(pr)));
      if (isComplex(p)) desc.appendChild(schemaView(p, depth + 1));
      tbody.appendChild(h('tr', null, h('td', { 'class': 'name' }, name, isReq ? h('span', { 'class': 'req' }, 'required') : null), h('td', { 'class': 'type' }, typeLabel(p)), desc));
    }
    names.forEach(function (n) { row(n, props[n], required.indexOf(n) >= 0); });
    extra.forEach(function (e) { row(e[0], e[1], false); });
    box.appendChild(h('table', null, h('thead', null, h('tr', null, h('th', null, 'name'), h('th', null, 'type'), h('th', null, 'description'))), tbody));
    return box;
  }

  function slug(method, path) { return 'op-' + method + '-' + path.replace(/[^A-Za-z0-9]+/g, '-'); }

  function operationView(method, path, op) {
    var body = h('div', { 'class': 'body' });
    if (op.description) body.appendChild(markdown(op.description));
    if (op.security && op.security.length) {
      body.appendChild(h('h4', null, 'Authentication'));
      body.appendChild(h('p', null, op.security.map(function (req) { return Object.keys(req).join(' + '); }).join(' or ')));
    }
    var params = op.parameters || [];
    if (params.length) {
      body.appendChild(h('h4', null, 'Parameters'));
      var tb = h('tbody');
      params.forEach(function (p) {
        var ps = resolve(p.schema);
        tb.appendChild(h('tr', null,
          h('td', { 'class': 'name' }, p.name, p.required ? h('span', { 'class': 'req' }, 'required') : null),
          h('td', null, p.in),
          h('td', { 'class': 'type' }, typeLabel(p.schema)),
          h('td', null, markdown(p.description || ps.description), h('div', { 'class': 'constraints' }, constraints(ps)))));
      });
      body.appendChild(h('table', null, h('thead', null, h('tr', null, h('th', null, 'name'), h('th', null, 'in'), h('th', null, 'type'), h('th', null, 'description'))), tb));
    }
    if (op.requestBody) {
      body.appendChild(h('h4', null, 'Request body', op.requestBody.required ? h('span', { 'class': 'req' }, 'required') : null));
      var content = op.requestBody.content || {};
      Object.keys(content).forEach(function (ct) {
        body.appendChild(h('div', { 'class': 'ctype' }, ct));
        body.appendChild(schemaView(content[ct].schema, 0));
      });
    }
    body.appendChild(h('h4', null, 'Responses'));
    Object.keys(op.responses || {}).forEach(function (code) {
      var res = op.responses[code];
      var div = h('div', { 'class': 'response' }, h('span', { 'class': 'code c' + String(code).charAt(0) }, code), ' ', inline(res.description || ''));
      var rc = res.content || {};
      Object.keys(rc).forEach(function (ct) {
        var view = schemaView(rc[ct].schema, 0);
        // Error answers share one shape: folded, so the success answer stands out.
        if (Number(code) >= 400) view = h('details', null, h('summary', { 'class': 'ctype' }, ct + ' · ' + typeLabel(rc[ct].schema)), view);
        else div.appendChild(h('div', { 'class': 'ctype' }, ct));
        div.appendChild(view);
      });
      body.appendChild(div);
    });
    var search = (method + ' ' + path + ' ' + (op.summary || '') + ' ' + (op.tags || []).join(' ')).toLowerCase();
    return h('section', { 'class': 'op', id: slug(method, path), 'data-search': search },
      h('details', null,
        h('summary', null, h('span', { 'class': 'method m-' + method }, method), h('span', { 'class': 'path' }, path), h('span', { 'class': 'summary' }, op.summary || '')),
        body));
  }

  function render(doc) {
    spec = doc;
    var info = doc.info || {};
    var header = document.getElementById('header');
    header.textContent = '';
    header.appendChild(h('h1', null, info.title || 'API', h('span', { 'class': 'version' }, 'v' + (info.version || '?') + ' · OpenAPI ' + (doc.openapi || ''))));
    header.appendChild(h('div', { 'class': 'desc' }, markdown(info.description)));

    var byTag = {};
    var tagOrder = (doc.tags || []).map(function (t) { return t.name; });
    Object.keys(doc.paths || {}).forEach(function (path) {
      var item = doc.paths[path];
      var ops = [];
      METHODS.forEach(function (m) { if (item[m]) ops.push([m, item[m]]); });
      var more = item.additionalOperations || {};
      Object.keys(more).forEach(function (m) { ops.push([m.toLowerCase(), more[m]]); });
      ops.forEach(function (o) {
        var tag = (o[1].tags && o[1].tags[0]) || 'other';
        if (tagOrder.indexOf(tag) < 0) tagOrder.push(tag);
        (byTag[tag] = byTag[tag] || []).push([o[0], path, o[1]]);
      });
    });

    var nav = document.getElementById('nav');
    var main = document.getElementById('main');
    var schemes = (doc.components && doc.components.securitySchemes) || {};
    if (Object.keys(schemes).length) {
      main.appendChild(h('h2', { 'class': 'tag' }, 'Authentication'));
      var tb = h('tbody');
      Object.keys(schemes).forEach(function (name) {
        var s = schemes[name];
        var how = s.type === 'http' ? 'HTTP ' + s.scheme + ' (Authorization header)' : s.type === 'apiKey' ? s.name + ' in ' + s.in : s.type;
        tb.appendChild(h('tr', null, h('td', { 'class': 'name' }, name), h('td', null, how), h('td', null, markdown(s.description))));
      });
      main.appendChild(h('table', null, tb));
    }
    var tagDesc = {};
    (doc.tags || []).forEach(function (t) { tagDesc[t.name] = t.description; });
    tagOrder.forEach(function (tag) {
      var ops = byTag[tag];
      if (!ops) return;
      nav.appendChild(h('h3', null, tag));
      main.appendChild(h('h2', { 'class': 'tag', id: 'tag-' + tag }, tag));
      if (tagDesc[tag]) main.appendChild(h('p', { 'class': 'tagdesc' }, inline(tagDesc[tag])));
      ops.forEach(function (o) {
        var view = operationView(o[0], o[1], o[2]);
        main.appendChild(view);
        var link = h('a', { href: '#' + view.id, 'data-search': view.getAttribute('data-search') }, h('span', { 'class': 'method m-' + o[0] }, o[0]), o[1]);
        link.addEventListener('click', function () { view.querySelector('details').open = true; });
        nav.appendChild(link);
      });
    });

    var filter = document.getElementById('filter');
    filter.addEventListener('input', function () {
      var q = filter.value.trim().toLowerCase();
      document.querySelectorAll('[data-search]').forEach(function (el) {
        el.classList.toggle('hidden', q !== '' && el.getAttribute('data-search').indexOf(q) < 0);
      });
    });
    if (location.hash) {
      var target = document.getElementById(location.hash.slice(1));
      if (target && target.querySelector('details')) { target.querySelector('details').open = true; target.scrollIntoView(); }
    }
  }

  fetch(specUrl, { headers: { accept: 'application/json' } })
    .then(function (res) { if (!res.ok) throw new Error('HTTP ' + res.status); return res.json(); })
    .then(render)
    .catch(function (err) {
      document.getElementById('main').appendChild(h('div', { 'class': 'error' }, 'Could not load ' + specUrl + ': ' + err.message));
    });
})();
`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The page and the Content-Security-Policy that lets it load nothing but its own document. */
export function docsPage(openapiUrl: string): { html: string; csp: string } {
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>callcrm API</title>
<style>${CSS}</style>
</head>
<body data-spec="${escapeAttr(openapiUrl)}">
<header id="header"><h1>callcrm API</h1><p>Loading the OpenAPI document…</p></header>
<div class="layout">
<nav id="nav"><input id="filter" type="search" placeholder="Filter: path, method, summary" aria-label="Filter operations"></nav>
<main id="main"><noscript>This page renders ${escapeAttr(openapiUrl)} with JavaScript; that document is the API description.</noscript></main>
</div>
<script>${JS}</script>
</body>
</html>
`;
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(JS)}`,
    `style-src ${sha256(CSS)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, csp };
}
