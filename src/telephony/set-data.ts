// set_data.php: write back customer fields and/or the assign's status after (or during) a call.
import { lockCustomer, updateCustomer, type Change } from '../crm/customers.ts';
import { RESERVED_PARAMS, validateValue, valueRules } from '../crm/fields.ts';
import { lockAssign, recordCall } from '../crm/assigns.ts';
import { readSetupVersionAhead } from '../crm/setup-version.ts';
import { DuplicateUniqueError } from '../errors.ts';
import { SET_DATA, STATUS_SET, fail, success, type Envelope } from './codes.ts';
import type { Handler } from './context.ts';
import { parseId } from './params.ts';
import { findCallerAssigns, resolveProject } from './target.ts';
import { Refusal, answerOfRetry, auditWorker, callIdOf, claimRetry, hasNul, notesOf, requestHash, storeRetryAnswer, type RetryKey } from './write-support.ts';

const NOT_HASHED = new Set(['authkey', 'call_id']);
/** Our extension parameters: a form field of the same name in the assign's project wins over them. */
const EXTENSIONS: ReadonlySet<string> = new Set(['notes', 'call_id']);

export const setData: Handler = async (ctx, { params: p }, auditInWrite) => {
  const byAssign = p.get('repository_assign_id') !== undefined;
  if (!byAssign) {
    // phone, did and (project_id or worker_id); with CRM_DID_OPTIONAL a registered DID may stand for the
    // project, as in get_data.
    const projectGiven = p.get('project_id') !== undefined || p.get('worker_id') !== undefined;
    const didGiven = p.get('did') !== undefined;
    const lookupOk = ctx.config.didOptional ? didGiven || projectGiven : didGiven && projectGiven;
    if (p.get('phone') === undefined || !lookupOk) {
      return { envelope: fail(SET_DATA.missingAssign) };
    }
  }

  // Every parameter that is not reserved is a field update. In by-assign mode `phone` is not a lookup
  // key, so it is a field update when the project has such a field; `notes` and `call_id`, our
  // extensions, are field updates when the project has such a field (telephony-api.md, Legacy realities).
  const candidates = p.names().filter((n) => !RESERVED_PARAMS.has(n) || (byAssign && n === 'phone') || EXTENSIONS.has(n));
  const statusParam = p.get('status_id');
  // Code 7 is checked right after 2, before any database read (and again once the project's fields are
  // known, when the only candidates were extensions that are not fields).
  if (candidates.length === 0 && statusParam === undefined) return { envelope: fail(SET_DATA.noFields) };
  // Only extension parameters: a field update only if the assign's project has such a field, so where no
  // assign (no project) is found the answer stays 7, as it was before any database read.
  const onlyExtensions = statusParam === undefined && candidates.every((n) => EXTENSIONS.has(n));
  const notFound = (code: typeof SET_DATA.invalidAssign | typeof SET_DATA.noValid) => fail(onlyExtensions ? SET_DATA.noFields : code);

  let assignId: number;
  if (byAssign) {
    const id = parseId(p.get('repository_assign_id'));
    if (id === undefined) return { envelope: notFound(SET_DATA.invalidAssign) };
    assignId = id;
  } else {
    const project = await resolveProject(ctx, p);
    if (!project.ok) return { envelope: onlyExtensions ? fail(SET_DATA.noFields) : fail(SET_DATA.noValid, project.message) };
    const [first] = await findCallerAssigns(ctx, project.projectId, p, 1);
    if (!first) return { envelope: notFound(SET_DATA.noValid), projectId: project.projectId };
    assignId = first.id;
  }

  const workerId = auditWorker(p);
  let retry: RetryKey | undefined;
  let projectId: number | null = null;

  try {
    const envelope = await ctx.db.write(async (trx): Promise<Envelope> => {
      // The setup version (read by fieldsByName below) goes out right behind the lock (PostgreSQL: one round
      // trip), and is read once the lock is granted.
      const locking = lockAssign(trx, assignId);
      readSetupVersionAhead(trx);
      const assign = await locking;
      if (!assign) throw new Refusal(notFound(byAssign ? SET_DATA.invalidAssign : SET_DATA.noValid));
      projectId = assign.project_id;
      // A name holding U+0000 cannot be a field's (and must not reach the database): an unknown field.
      const byName = await ctx.lookup.fieldsByName(assign.project_id, candidates.filter((n) => !hasNul(n)), trx);
      const fieldParams = candidates.filter((n) => !EXTENSIONS.has(n) || byName.has(n));
      if (fieldParams.length === 0 && statusParam === undefined) throw new Refusal(fail(SET_DATA.noFields));
      const callId = byName.has('call_id') ? null : callIdOf(p);
      const notes = byName.has('notes') ? null : notesOf(p);
      if (callId !== null) {
        retry = { endpoint: 'set_data', call_id: callId, assign_id: assign.id, request_hash: requestHash(p, NOT_HASHED) };
        const prior = await claimRetry(trx, retry, assign.project_id);
        if (prior) return prior;
      }

      // Keyed by client-given names: a null prototype keeps a parameter named __proto__ an ordinary key.
      const errors: Record<string, string> = Object.create(null);
      const changes: Change[] = [];
      for (const name of fieldParams) {
        const field = byName.get(name);
        if (!field) {
          if (name !== 'phone') errors[name] = 'Unknown field';
          continue;
        }
        const raw = p.raw(name)!;
        const v = p.malformed.has(name) ? ({ ok: false, reason: 'not a text value' } as const)
          : hasNul(raw) ? ({ ok: false, reason: 'contains a NUL character (U+0000)' } as const)
          // Bytes that were text in no accepted charset (charset.ts): refused, never stored as U+FFFD.
          : raw.includes('\uFFFD') ? ({ ok: false, reason: 'not valid text (bytes in no accepted charset)' } as const)
          : validateValue(field, raw, valueRules(ctx.config));
        if (v.ok) changes.push({ field, value: v.value });
        else errors[name] = v.reason;
      }

      let statusOk = false;
      let newStatus: number | null = null;
      if (statusParam !== undefined) {
        if (statusParam === '0') statusOk = true;
        else {
          const sid = parseId(statusParam);
          statusOk = sid !== undefined && (await ctx.lookup.statusProject(sid, trx)) === assign.project_id;
          newStatus = sid ?? null;
        }
        if (!statusOk) errors.status = 'Failed to set status';
      }

      if (changes.length === 0 && !statusOk) {
        if (statusParam !== undefined) throw new Refusal({ ...fail(SET_DATA.updateFailed), errors });
        if (Object.keys(errors).length > 0) throw new Refusal({ ...fail(SET_DATA.noValid), errors });
        throw new Refusal(fail(SET_DATA.noFields));
      }

      const w = { source: 'set_data' as const, worker_id: workerId, call_id: callId, assign_id: assign.id };
      if (changes.length > 0) {
        const customer = await lockCustomer(trx, assign.customer_id);
        // Throws DuplicateUniqueError: the whole request (status included) then changes nothing.
        await updateCustomer(trx, customer!, changes, { ...w, country: ctx.config.defaultCountry });
      }
      if (statusOk || notes !== null) {
        await recordCall(trx, assign, { ...w, status_id: statusOk ? newStatus : null, notes }, statusOk ? newStatus : undefined);
      }

      const parts = changes.map((c) => `${c.field.display_name} was updated to '${c.value}'`);
      if (statusOk) parts.push(STATUS_SET);
      const hasErrors = Object.keys(errors).length > 0;
      const message = !hasErrors ? parts.join(', ') : changes.length > 0 ? 'Fields updated' : STATUS_SET;
      const answer = success(message, { ...(hasErrors ? { errors } : {}), repository_assign_id: String(assign.id) });
      if (retry) await storeRetryAnswer(trx, retry, answer);
      // Last in the transaction: the audit row commits with the write (crm/audit.ts).
      await auditInWrite?.(trx, { assignId: assign.id, projectId: assign.project_id });
      return answer;
    });
    return { envelope, assignId, projectId };
  } catch (err) {
    if (err instanceof Refusal) return { envelope: err.envelope, assignId, projectId };
    if (err instanceof DuplicateUniqueError) {
      return { envelope: fail(SET_DATA.duplicate, `${SET_DATA.duplicate[1]}: ${err.field}`), assignId, projectId };
    }
    const earlier = await answerOfRetry(ctx.db.q, err, retry).catch(() => undefined);
    if (earlier) return { envelope: earlier, assignId, projectId };
    ctx.log.error({ err }, 'set_data failed');
    return { envelope: fail(SET_DATA.updateFailed), assignId, projectId };
  }
};
