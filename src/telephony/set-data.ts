// set_data.php: write back customer fields and/or the assign's status after (or during) a call.
import { lockCustomer, updateCustomer, type Change } from '../crm/customers.ts';
import { RESERVED_PARAMS, validateValue } from '../crm/fields.ts';
import { lockAssign, recordCall } from '../crm/assigns.ts';
import { DuplicateUniqueError } from '../errors.ts';
import { SET_DATA, STATUS_SET, fail, success, type Envelope } from './codes.ts';
import type { Handler } from './context.ts';
import { parseId } from './params.ts';
import { findCallerAssigns, resolveProject } from './target.ts';
import { Refusal, answerOfRetry, auditWorker, callIdOf, claimRetry, requestHash, storeRetryAnswer, type RetryKey } from './write-support.ts';

const NOT_HASHED = new Set(['authkey', 'call_id']);

export const setData: Handler = async (ctx, p, apiKeyHeader, auditInWrite) => {
  const key = ctx.checkKey('set_data', p.get('authkey') ?? apiKeyHeader);
  if (!key.ok) return { envelope: fail(SET_DATA.auth) };
  const keyId = key.keyId;

  const byAssign = p.get('repository_assign_id') !== undefined;
  if (!byAssign) {
    // phone, did and (project_id or worker_id); with CRM_DID_OPTIONAL a registered DID may stand for the
    // project, as in get_data.
    const projectGiven = p.get('project_id') !== undefined || p.get('worker_id') !== undefined;
    const didGiven = p.get('did') !== undefined;
    const lookupOk = ctx.config.didOptional ? didGiven || projectGiven : didGiven && projectGiven;
    if (p.get('phone') === undefined || !lookupOk) {
      return { envelope: fail(SET_DATA.missingAssign), keyId };
    }
  }

  // Every parameter that is not reserved is a field update. In by-assign mode `phone` is not a lookup
  // key, so it is a field update when the project has such a field (telephony-api.md).
  const fieldParams = p.names().filter((n) => !RESERVED_PARAMS.has(n) || (byAssign && n === 'phone'));
  const statusParam = p.get('status_id');
  // Code 7 is checked right after 2, before any database read.
  if (fieldParams.length === 0 && statusParam === undefined) return { envelope: fail(SET_DATA.noFields), keyId };

  let assignId: number;
  if (byAssign) {
    const id = parseId(p.get('repository_assign_id'));
    if (id === undefined) return { envelope: fail(SET_DATA.invalidAssign), keyId };
    assignId = id;
  } else {
    const project = await resolveProject(ctx, p);
    if (!project.ok) return { envelope: fail(SET_DATA.noValid, project.message), keyId };
    const [first] = await findCallerAssigns(ctx, project.projectId, p, 1);
    if (!first) return { envelope: fail(SET_DATA.noValid), keyId, projectId: project.projectId };
    assignId = first.id;
  }

  const workerId = auditWorker(p);
  const callId = callIdOf(p);
  const notes = p.get('notes') ?? null;
  let retry: RetryKey | undefined;
  let projectId: number | null = null;

  try {
    const envelope = await ctx.db.write(async (trx): Promise<Envelope> => {
      const assign = await lockAssign(trx, assignId);
      if (!assign) throw new Refusal(byAssign ? fail(SET_DATA.invalidAssign) : fail(SET_DATA.noValid));
      projectId = assign.project_id;
      if (callId !== null) {
        retry = { endpoint: 'set_data', call_id: callId, assign_id: assign.id, request_hash: requestHash(p, NOT_HASHED) };
        const prior = await claimRetry(trx, retry, assign.project_id);
        if (prior) return prior;
      }

      const byName = await ctx.lookup.fieldsByName(assign.project_id, fieldParams, trx);
      // Keyed by client-given names: a null prototype keeps a parameter named __proto__ an ordinary key.
      const errors: Record<string, string> = Object.create(null);
      const changes: Change[] = [];
      for (const name of fieldParams) {
        const field = byName.get(name);
        if (!field) {
          if (name !== 'phone') errors[name] = 'Unknown field';
          continue;
        }
        const v = p.malformed.has(name) ? ({ ok: false, reason: 'not a text value' } as const) : validateValue(field, p.raw(name)!);
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
      await auditInWrite?.(trx, { keyId, assignId: assign.id, projectId: assign.project_id });
      return answer;
    });
    return { envelope, keyId, assignId, projectId };
  } catch (err) {
    if (err instanceof Refusal) return { envelope: err.envelope, keyId, assignId, projectId };
    if (err instanceof DuplicateUniqueError) {
      return { envelope: fail(SET_DATA.duplicate, `${SET_DATA.duplicate[1]}: ${err.field}`), keyId, assignId, projectId };
    }
    const earlier = await answerOfRetry(ctx.db.q, err, retry).catch(() => undefined);
    if (earlier) return { envelope: earlier, keyId, assignId, projectId };
    ctx.log.error({ err }, 'set_data failed');
    return { envelope: fail(SET_DATA.updateFailed), keyId, assignId, projectId };
  }
};
