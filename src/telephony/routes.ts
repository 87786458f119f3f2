// The legacy .php endpoints, wired explicitly. Every answer to a method an endpoint takes is HTTP 200
// with the JSON envelope; even a request refused before its parameters are read (bad body, too large,
// unknown content type) keeps the envelope, because telephony clients parse every answer as one.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { TRANSPORT_CODE, fail, type Envelope } from './codes.ts';
import { ENDPOINTS, answer, apiKeyOf, type ServeDeps } from './serve.ts';
import { Params, addJsonObject, addSearchParams, queryOf } from './params.ts';
import { MAX_PARAMS, MAX_VALUE_BYTES, multipartRefusal, tooLong } from './limits.ts';

export { MAX_PARAMS } from './limits.ts';

type Body = URLSearchParams | Record<string, unknown> | Params | undefined;

export function envelopeReply(reply: FastifyReply, status: number, body: Envelope) {
  return reply.code(status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body));
}

export async function telephonyRoutes(api: FastifyInstance, opts: ServeDeps) {
  const { ctx } = opts;

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
        const params = await readParams(request, ctx.config.bodyLimit);
        const envelope = await answer(opts, ep, params, { ip: request.ip, apiKey: apiKeyOf(request.headers['x-api-key']), log: request.log });
        return envelopeReply(reply, 200, envelope);
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
