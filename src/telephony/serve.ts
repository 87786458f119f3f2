// One telephony request, whatever carried it in (the Fastify route, or the GET fast path in
// fast-path.ts): limits, the endpoint's handler, failed-key throttling and the audit log.
import type { FastifyBaseLogger } from 'fastify';
import type { Endpoint } from '../config.ts';
import type { AuditLog } from '../crm/audit.ts';
import type { AuthThrottle } from '../auth-throttle.ts';
import { AUTH, GET_DATA, SET_DATA, SET_STATUS, fail, type Envelope } from './codes.ts';
import type { Handler, Outcome, TelephonyContext } from './context.ts';
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
  /** Counts the answer (metrics.ts); both carriers come through answer(). */
  observe?: (endpoint: Endpoint, envelope: Envelope, seconds: number) => void;
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
  try {
    outcome = await ep.handler(deps.ctx, params, meta.apiKey);
  } catch (err) {
    meta.log.error({ err }, `${ep.name} failed`);
    outcome = { envelope: fail(ep.dbFailure) };
  }
  if (outcome.envelope.code === AUTH[0]) deps.throttle?.fail(meta.ip);
  if (ep.name !== 'get_data') {
    deps.audit.record({
      at: Date.now(),
      endpoint: ep.name,
      code: outcome.envelope.code,
      latency_ms: Math.round((performance.now() - started) * 1000) / 1000,
      key_id: outcome.keyId ?? null,
      client_ip: meta.ip,
      worker_id: params.get('worker_id')?.slice(0, 64) ?? null,
      assign_id: outcome.assignId ?? null,
      project_id: outcome.projectId ?? null,
    });
  }
  deps.observe?.(ep.name, outcome.envelope, (performance.now() - started) / 1000);
  return outcome.envelope;
}

export function apiKeyOf(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' ? header.trim() || undefined : undefined;
}
