// The Fastify carrier of the telephony pipeline (pipeline.ts): POST bodies, and whatever the GET fast path
// does not take when a request reaches Fastify (app.inject() straight into Fastify, for one). It only
// adapts: Fastify's request in, the pipeline's answer out. Bodies are not parsed by Fastify: the
// pipeline reads them (a multipart body through @fastify/multipart's parts()).
import type { FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import type { ClientAddress } from '../http/client-address.ts';
import { MAX_PARAMS, MAX_VALUE_BYTES } from './limits.ts';
import { ENDPOINT_NAMES } from './paths.ts';
import type { TelephonyPipeline } from './pipeline.ts';
import type { MultipartPart } from './body.ts';

/**
 * The methods an endpoint takes (HEAD comes with GET), then the ones it refuses with 405: two routes, so
 * the OpenAPI document describes them apart. Through the server's listener these reach the fast path
 * anyway (app.ts); Fastify routes them for a request handed to it directly.
 */
const ROUTES = [['GET', 'POST'], ['PUT', 'DELETE', 'PATCH', 'OPTIONS']];

interface Options {
  pipeline: TelephonyPipeline;
  clientAddress: ClientAddress;
  /** False under a second CRM_BASE_PATH prefix: the OpenAPI document describes the endpoints once. */
  documented: boolean;
}

export async function telephonyRoutes(api: FastifyInstance, { pipeline, clientAddress, documented }: Options) {
  // Every body is left unread for the pipeline, whatever its type; multipart is read part by part.
  api.removeAllContentTypeParsers();
  api.addContentTypeParser('*', (_request, _payload, done) => done(null));
  // Parts without a charset of their own are handed over byte for byte (latin1) and decoded by the
  // pipeline like any body: UTF-8 when valid, else CRM_LEGACY_CHARSET (body.ts).
  await api.register(multipart, { defCharset: 'latin1', limits: { fields: MAX_PARAMS, fieldSize: MAX_VALUE_BYTES, files: 0, parts: MAX_PARAMS } });

  for (const endpoint of ENDPOINT_NAMES) {
    for (const method of ROUTES) {
      api.route({
        method,
        url: `/${endpoint}.php`,
        ...(documented ? {} : { schema: { hide: true } }),
        handler: async (request, reply) => {
          const answer = await pipeline({
            endpoint,
            method: request.method,
            url: request.url,
            headers: request.headers,
            ip: clientAddress(request.raw),
            reqId: request.id,
            body: async () => (request.isMultipart() ? { kind: 'multipart', parts: () => request.parts() as AsyncIterable<MultipartPart> } : { kind: 'stream', stream: request.raw }),
          });
          return reply.code(answer.status).headers(answer.headers).send(answer.body);
        },
      });
    }
  }
}
