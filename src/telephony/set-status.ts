// set_status.php: set or clear the disposition of one assign.
import { lockAssign, recordCall } from '../crm/assigns.ts';
import { SET_STATUS, STATUS_SET, fail, success, type Envelope } from './codes.ts';
import type { Handler } from './context.ts';
import { parseId } from './params.ts';
import { Refusal, answerOfRetry, auditWorker, callIdOf, claimRetry, notesOf, requestHash, storeRetryAnswer, type RetryKey } from './write-support.ts';

const NOT_HASHED = new Set(['authkey', 'call_id']);

export const setStatus: Handler = async (ctx, { params: p }, auditInWrite) => {
  const assignParam = p.get('repository_assign_id');
  if (assignParam === undefined) return { envelope: fail(SET_STATUS.missingAssign) };
  const assignId = parseId(assignParam);
  if (assignId === undefined) return { envelope: fail(SET_STATUS.invalidAssign) };
  const statusParam = p.get('status_id');

  // A worker_id that is not a registered worker is still recorded as given: an audit field must not
  // make a disposition fail (telephony-api.md).
  const workerId = auditWorker(p);
  const callId = callIdOf(p);
  const notes = notesOf(p);
  let retry: RetryKey | undefined;
  let projectId: number | null = null;

  try {
    const envelope = await ctx.db.write(async (trx): Promise<Envelope> => {
      const assign = await lockAssign(trx, assignId);
      // Checks in the order of the codes: an unknown assign (3) before a missing status (4).
      if (!assign) throw new Refusal(fail(SET_STATUS.invalidAssign));
      projectId = assign.project_id;
      if (statusParam === undefined) throw new Refusal(fail(SET_STATUS.missingStatus));
      let statusId: number | null = null;
      if (statusParam !== '0') {
        const sid = parseId(statusParam);
        if (sid === undefined || (await ctx.lookup.statusProject(sid, trx)) !== assign.project_id) throw new Refusal(fail(SET_STATUS.failed));
        statusId = sid;
      }
      if (callId !== null) {
        retry = { endpoint: 'set_status', call_id: callId, assign_id: assign.id, request_hash: requestHash(p, NOT_HASHED) };
        const prior = await claimRetry(trx, retry, assign.project_id);
        if (prior) return prior;
      }
      const w = { source: 'set_status' as const, worker_id: workerId, call_id: callId };
      await recordCall(trx, assign, { ...w, status_id: statusId, notes }, statusId);
      // Setting and clearing both answer the seed's only success text.
      const answer = success(STATUS_SET);
      if (retry) await storeRetryAnswer(trx, retry, answer);
      // Last in the transaction: the audit row commits with the write (crm/audit.ts).
      await auditInWrite?.(trx, { assignId: assign.id, projectId: assign.project_id });
      return answer;
    });
    return { envelope, assignId, projectId };
  } catch (err) {
    if (err instanceof Refusal) return { envelope: err.envelope, assignId, projectId };
    const earlier = await answerOfRetry(ctx.db.q, err, retry).catch(() => undefined);
    if (earlier) return { envelope: earlier, assignId, projectId };
    ctx.log.error({ err }, 'set_status failed');
    return { envelope: fail(SET_STATUS.failed), assignId, projectId };
  }
};
