// 3CX server-side CRM integration: the template 3CX imports (Settings → CRM Integration → Server Side),
// the contact lookup it performs on each call by [Number], and the call journaling (ReportCall) it posts
// after each call. The template holds no key: the 3CX admin types the two keys into its parameters.
import type { FastifyInstance } from 'fastify';
import { parseData } from '../crm/customers.ts';
import { listFields } from '../crm/fields.ts';
import { getSettings, type ThreeCxSettings } from '../crm/integration-settings.ts';
import { customersByPhone, lockAssignByPhone, lockNewestAssign, recordExternalCall, storedAnswer } from '../crm/integration-calls.ts';
import { isUniqueViolation } from '../db/dialect.ts';
import type { Q } from '../db/connect.ts';
import { normalizePhone } from '../phone.ts';
import { idOf, keyOf, paramsOf, publicBase, routeDoc, type IntegrationDeps } from './context.ts';

/** Most contacts one lookup answers (3CX shows the first; several mean "pick one"). */
const MAX_CONTACTS = 10;

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The template: one lookup scenario (by [Number]) and the ReportCall journaling scenario. */
export function template3cx(base: string, projectId: number): string {
  const lookupUrl = `${base}/integrations/3cx/lookup?project_id=${projectId}&number=[Number]`;
  const journalUrl = `${base}/integrations/3cx/journal`;
  const v = (key: string, value: string, passes = 0) => `          <Value Key="${key}" Passes="${passes}" Type="String">${xml(value)}</Value>`;
  return `<?xml version="1.0" encoding="utf-8"?>
<Crm xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" Country="US" Name="callcrm project ${projectId}" Version="1" SupportsEmojis="true">
  <Number Prefix="AsIs" MaxLength="[MaxLength]" />
  <Connection MaxConcurrentRequests="8" />
  <Parameters>
    <Parameter Name="LookupKey" Type="String" Parent="General Configuration" Editor="String" Title="callcrm get_data key:" />
    <Parameter Name="ReportCallEnabled" Type="Boolean" Editor="String" Title="Enable Call Journaling" Default="True" />
    <Parameter Name="JournalKey" Type="String" Parent="ReportCallEnabled" Editor="String" Title="callcrm set_status key:" />
  </Parameters>
  <Authentication Type="No" />
  <Scenarios>
    <Scenario Id="" Type="REST">
      <Request SkipIf="" Url="${xml(lookupUrl)}" MessagePasses="0" RequestEncoding="UrlEncoded" RequestType="Get" ResponseType="Json">
        <Headers>
${v('X-Api-Key', '[LookupKey]')}
        </Headers>
      </Request>
      <Rules>
        <Rule Type="Any">contacts.id</Rule>
      </Rules>
      <Variables>
        <Variable Name="ContactId" Path="contacts.id"><Filter /></Variable>
        <Variable Name="FirstName" Path="contacts.first_name"><Filter /></Variable>
        <Variable Name="LastName" Path="contacts.last_name"><Filter /></Variable>
        <Variable Name="CompanyName" Path="contacts.company"><Filter /></Variable>
        <Variable Name="Email" Path="contacts.email"><Filter /></Variable>
        <Variable Name="PhoneMobile" Path="contacts.mobile_phone"><Filter /></Variable>
        <Variable Name="PhoneBusiness" Path="contacts.business_phone"><Filter /></Variable>
        <Variable Name="PhoneHome" Path="contacts.home_phone"><Filter /></Variable>
        <Variable Name="ContactUrl" Path="contacts.url"><Filter /></Variable>
      </Variables>
      <Outputs AllowEmpty="false">
        <Output Type="ContactUrl" Passes="0" Value="[ContactUrl]" />
        <Output Type="EntityId" Passes="0" Value="[ContactId]" />
        <Output Type="EntityType" Passes="0" Value="Contacts" />
        <Output Type="FirstName" Passes="0" Value="[FirstName]" />
        <Output Type="LastName" Passes="0" Value="[LastName]" />
        <Output Type="CompanyName" Passes="0" Value="[CompanyName]" />
        <Output Type="Email" Passes="0" Value="[Email]" />
        <Output Type="PhoneMobile" Passes="0" Value="[PhoneMobile]" />
        <Output Type="PhoneBusiness" Passes="0" Value="[PhoneBusiness]" />
        <Output Type="PhoneHome" Passes="0" Value="[PhoneHome]" />
      </Outputs>
    </Scenario>
    <Scenario Id="ReportCall" Type="REST">
      <Request SkipIf="[ReportCallEnabled]!=True" Url="${xml(journalUrl)}" MessagePasses="0" RequestEncoding="Json" RequestType="Post" ResponseType="Json">
        <Headers>
${v('X-Api-Key', '[JournalKey]')}
        </Headers>
        <PostValues>
${v('project_id', String(projectId))}
${v('number', '[Number]')}
${v('agent', '[Agent]')}
${v('call_type', '[CallType]')}
${v('duration', '[Duration]')}
${v('start_time', '[[CallStartTimeUTC].ToString("yyyy-MM-ddTHH:mm:ssZ")]', 2)}
${v('end_time', '[[CallEndTimeUTC].ToString("yyyy-MM-ddTHH:mm:ssZ")]', 2)}
${v('contact_id', '[EntityId]')}
        </PostValues>
      </Request>
      <Rules>
        <Rule Type="Any">assign_id</Rule>
      </Rules>
    </Scenario>
  </Scenarios>
</Crm>
`;
}

/** The project's field roles: configured, else the usual names when the project has them, and every phone field. */
async function roles(q: Q, projectId: number): Promise<Required<ThreeCxSettings>> {
  const [s, fields] = await Promise.all([getSettings(q, projectId, '3cx'), listFields(q, projectId)]);
  const has = (n: string) => (fields.some((f) => f.display_name === n) ? n : '');
  return {
    first_name_field: s.first_name_field ?? has('first_name'),
    last_name_field: s.last_name_field ?? has('last_name'),
    company_field: s.company_field ?? has('company'),
    email_field: s.email_field ?? (fields.find((f) => f.type === 'email')?.display_name ?? ''),
    phone_fields: s.phone_fields ?? fields.filter((f) => f.type === 'phone').map((f) => f.display_name),
  };
}

/** 3CX's [Duration] is hh:mm:ss (or seconds); answered as whole seconds, null when unreadable. */
function seconds(duration: string | undefined): number | null {
  if (!duration) return null;
  if (/^\d+$/.test(duration)) return Number(duration);
  const m = /^(\d+):(\d{1,2}):(\d{1,2})(?:\.\d+)?$/.exec(duration.trim());
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : null;
}

export async function threecxRoutes(app: FastifyInstance, deps: IntegrationDeps) {
  const { db, config } = deps;

  app.get('/3cx/template.xml', { schema: routeDoc('3CX: the server-side CRM template of a project', 'XML to upload in 3CX (Settings → CRM Integration → Server Side). Holds no key.', ['project_id'], 'none') }, async (request, reply) => {
    const projectId = idOf(paramsOf(request).get('project_id'));
    if (projectId === undefined) return reply.code(400).send({ error: { code: 'invalid_input', message: 'project_id is required' } });
    return reply
      .header('content-type', 'application/xml; charset=utf-8')
      .header('content-disposition', `attachment; filename="callcrm-3cx-project-${projectId}.xml"`)
      .send(template3cx(publicBase(request, config), projectId));
  });

  app.get('/3cx/lookup', { schema: routeDoc('3CX: contacts by number', 'JSON `{contacts: [{id, first_name, last_name, company, email, phones, mobile_phone, business_phone, home_phone, url}]}`.', ['project_id', 'number', 'authkey'], 'get_data') }, async (request, reply) => {
    const p = paramsOf(request);
    if (!deps.checkKey('get_data', keyOf(request, p)).ok) return reply.code(401).send({ error: { code: 'unauthorized', message: 'Missing or invalid key (the get_data key)' } });
    const projectId = idOf(p.get('project_id'));
    const number = p.get('number')?.trim() ?? '';
    if (projectId === undefined || number === '') return reply.code(400).send({ error: { code: 'invalid_input', message: 'project_id and number are required' } });
    const phone = normalizePhone(number, config.defaultCountry);
    const found = phone === '' ? [] : await customersByPhone(db.read, projectId, phone, MAX_CONTACTS);
    deps.metrics?.lookup('3cx', found.length === 0 ? 'miss' : found.length === 1 ? 'hit' : 'several');
    if (found.length === 0) return { contacts: [] };
    const r = await roles(db.read, projectId);
    const base = publicBase(request, config);
    return {
      contacts: found.map((c) => {
        const data = parseData(c.data);
        const get = (name: string) => (name === '' ? '' : (data[name] ?? ''));
        const phones = r.phone_fields.map(get).filter((x) => x !== '');
        return {
          id: c.id,
          first_name: get(r.first_name_field),
          last_name: get(r.last_name_field),
          company: get(r.company_field),
          email: get(r.email_field),
          phones,
          mobile_phone: phones[0] ?? '',
          business_phone: phones[1] ?? '',
          home_phone: phones[2] ?? '',
          url: `${base}/app/customers/${c.id}`,
        };
      }),
    };
  });

  app.post('/3cx/journal', { schema: routeDoc('3CX: journal a call', "A call event on the contact's newest assign, once per number + start time + agent.", ['project_id', 'number', 'agent', 'call_type', 'duration', 'start_time', 'end_time', 'contact_id', 'authkey'], 'set_status', true) }, async (request, reply) => {
    const p = paramsOf(request);
    if (!deps.checkKey('set_status', keyOf(request, p)).ok) return reply.code(401).send({ error: { code: 'unauthorized', message: 'Missing or invalid key (the set_status key)' } });
    const projectId = idOf(p.get('project_id'));
    const number = p.get('number')?.trim() ?? '';
    const phone = normalizePhone(number, config.defaultCountry);
    if (projectId === undefined || phone === '') return reply.code(400).send({ error: { code: 'invalid_input', message: 'project_id and number are required' } });
    const agent = p.get('agent')?.trim() ?? '';
    const start = p.get('start_time')?.trim() ?? '';
    const startMs = Date.parse(start);
    const callType = p.get('call_type')?.trim() || 'call';
    const duration = seconds(p.get('duration'));
    const contactId = idOf(p.get('contact_id'));
    // Idempotent on number + start time + agent: 3CX may post the same call again.
    const key = `${projectId}|${phone}|${start}|${agent}`;
    const notes = `3CX ${callType}${duration === null ? '' : `, ${duration} s`}${agent ? `, agent ${agent}` : ''}`;
    try {
      const result = await db.write(async (trx) => {
        let assign = contactId === undefined ? undefined : await lockNewestAssign(trx, contactId);
        if (assign && assign.project_id !== projectId) assign = undefined;
        assign ??= await lockAssignByPhone(trx, projectId, phone);
        if (!assign) return undefined;
        const answer = { ok: true, assign_id: assign.id, customer_id: assign.customer_id };
        return (await recordExternalCall(trx, assign, { endpoint: '3cx_journal', key, source: '3cx', at: Number.isNaN(startMs) ? undefined : startMs, notes }, answer)).answer;
      });
      deps.metrics?.write('3cx', 'journal', result !== undefined);
      if (!result) return reply.code(404).send({ error: { code: 'not_found', message: 'No contact with this number in this project' } });
      return result;
    } catch (err) {
      if (isUniqueViolation(err)) {
        const earlier = await storedAnswer(db.q, '3cx_journal', key);
        if (earlier) return earlier;
      }
      throw err;
    }
  });
}
