// Asterisk caller name: `Set(CALLERID(name)=${CURL(…/caller-name?number=${CALLERID(num)}&did=${EXTEN}…)})`
// in a dialplan. A dialplan waits for CURL() while the caller hears ringing, so this always answers within
// 1.5 s: empty when the caller is unknown or the database is slow.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { IntegrationDeps } from './context.ts';
import { idOf, keyOf, paramsOf, routeDoc } from './context.ts';
import { normalizePhone } from '../phone.ts';
import { boundedReads, prepareRead } from '../db/prepared.ts';
import { slot } from '../db/slots.ts';

/** The answer is given by then whatever the database does (the dialplan's budget is 1.5 s). */
const ANSWER_WITHIN_MS = 1200;
/** SQLite: how long a read may wait for a lock (its driver blocks the process meanwhile). */
const SQLITE_BUSY_MS = 500;

const text = (reply: FastifyReply, code: number, body: string) => reply.code(code).header('content-type', 'text/plain; charset=utf-8').send(body);

export async function asteriskRoutes(app: FastifyInstance, deps: IntegrationDeps) {
  const { db, config, lookup } = deps;
  const settingsRead = prepareRead(db, (q) => q.selectFrom('integration_settings').select('settings').where('project_id', '=', slot(0)).where('kind', '=', 'asterisk'));

  app.get('/asterisk/caller-name', { schema: routeDoc('Asterisk: caller display name', "text/plain: the configured name fields of the caller's newest assign; empty when unknown or when the database does not answer within the bound (always answered within 1.5 s).", ['authkey', 'number', 'did', 'project_id'], 'get_data') }, async (request, reply) => {
    const p = paramsOf(request);
    if (!deps.checkKey('get_data', keyOf(request, p)).ok) return text(reply, 401, '');
    const phone = normalizePhone(p.get('number')?.trim() ?? '', config.defaultCountry);
    if (phone === '') return text(reply, 200, '');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(''), ANSWER_WITHIN_MS)));
    const name = (async () => {
      let projectId = idOf(p.get('project_id'));
      if (projectId === undefined) {
        const did = normalizePhone(p.get('did')?.trim() ?? '', config.defaultCountry);
        const owners = did === '' ? [] : await boundedReads(db, SQLITE_BUSY_MS, () => lookup.didProjects(did));
        if (owners.length !== 1) return '';
        projectId = owners[0]!;
      }
      const pid = projectId;
      // Both reads start at once under a short SQLite lock wait (see boundedReads).
      const [settings, found] = boundedReads(db, SQLITE_BUSY_MS, () => [settingsRead.all([pid]), lookup.findByPhone(pid, phone, {}, 1)] as const);
      const [rows, assigns] = await Promise.all([settings, found]);
      deps.metrics?.lookup('asterisk', assigns.length === 0 ? 'miss' : 'hit');
      if (assigns.length === 0) return '';
      const fields = rows[0] ? (JSON.parse(rows[0].settings) as { name_fields: string[] }).name_fields : [];
      const data = JSON.parse(assigns[0]!.data) as Record<string, string>;
      const names = fields.length > 0 ? fields : ['first_name', 'last_name'];
      // One line of printable text: a newline or control character would break the dialplan's variable.
      return names.map((n) => data[n] ?? '').filter(Boolean).join(' ').replace(/[\p{Cc}"\\]/gu, ' ').replace(/\s+/g, ' ').trim().slice(0, 80);
    })().catch((err: unknown) => {
      request.log.warn({ err }, 'asterisk caller-name: lookup failed, answering empty');
      return '';
    });
    const answer = await Promise.race([name, late]);
    clearTimeout(timer);
    return text(reply, 200, answer);
  });
}
