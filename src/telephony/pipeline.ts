// One telephony request, whatever carried it in (telephony/routes.ts: Fastify, for POST and anything the
// fast path does not take; telephony/fast-path.ts: node:http, for GET and HEAD). Everything is here, in
// order: method, failed-key throttle, parameters (query and body), limits, key check, the endpoint's
// handler, audit, headers, the log line and the envelope. A carrier only turns its request into a
// TelephonyRequest and writes the TelephonyAnswer back.
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { Endpoint } from '../config.ts';
import { insertAuditIn, type AuditLog } from '../crm/audit.ts';
import type { AuthThrottle } from '../http/throttle.ts';
import { JSON_TYPE, SECURITY_HEADERS } from '../http/headers.ts';
import { AUTH, GET_DATA, SET_DATA, SET_STATUS, TRANSPORT_CODE, fail, type Envelope } from './codes.ts';
import type { AuditInWrite, Handler, Outcome, TelephonyContext } from './context.ts';
import type { createKeyChecker } from './auth.ts';
import { getData } from './get-data.ts';
import { setData } from './set-data.ts';
import { setStatus } from './set-status.ts';
import { checkParams } from './limits.ts';
import { Params } from './params.ts';
import { createCharsets } from './charset.ts';
import { TransportRefusal } from './refusal.ts';
import { readBody, type Body } from './body.ts';
import { auditWorkerText } from './write-support.ts';
import { keyScopeAllows } from './key-scope.ts';

interface EndpointDef {
  handler: Handler;
  /** The endpoint's answer when the database fails (no detail: it goes to the log). */
  dbFailure: readonly [number, string];
}

const ENDPOINTS: Readonly<Record<Endpoint, EndpointDef>> = {
  get_data: { handler: getData, dbFailure: GET_DATA.database },
  set_data: { handler: setData, dbFailure: SET_DATA.updateFailed },
  set_status: { handler: setStatus, dbFailure: SET_STATUS.failed },
};

/**
 * Every endpoint takes GET and POST (get_data is documented as GET; POST is taken for lenient clients).
 * HEAD never writes (telephony-api.md): on get_data it answers as GET without the body; on the writing
 * endpoints it is refused like any other method.
 */
const ALLOWED: Readonly<Record<Endpoint, readonly string[]>> = {
  get_data: ['GET', 'HEAD', 'POST'],
  set_data: ['GET', 'POST'],
  set_status: ['GET', 'POST'],
};

export interface TelephonyRequest {
  endpoint: Endpoint;
  method: string;
  /** The raw URL: its query string is read, and it is logged with secrets redacted. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The client address (http/client-address.ts). */
  ip: string;
  reqId: string;
  /** The body as the carrier can read it; called at most once, only for a POST. */
  body(): Promise<Body>;
}

export interface TelephonyAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface PipelineDeps {
  ctx: TelephonyContext;
  checkKey: ReturnType<typeof createKeyChecker>;
  audit: AuditLog;
  throttle: AuthThrottle;
  /** Every configured key and token: never stored in the audit log, whatever parameter carried it. */
  secrets: ReadonlySet<string>;
  log: FastifyBaseLogger;
  /** True once the app is closing: every answer then closes its connection (see app.ts). */
  draining(): boolean;
  /** Counts the answer (metrics.ts): both carriers come through here. */
  observe?: (endpoint: Endpoint, envelope: Envelope, seconds: number) => void;
}

export type TelephonyPipeline = (req: TelephonyRequest) => Promise<TelephonyAnswer>;

export function createPipeline(deps: PipelineDeps): TelephonyPipeline {
  const { ctx, log } = deps;
  const bodyLimit = ctx.config.bodyLimit;
  const charsets = createCharsets(ctx.config.legacyCharset);

  function reply(status: number, envelope: Envelope, extra?: Record<string, string>): TelephonyAnswer {
    const headers: Record<string, string> = { ...SECURITY_HEADERS, 'content-type': JSON_TYPE, ...extra };
    if (deps.draining()) headers.connection = 'close';
    return { status, headers, body: JSON.stringify(envelope) };
  }

  async function answer(req: TelephonyRequest, started: number): Promise<TelephonyAnswer> {
    const allowed = ALLOWED[req.endpoint];
    if (!allowed.includes(req.method)) return reply(405, fail([TRANSPORT_CODE, 'Method not allowed']), { allow: allowed.join(', ') });
    const wait = deps.throttle.retryAfter(req.ip);
    // Refused without checking the key: the legacy clients' answer to any refused key is code 1.
    if (wait > 0) return reply(200, fail(AUTH), { 'retry-after': String(Math.ceil(wait / 1000)) });

    let params: Params;
    let out: string[] | undefined;
    try {
      params = new Params();
      const q = req.url.indexOf('?');
      if (q !== -1) charsets.addForm(params, req.url.slice(q + 1));
      if (req.method === 'POST') await readBody(params, req.headers, await req.body(), bodyLimit, charsets);
      out = checkParams(params, req.endpoint);
    } catch (err) {
      if (err instanceof TransportRefusal) return reply(err.statusCode, fail([TRANSPORT_CODE, err.publicMessage]));
      log.error({ err, reqId: req.reqId }, `${req.endpoint} request could not be read`);
      return reply(500, fail([TRANSPORT_CODE, 'Internal error']));
    }

    const ep = ENDPOINTS[req.endpoint];
    const key = deps.checkKey(req.endpoint, params.get('authkey') ?? apiKeyOf(req.headers['x-api-key']));
    const workerId = auditWorkerText(params, (v) => deps.secrets.has(v));
    const auditRow = (code: number, assignId: number | null, projectId: number | null) => ({
      at: Date.now(),
      endpoint: req.endpoint,
      code,
      latency_ms: Math.round((performance.now() - started) * 1000) / 1000,
      key_id: key.keyId,
      key_name: key.ok ? (key.keyName ?? null) : null,
      client_ip: req.ip,
      worker_id: workerId,
      assign_id: assignId,
      project_id: projectId,
    });
    // A successful write inserts its audit row inside its own transaction (crm/audit.ts), so the row is
    // on disk exactly when the write is; it counts only when that transaction committed, which the
    // success answer tells (a failed commit answers a failure code).
    let inWrite = false;
    const auditInWrite: AuditInWrite = async (trx, row) => {
      await insertAuditIn(trx, auditRow(0, row.assignId, row.projectId));
      inWrite = true;
    };
    let outcome: Outcome;
    if (!key.ok) {
      deps.throttle.fail(req.ip);
      outcome = { envelope: fail(AUTH) };
    } else {
      try {
        // A named key limited to projects (access/keys.ts) answers code 1 for any other project; a valid
        // key used outside its projects is a misconfiguration, not a guess, so it is not throttled.
        const inScope = key.projectIds == null || (await keyScopeAllows(ctx, req.endpoint, params, key.projectIds));
        outcome = inScope ? await ep.handler(ctx, { params, out }, auditInWrite) : { envelope: fail(AUTH) };
      } catch (err) {
        log.error({ err, reqId: req.reqId }, `${req.endpoint} failed`);
        outcome = { envelope: fail(ep.dbFailure) };
      }
    }
    if (req.endpoint !== 'get_data' && !(inWrite && outcome.envelope.code === 0)) {
      deps.audit.record(auditRow(outcome.envelope.code, outcome.assignId ?? null, outcome.projectId ?? null));
    }
    deps.observe?.(req.endpoint, outcome.envelope, (performance.now() - started) / 1000);
    return reply(200, outcome.envelope);
  }

  // The level is fixed at start-up.
  const logRequests = ['trace', 'debug', 'info'].includes(log.level);
  const logArrivals = ['trace', 'debug'].includes(log.level);

  return async (req) => {
    const started = performance.now();
    // At debug, a line when the request arrives too (before a POST's body is read).
    if (logArrivals) log.debug({ reqId: req.reqId, req: { method: req.method, url: req.url, ip: req.ip } }, 'incoming request');
    const res = await answer(req, started);
    // HEAD answers as GET without the body (whatever the carrier would do with one).
    if (req.method === 'HEAD') {
      res.headers['content-length'] = String(Buffer.byteLength(res.body));
      res.body = '';
    }
    if (logRequests) {
      // One line per request, the same from both carriers (Fastify's own request lines are off for
      // telephony requests: app.ts). The req serializer (log.ts) redacts the URL.
      log.info(
        { reqId: req.reqId, req: { method: req.method, url: req.url, ip: req.ip }, res: { statusCode: res.status }, responseTime: performance.now() - started },
        'request completed',
      );
    }
    return res;
  };
}

/** X-Api-Key, trimmed; undefined when absent or empty. */
function apiKeyOf(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' ? header.trim() || undefined : undefined;
}
