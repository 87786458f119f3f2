// The GET fast path. Dialers and IVRs call get_data (and often set_status) with GET and query
// parameters, inside live calls, tens of thousands of times a second; Fastify's routing, hooks and reply
// machinery cost ~25% of such a request. The server hands exactly these requests — GET on the three exact
// paths — to this handler, which runs the same answer() as the Fastify route (telephony/serve.ts) with the
// same throttling, headers and log line. Everything else (POST bodies, HEAD, other paths, a path spelled
// differently) goes to Fastify. app.inject() always goes through Fastify, so the contract tests cover the
// route; test/fast-path.test.ts checks the two give the same answers over a real socket.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import proxyAddr from '@fastify/proxy-addr';
import { redactUrl } from '../log.ts';
import { SECURITY_HEADERS } from '../security.ts';
import { AUTH, TRANSPORT_CODE, fail, type Envelope } from './codes.ts';
import { TransportRefusal } from './limits.ts';
import { Params, addSearchParams, queryOf } from './params.ts';
import { ENDPOINTS, answer, apiKeyOf, type EndpointDef, type ServeDeps } from './serve.ts';

export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * `draining`: true once the app is closing; answers then close their connection (see app.ts).
 * `trustProxy`: CRM_TRUST_PROXY; the client address is computed as Fastify's request.ip is.
 */
export function createFastPath(base: string, deps: ServeDeps, log: FastifyBaseLogger, draining: () => boolean = () => false, trustProxy: readonly string[] = []): FastPath {
  const routes = new Map<string, EndpointDef>(ENDPOINTS.map((ep) => [`${base}/api/${ep.name}.php`, ep]));
  const trusted = trustProxy.length > 0 ? proxyAddr.compile([...trustProxy]) : undefined;
  const clientIp = (req: IncomingMessage) => (trusted ? proxyAddr(req, trusted) : (req.socket.remoteAddress ?? ''));
  // The level is fixed at start-up; the same line Fastify writes when a request completes.
  const logRequests = ['trace', 'debug', 'info'].includes(log.level);

  function send(req: IncomingMessage, res: ServerResponse, ip: string, status: number, envelope: Envelope, started: number, extra?: Record<string, string>) {
    const body = JSON.stringify(envelope);
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      ...extra,
      ...(draining() ? { connection: 'close' } : {}),
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
    if (logRequests) {
      log.info(
        { req: { method: req.method, url: redactUrl(req.url ?? ''), remoteAddress: ip }, res: { statusCode: status }, responseTime: performance.now() - started },
        'request completed',
      );
    }
  }

  return (req, res) => {
    if (req.method !== 'GET' || req.url === undefined) return false;
    const q = req.url.indexOf('?');
    const ep = routes.get(q === -1 ? req.url : req.url.slice(0, q));
    if (!ep) return false;

    const started = performance.now();
    const ip = clientIp(req);
    const wait = deps.throttle?.retryAfter(ip) ?? 0;
    if (wait > 0) {
      // Refused without checking the key, as the Fastify route's onRequest hook does (security.ts).
      send(req, res, ip, 200, fail(AUTH), started, { 'retry-after': String(Math.ceil(wait / 1000)) });
      return true;
    }
    const params = new Params();
    addSearchParams(params, queryOf(req.url));
    answer(deps, ep, params, { ip, apiKey: apiKeyOf(req.headers['x-api-key']), log }).then(
      (envelope) => send(req, res, ip, 200, envelope, started),
      (err: unknown) => {
        if (err instanceof TransportRefusal) return send(req, res, ip, err.statusCode, fail([TRANSPORT_CODE, err.publicMessage]), started);
        log.error({ err }, `${ep.name} failed`);
        send(req, res, ip, 500, fail([TRANSPORT_CODE, 'Internal error']), started);
      },
    );
    return true;
  };
}
