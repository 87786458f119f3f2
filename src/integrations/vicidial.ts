// VICIdial's Dispo Call URL: after an agent dispositions a call, VICIdial requests a URL with its
// variables substituted (--A--phone_number--B-- …). This records the call and the mapped status.
// Answers text/plain "OK …" or "ERROR: …" (VICIdial logs the answer in its URL log).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { getSettings } from '../crm/integration-settings.ts';
import { lockAssignByPhone, lockProjectAssign, recordExternalCall, storedAnswer } from '../crm/integration-calls.ts';
import { isUniqueViolation } from '../db/dialect.ts';
import { normalizePhone } from '../phone.ts';
import { idOf, keyOf, paramsOf, routeDoc, type IntegrationDeps } from './context.ts';

const text = (reply: FastifyReply, code: number, body: string) => reply.code(code).header('content-type', 'text/plain; charset=utf-8').send(body);

export async function vicidialRoutes(app: FastifyInstance, deps: IntegrationDeps) {
  const { db, config } = deps;

  app.route({
    method: ['GET', 'POST'],
    url: '/vicidial/dispo',
    schema: routeDoc(
      "VICIdial: a campaign's Dispo Call URL",
      'Records the call and the mapped status (per-project status_map) on the assign `vendor_lead_code` names, else the newest of `phone_number` in the project; once per uniqueid + dispo. Answers text/plain `OK …` or `ERROR: …`.',
      ['authkey', 'project_id', 'phone_number', 'lead_id', 'vendor_lead_code', 'list_id', 'dispo', 'user', 'talk_time', 'uniqueid', 'call_notes', 'did_pattern'],
      'set_status',
    ),
    handler: async (request, reply) => {
      const p = paramsOf(request);
      if (!deps.checkKey('set_status', keyOf(request, p)).ok) return text(reply, 401, 'ERROR: missing or invalid authkey (the set_status key)');
      const projectId = idOf(p.get('project_id'));
      if (projectId === undefined) return text(reply, 400, 'ERROR: project_id is required');
      const dispo = p.get('dispo')?.trim() ?? '';
      const uniqueid = p.get('uniqueid')?.trim() ?? '';
      if (dispo === '' || uniqueid === '') return text(reply, 400, 'ERROR: dispo and uniqueid are required');
      // vendor_lead_code is the callcrm repository_assign_id when the lead list was loaded from callcrm.
      const assignId = idOf(p.get('vendor_lead_code'));
      const phone = normalizePhone(p.get('phone_number')?.trim() ?? '', config.defaultCountry);
      if (assignId === undefined && phone === '') return text(reply, 400, 'ERROR: vendor_lead_code or phone_number is required');

      const map = (await getSettings(db.read, projectId, 'vicidial')).status_map;
      const statusId = Object.hasOwn(map, dispo) ? map[dispo] : undefined;
      const user = p.get('user')?.trim() ?? '';
      const talk = idOf(p.get('talk_time')) ?? null;
      const callNotes = p.get('call_notes')?.trim() ?? '';
      const notes = `VICIdial ${dispo}${talk === null ? '' : `, talk ${talk} s`}${user ? `, user ${user}` : ''}${callNotes ? `: ${callNotes}` : ''}`;
      const key = `${projectId}|${uniqueid}|${dispo}`;
      try {
        const answer = await db.write(async (trx) => {
          let assign = assignId === undefined ? undefined : await lockProjectAssign(trx, projectId, assignId);
          if (!assign && phone !== '') assign = await lockAssignByPhone(trx, projectId, phone);
          if (!assign) return undefined;
          const ok =
            statusId === undefined
              ? `OK call recorded on assign ${assign.id}; dispo ${dispo} is not mapped to a status, status unchanged`
              : `OK call recorded on assign ${assign.id}, status ${statusId}`;
          const lead = idOf(p.get('lead_id'));
          return (await recordExternalCall(trx, assign, { endpoint: 'vicidial_dispo', key, source: 'vicidial', notes, call_id: `vicidial:${uniqueid}${lead ? `:${lead}` : ''}`.slice(0, 200), status: statusId }, ok)).answer;
        });
        deps.metrics?.write('vicidial', 'dispo', answer !== undefined);
        if (answer === undefined) return text(reply, 404, 'ERROR: no assign with this vendor_lead_code or phone_number in this project');
        return text(reply, 200, answer);
      } catch (err) {
        if (isUniqueViolation(err)) {
          const earlier = await storedAnswer<string>(db.q, 'vicidial_dispo', key);
          if (earlier) return text(reply, 200, earlier);
        }
        request.log.error({ err }, 'vicidial dispo failed');
        return text(reply, 500, 'ERROR: the call could not be recorded; try again');
      }
    },
  });
}
