// The legacy .php endpoints, wired explicitly. Every answer to a method an endpoint takes is HTTP 200
// with the JSON envelope; even a request refused before its parameters are read (bad body, too large,
// unknown content type) keeps the envelope, because telephony clients parse every answer as one.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import type { Endpoint } from '../config.ts';
import type { AuditLog } from '../crm/audit.ts';
import { AUTH, TRANSPORT_CODE, GET_DATA, SET_DATA, SET_STATUS, fail, type Envelope } from './codes.ts';
import type { Handler, TelephonyContext } from './context.ts';
import { getData } from './get-data.ts';
import { setData } from './set-data.ts';
import { setStatus } from './set-status.ts';
import { Params, addJsonObject, addSearchParams, queryOf } from './params.ts';
import { MAX_PARAMS, MAX_VALUE_BYTES, checkParams, multipartRefusal, tooLong } from './limits.ts';
import type { AuthThrottle } from '../auth-throttle.ts';

export { MAX_PARAMS } from './limits.ts';

type Body = URLSearchParams | Record<string, unknown> | Params | undefined;

const ENDPOINTS: { name: Endpoint; handler: Handler; methods: ('GET' | 'POST')[]; dbFailure: readonly [number, string] }[] = [
  // get_data is documented as GET; POST is taken too, for lenient clients (telephony-api.md).
  { name: 'get_data', handler: getData, methods: ['GET', 'POST'], dbFailure: GET_DATA.database },
  { name: 'set_data', handler: setData, methods: ['GET', 'POST'], dbFailure: SET_DATA.updateFailed },
  { name: 'set_status', handler: setStatus, methods: ['GET', 'POST'], dbFailure: SET_STATUS.failed },
];

export function envelopeReply(reply: FastifyReply, status: number, body: Envelope) {
  return reply.code(status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body));
}

export async function telephonyRoutes(api: FastifyInstance, opts: { ctx: TelephonyContext; audit: AuditLog; throttle?: AuthThrottle }) {
  const { ctx, audit } = opts;

  // Bodies are read here, not by the app's parsers: a form body as raw pairs (repeated names: last
  // wins, like PHP), JSON as an object, multipart field by field.
  api.removeAllContentTypeParsers();
  api.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, new URLSearchParams(body as string));
  });
  api.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      done(null, parsed);
    } catch {
      done(Object.assign(new Error('The JSON body is not a JSON object'), { statusCode: 400 }), undefined);
    }
  });
  await api.register(multipart, { limits: { fields: MAX_PARAMS, fieldSize: MAX_VALUE_BYTES, files: 0, parts: MAX_PARAMS } });

  api.setErrorHandler((err: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) request.log.error({ err }, 'telephony request failed');
    const message = (err as { publicMessage?: string }).publicMessage ?? (
      status === 413 ? 'Request body too large' :
      status === 415 ? 'Unsupported content type' :
      status === 500 ? 'Internal error' : 'Malformed request');
    return envelopeReply(reply, status, fail([TRANSPORT_CODE, message]));
  });

  for (const ep of ENDPOINTS) {
    api.route({
      method: ep.methods,
      url: `/${ep.name}.php`,
      handler: async (request, reply) => {
        const started = performance.now();
        const params = await readParams(request, ctx.config.bodyLimit);
        checkParams(params, ep.name);
        let outcome;
        try {
          const header = request.headers['x-api-key'];
          outcome = await ep.handler(ctx, params, typeof header === 'string' ? header.trim() || undefined : undefined);
        } catch (err) {
          // A database failure answers the endpoint's failure code with no detail (it goes to the log).
          request.log.error({ err }, `${ep.name} failed`);
          outcome = { envelope: fail(ep.dbFailure) };
        }
        if (outcome.envelope.code === AUTH[0]) opts.throttle?.fail(request.ip);
        if (ep.name !== 'get_data') {
          audit.record({
            at: Date.now(),
            endpoint: ep.name,
            code: outcome.envelope.code,
            latency_ms: Math.round((performance.now() - started) * 1000) / 1000,
            key_id: outcome.keyId ?? null,
            client_ip: request.ip,
            worker_id: params.get('worker_id')?.slice(0, 64) ?? null,
            assign_id: outcome.assignId ?? null,
            project_id: outcome.projectId ?? null,
          });
        }
        return envelopeReply(reply, 200, outcome.envelope);
      },
    });
    // Any other method: 405 with the envelope and an Allow header.
    api.route({
      method: ['PUT', 'DELETE', 'PATCH', 'OPTIONS'],
      url: `/${ep.name}.php`,
      handler: async (_request, reply) => {
        reply.header('allow', [...ep.methods, 'HEAD'].join(', '));
        return envelopeReply(reply, 405, fail([TRANSPORT_CODE, 'Method not allowed']));
      },
    });
  }
}

async function readParams(request: FastifyRequest, bodyLimit: number): Promise<Params> {
  const p = new Params();
  const query = queryOf(request.url);
  addSearchParams(p, query);
  const body = request.body as Body;
  if (request.isMultipart()) {
    // Multipart is streamed past Fastify's body limit, so its fields are counted against it here.
    let bytes = 0;
    try {
      for await (const part of request.parts()) {
        if (part.type === 'field') {
          if (part.valueTruncated) throw tooLong(part.fieldname);
          const value = typeof part.value === 'string' ? part.value : String(part.value);
          bytes += Buffer.byteLength(value) + part.fieldname.length;
          if (bytes > bodyLimit) throw multipartRefusal({ statusCode: 413 });
          p.set(part.fieldname, value);
        } else {
          part.file.resume();
          p.setMalformed(part.fieldname);
        }
      }
    } catch (err) {
      throw multipartRefusal(err);
    }
  } else if (body instanceof URLSearchParams) addSearchParams(p, body);
  else if (body && typeof body === 'object') addJsonObject(p, body as Record<string, unknown>);
  return p;
}
