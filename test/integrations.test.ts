// The inbound adapters as their PBXs and dialers call them: 3CX (the generated template, performed as 3CX
// would), VICIdial's Dispo Call URL, Asterisk's caller name within its time bound; and their settings.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { SaxesParser } from 'saxes';
import { KEYS, admin, adminHeaders, dialects, seedProject, setup, tel, type Harness } from './helpers.ts';

interface XmlNode {
  name: string;
  attributes: Record<string, string>;
  children: XmlNode[];
  text: string;
}

/** A strict XML parse (saxes rejects anything not well-formed) into a small tree. */
function parseXml(xml: string): XmlNode {
  const parser = new SaxesParser();
  const root: XmlNode = { name: '#root', attributes: {}, children: [], text: '' };
  const stack = [root];
  parser.on('opentag', (t) => {
    const node: XmlNode = { name: t.name, attributes: t.attributes as Record<string, string>, children: [], text: '' };
    stack[stack.length - 1]!.children.push(node);
    stack.push(node);
  });
  parser.on('text', (t) => (stack[stack.length - 1]!.text += t));
  parser.on('closetag', () => void stack.pop());
  parser.write(xml).close();
  return root.children[0]!;
}
const child = (n: XmlNode, name: string) => n.children.find((c) => c.name === name);
const children = (n: XmlNode | undefined, name: string) => (n ? n.children.filter((c) => c.name === name) : []);

/** Substitutes 3CX's [Placeholders], including the [[X].ToString("…")] form of passes=2 values. */
function substitute(s: string, vars: Record<string, string>): string {
  return s.replace(/\[\[(\w+)\]\.ToString\("[^"]*"\)\]/g, (_, k: string) => vars[k] ?? '').replace(/\[(\w+)\]/g, (m, k: string) => vars[k] ?? m);
}

/** A JSON path as 3CX's Variables use it: dotted, through arrays (first record). */
function pathValue(json: unknown, path: string): unknown {
  let v: unknown = json;
  for (const part of path.split('.')) {
    if (Array.isArray(v)) v = v[0];
    v = (v as Record<string, unknown> | undefined)?.[part];
  }
  return Array.isArray(v) ? v[0] : v;
}

for (const dialect of dialects()) {
  describe(`integrations (${dialect})`, () => {
    let h: Harness;
    before(async () => {
      // The sender's poll would read the database while the Asterisk test holds a lock on it.
      h = await setup(dialect, { CRM_WEBHOOK_POLL_MS: '60000' });
      await seedProject(h.app);
    });
    after(async () => h.close());

    const get = (url: string, headers: Record<string, string> = {}) => h.app.inject({ method: 'GET', url, headers });

    it('3CX: the template is valid XML whose lookup and ReportCall requests, performed as 3CX does, find the contact and journal the call once', async () => {
      // 555 becomes customer 123's newest assign
      await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 555, status_id: 2 });
      const put = await h.app.inject({ method: 'PUT', url: '/admin/v1/projects/10/integrations/3cx', headers: adminHeaders, payload: { first_name_field: 'first_name', last_name_field: 'last_name', email_field: 'email', phone_fields: ['mobile', 'home'] } });
      assert.equal(put.statusCode, 200, put.body);
      const bad = await h.app.inject({ method: 'PUT', url: '/admin/v1/projects/10/integrations/3cx', headers: adminHeaders, payload: { company_field: 'no_such_field' } });
      assert.equal(bad.statusCode, 422);
      // A code VICIdial cannot send (a space, 21 characters) is a 400, not stored out of sight.
      for (const code of ['CALL BACK', 'C'.repeat(21)]) {
        const badCode = await h.app.inject({ method: 'PUT', url: '/admin/v1/projects/10/integrations/vicidial', headers: adminHeaders, payload: { status_map: { [code]: 10 } } });
        assert.equal(badCode.statusCode, 400, badCode.body);
      }
      assert.deepEqual(await admin(h.app, 'GET', '/projects/10/integrations/vicidial'), { status_map: {} });
      assert.equal((await admin(h.app, 'GET', '/projects/10/integrations/3cx')).email_field, 'email');

      const res = await get('/integrations/3cx/template.xml?project_id=10', { host: 'crm.example.com' });
      assert.equal(res.statusCode, 200);
      assert.match(res.headers['content-type'] as string, /^application\/xml/);
      const crm = parseXml(res.body);
      assert.equal(crm.name, 'Crm');
      assert.ok(child(crm, 'Number') && child(crm, 'Connection') && child(crm, 'Parameters') && child(crm, 'Authentication'));
      const scenarios = children(child(crm, 'Scenarios'), 'Scenario');
      const lookup = scenarios.find((s) => s.attributes.Id === '')!;
      const report = scenarios.find((s) => s.attributes.Id === 'ReportCall')!;
      assert.ok(lookup && report);

      // What the 3CX admin types into the template's parameters, and what 3CX knows about the call.
      const vars: Record<string, string> = { LookupKey: KEYS.get_data, JournalKey: KEYS.set_status, ReportCallEnabled: 'True', Number: '+972 50-000-0000' };
      const perform = async (scenario: XmlNode) => {
        const req = child(scenario, 'Request')!;
        const url = new URL(substitute(req.attributes.Url!, vars));
        assert.equal(url.host, 'crm.example.com');
        const headers: Record<string, string> = { host: url.host };
        for (const v of children(child(req, 'Headers'), 'Value')) headers[v.attributes.Key!] = substitute(v.text, vars);
        const values = children(child(req, 'PostValues'), 'Value');
        const body = values.length ? Object.fromEntries(values.map((v) => [v.attributes.Key!, substitute(v.text, vars)])) : undefined;
        assert.equal(req.attributes.RequestType, body ? 'Post' : 'Get');
        if (body) assert.equal(req.attributes.RequestEncoding, 'Json');
        const r = await h.app.inject({ method: body ? 'POST' : 'GET', url: url.pathname + url.search, headers, ...(body ? { payload: body } : {}) });
        assert.equal(r.statusCode, 200, r.body);
        const json = r.json();
        for (const rule of children(child(scenario, 'Rules'), 'Rule')) assert.notEqual(pathValue(json, rule.text), undefined, `rule ${rule.text}`);
        const got: Record<string, string> = {};
        for (const v of children(child(scenario, 'Variables'), 'Variable')) got[v.attributes.Name!] = String(pathValue(json, v.attributes.Path!) ?? '');
        const outputs: Record<string, string> = {};
        for (const o of children(child(scenario, 'Outputs'), 'Output')) outputs[o.attributes.Type!] = substitute(o.attributes.Value!, got);
        return { json, outputs };
      };

      const found = await perform(lookup);
      assert.deepEqual(
        { ...found.outputs },
        {
          ContactUrl: 'http://crm.example.com/app/customers/123',
          EntityId: '123',
          EntityType: 'Contacts',
          FirstName: 'John',
          LastName: 'Doe',
          CompanyName: '',
          Email: 'john@mail.com',
          PhoneMobile: '050-000-0000',
          PhoneBusiness: '',
          PhoneHome: '',
        },
      );
      assert.deepEqual(found.json.contacts[0].phones, ['050-000-0000']);

      Object.assign(vars, { EntityId: found.outputs.EntityId!, Agent: '101', CallType: 'Inbound', Duration: '00:01:23', CallStartTimeUTC: '2026-12-01T10:00:00Z', CallEndTimeUTC: '2026-12-01T10:01:23Z' });
      const journaled = await perform(report);
      assert.equal(journaled.json.assign_id, 555);
      const calls = async () => (await admin(h.app, 'GET', '/assigns/555/calls?limit=100')).items.filter((c: any) => c.source === '3cx');
      const [call] = await calls();
      assert.equal(call.at, '2026-12-01T10:00:00.000Z');
      assert.equal(call.notes, '3CX Inbound, 83 s, agent 101');
      // 3CX posting the same call again records nothing new
      const again = await perform(report);
      assert.deepEqual(again.json, journaled.json);
      assert.equal((await calls()).length, 1);

      // keys: the lookup takes the get_data key, journaling the set_status key (also as HTTP Basic password)
      assert.equal((await get('/integrations/3cx/lookup?project_id=10&number=0500000000', { 'x-api-key': KEYS.set_status })).statusCode, 401);
      const basic = 'Basic ' + Buffer.from(`3cx:${KEYS.get_data}`).toString('base64');
      const viaBasic = await get('/integrations/3cx/lookup?project_id=10&number=0500000000', { authorization: basic });
      assert.equal(viaBasic.json().contacts[0].id, 123);
      assert.deepEqual((await get(`/integrations/3cx/lookup?project_id=10&number=0599999999&authkey=${KEYS.get_data}`)).json(), { contacts: [] });
    });

    it('VICIdial: the Dispo Call URL records the call and the mapped status once per uniqueid + dispo; an unmapped dispo records the call only', async () => {
      const bad = await h.app.inject({ method: 'PUT', url: '/admin/v1/projects/10/integrations/vicidial', headers: adminHeaders, payload: { status_map: { SALE: 999 } } });
      assert.equal(bad.statusCode, 422);
      const put = await h.app.inject({ method: 'PUT', url: '/admin/v1/projects/10/integrations/vicidial', headers: adminHeaders, payload: { status_map: { SALE: 10, CALLBK: 2 } } });
      assert.equal(put.statusCode, 200, put.body);
      assert.deepEqual(await admin(h.app, 'GET', '/projects/10/integrations/vicidial'), { status_map: { SALE: 10, CALLBK: 2 } });

      // As a campaign's Dispo Call URL sends them (VICIdial substitutes --A--name--B--; empty ones stay empty).
      const url = (v: Record<string, string>) =>
        '/integrations/vicidial/dispo?' +
        new URLSearchParams({ authkey: KEYS.set_status, project_id: '10', phone_number: '0500000000', lead_id: '4242', vendor_lead_code: '2190811', list_id: '101', dispo: 'SALE', user: '6666', talk_time: '35', uniqueid: '1700000000.1234', call_notes: 'wants gold', did_pattern: '', ...v }).toString();
      const first = await get(url({}));
      assert.equal(first.statusCode, 200);
      assert.match(first.headers['content-type'] as string, /^text\/plain/);
      assert.equal(first.body, 'OK call recorded on assign 2190811, status 10');
      assert.equal((await admin(h.app, 'GET', '/assigns/2190811')).status_id, 10);
      const repeat = await get(url({}));
      assert.equal(repeat.body, first.body);
      const vici = async (id: number) => (await admin(h.app, 'GET', `/assigns/${id}/calls?limit=100`)).items.filter((c: any) => c.source === 'vicidial');
      const calls = await vici(2190811);
      assert.equal(calls.length, 1);
      assert.equal(calls[0].notes, 'VICIdial SALE, talk 35 s, user 6666: wants gold');

      const unmapped = await get(url({ dispo: 'NI' }));
      assert.equal(unmapped.statusCode, 200);
      assert.match(unmapped.body, /^OK call recorded on assign 2190811; dispo NI is not mapped/);
      assert.equal((await admin(h.app, 'GET', '/assigns/2190811')).status_id, 10);
      assert.equal((await vici(2190811)).length, 2);

      // no vendor_lead_code: the assign is found by phone within the project (customer 123's newest)
      const byPhone = await get(url({ vendor_lead_code: '', uniqueid: '1700000001.1', dispo: 'CALLBK' }));
      assert.match(byPhone.body, /^OK call recorded on assign \d+, status 2$/);

      assert.match((await get(url({ authkey: 'wrong' }))).body, /^ERROR: /);
      assert.match((await get(url({ authkey: KEYS.get_data }))).body, /^ERROR: /);
      const missing = await get(url({ vendor_lead_code: '', phone_number: '0599999999', uniqueid: 'x' }));
      assert.equal(missing.statusCode, 404);
      assert.match(missing.body, /^ERROR: no assign/);
      assert.match((await get(url({ dispo: '' }))).body, /^ERROR: /);
    });

    it('Asterisk: caller-name answers the configured fields as text, by project or by DID, empty when unknown', async () => {
      const put = await h.app.inject({ method: 'PUT', url: '/admin/v1/projects/10/integrations/asterisk', headers: adminHeaders, payload: { name_fields: ['last_name', 'first_name'] } });
      assert.equal(put.statusCode, 200, put.body);
      const name = (qs: string) => get(`/integrations/asterisk/caller-name?authkey=${KEYS.get_data}&${qs}`);
      const r = await name('number=%2B972500000000&project_id=10');
      assert.equal(r.statusCode, 200);
      assert.match(r.headers['content-type'] as string, /^text\/plain/);
      assert.equal(r.body, 'Doe John');
      assert.equal((await name('number=0500000000&did=07333333333')).body, 'Doe John');
      assert.equal((await name('number=0599999999&project_id=10')).body, '');
      assert.equal((await get('/integrations/asterisk/caller-name?number=0500000000&project_id=10')).statusCode, 401);
    });

    it('Asterisk: caller-name answers within 1.5 s while another connection holds the database locked (PostgreSQL: empty)', async () => {
      let release: () => Promise<void>;
      if (dialect === 'sqlite') {
        // The write lock, held: WAL readers do not wait for it, so the name still comes, in time.
        const other = new SqliteDatabase(h.databaseUrl.slice('sqlite:'.length));
        other.exec('begin immediate');
        other.exec('update projects set name = name where id = 10');
        release = async () => {
          other.exec('rollback');
          other.close();
        };
      } else {
        // The tables the lookup reads, locked: the lookup waits, the answer does not.
        const other = new pg.Client({ connectionString: h.databaseUrl });
        await other.connect();
        await other.query(`set search_path to ${h.pgSchema}`);
        await other.query('begin');
        await other.query('lock table customer_phones, integration_settings in access exclusive mode');
        release = async () => {
          await other.query('rollback');
          await other.end();
        };
      }
      try {
        const t = performance.now();
        const r = await get(`/integrations/asterisk/caller-name?authkey=${KEYS.get_data}&number=0500000000&project_id=10`);
        const ms = performance.now() - t;
        assert.equal(r.statusCode, 200);
        assert.equal(r.body, dialect === 'sqlite' ? 'Doe John' : '');
        assert.ok(ms < 1500, `answered in ${ms.toFixed(0)} ms`);
        if (dialect === 'postgres') assert.ok(ms > 1000, 'waited for the lookup until the bound');
      } finally {
        await release();
      }
      // and the name again once the database is free
      assert.equal((await get(`/integrations/asterisk/caller-name?authkey=${KEYS.get_data}&number=0500000000&project_id=10`)).body, 'Doe John');
    });
  });
}
