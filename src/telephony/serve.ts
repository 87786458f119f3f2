// One telephony request, whatever carried it in (the Fastify route, or the GET fast path in
// fast-path.ts): limits, the endpoint's handler, failed-key throttling and the audit log.
import type { FastifyBaseLogger } from 'fastify';
import type { Endpoint } from '../config.ts';
import { insertAuditIn, type AuditLog } from '../crm/audit.ts';
import type { AuthThrottle } from '../auth-throttle.ts';
import { AUTH, GET_DATA, SET_DATA, SET_STATUS, fail, type Envelope } from './codes.ts';
import type { AuditInWrite, Handler, Outcome, TelephonyContext } from './context.ts';
import { getData } from './get-data.ts';
import { setData } from './set-data.ts';
import { setStatus } from './set-status.ts';
import { checkParams } from './limits.ts';
import type { Params } from './params.ts';

export interface EndpointDef {
  name: Endpoint;
  handler: Handler;
  methods: ('GET' | 'POST')[];
  /** The endpoint's answer when the database fails (no detail: it goes to the log). */
  dbFailure: readonly [number, string];
}

export const ENDPOINTS: readonly EndpointDef[] = [
  // get_data is documented as GET; POST is taken too, for lenient clients (telephony-api.md).
  { name: 'get_data', handler: getData, methods: ['GET', 'POST'], dbFailure: GET_DATA.database },
  { name: 'set_data', handler: setData, methods: ['GET', 'POST'], dbFailure: SET_DATA.updateFailed },
  { name: 'set_status', handler: setStatus, methods: ['GET', 'POST'], dbFailure: SET_STATUS.failed },
];

export interface ServeDeps {
  ctx: TelephonyContext;
  audit: AuditLog;
  throttle?: AuthThrottle;
}

export interface RequestMeta {
  ip: string;
  /** X-Api-Key header, trimmed; undefined when absent or empty. */
  apiKey: string | undefined;
  log: FastifyBaseLogger;
}

/**
 * Answers one request. Throws a TransportRefusal (limits.ts) when the parameters are over a limit; the
 * carrier turns it into its HTTP status with the envelope.
 */
export async function answer(deps: ServeDeps, ep: EndpointDef, params: Params, meta: RequestMeta): Promise<Envelope> {
  const started = performance.now();
  checkParams(params, ep.name);
  let outcome: Outcome;
  const workerId = params.get('worker_id') ?? null;
  // Set when the handler inserted the success row in its own transaction; it counts only if that
  // transaction committed, which the success answer tells (a failed commit answers a failure code).
  let inWrite = false;
  const auditInWrite: AuditInWrite = async (trx, row) => {
    await insertAuditIn(trx, {
      at: Date.now(),
      endpoint: ep.name,
      code: 0,
      latency_ms: Math.round((performance.now() - started) * 1000) / 1000,
      key_id: row.keyId,
      client_ip: meta.ip,
      worker_id: workerId,
      assign_id: row.assignId,
      project_id: row.projectId,
    });
    inWrite = true;
  };
  try {
    outcome = await ep.handler(deps.ctx, params, meta.apiKey, auditInWrite);
  } catch (err) {
    meta.log.error({ err }, `${ep.name} failed`);
    outcome = { envelope: fail(ep.dbFailure) };
  }
  if (outcome.envelope.code === AUTH[0]) deps.throttle?.fail(meta.ip);
  if (ep.name !== 'get_data' && !(inWrite && outcome.envelope.code === 0)) {
    deps.audit.record({
      at: Date.now(),
      endpoint: ep.name,
      code: outcome.envelope.code,
      latency_ms: Math.round((performance.now() - started) * 1000) / 1000,
      key_id: outcome.keyId ?? null,
      client_ip: meta.ip,
      worker_id: workerId,
      assign_id: outcome.assignId ?? null,
      project_id: outcome.projectId ?? null,
    });
  }
  return outcome.envelope;
}

export function apiKeyOf(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' ? header.trim() || undefined : undefined;
}
