// HTTP hardening shared by every surface, wired by buildApp: security headers, CORS for the admin API,
// failed-authentication throttling, answers to requests Node refuses before Fastify sees them, and
// strict ids in admin paths.
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from './config.ts';
import type { AuthThrottle } from './auth-throttle.ts';
import { errorBody, invalid, type ErrorCode } from './errors.ts';
import { AUTH, TRANSPORT_CODE, fail } from './telephony/codes.ts';
import { envelopeReply } from './telephony/routes.ts';

/**
 * JSON answers embed nothing, so by default nothing may load. A page that needs more sets its own policy
 * (the docs page allows exactly its inline script and style by hash, and its own origin).
 */
const CSP_DEFAULT = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const CORS_METHODS = 'GET, POST, PUT, PATCH, DELETE';
const CORS_HEADERS = 'authorization, content-type';

type Surface = 'telephony' | 'admin' | 'other';

export function registerSecurity(app: FastifyInstance, config: Config, throttle: AuthThrottle) {
  const base = config.basePath;
  const origins = new Set(config.corsOrigins);

  // The matched route, not the raw URL: a percent-encoded path reaches the same handler and must not
  // slip past the throttle. Unmatched paths (404s) have nothing to guess.
  const surfaceOf = (request: FastifyRequest): Surface => {
    const route = request.routeOptions.url ?? '';
    if (route.startsWith(`${base}/api/`)) return 'telephony';
    if (route.startsWith(`${base}/admin/`)) return 'admin';
    // The integrations check telephony keys and /metrics a token: failed guesses count as the admin API's do.
    if (route.startsWith(`${base}/integrations/`) || route === `${base}/metrics`) return 'admin';
    return 'other';
  };
  const isAdminPath = (request: FastifyRequest) => request.url.startsWith(`${base}/admin/`);

  app.addHook('onRequest', async (request, reply) => {
    // A CORS preflight carries no Authorization header, so it is answered before the admin API's auth.
    if (request.method === 'OPTIONS' && origins.size > 0 && isAdminPath(request) && request.headers['access-control-request-method']) {
      const origin = request.headers.origin;
      // An origin not listed gets no CORS headers: the browser then refuses the call.
      if (origin === undefined || !origins.has(origin)) return reply.code(204).header('vary', 'Origin').send();
      return reply
        .code(204)
        .header('access-control-allow-origin', origin)
        .header('access-control-allow-methods', CORS_METHODS)
        .header('access-control-allow-headers', CORS_HEADERS)
        .header('access-control-max-age', '600')
        .header('vary', 'Origin')
        .send();
    }

    const surface = surfaceOf(request);
    if (surface === 'other') return;
    const wait = throttle.retryAfter(request.ip);
    if (wait === 0) return;
    reply.header('retry-after', String(Math.ceil(wait / 1000)));
    // Refused without checking the key: the legacy clients' answer to any refused key is code 1.
    if (surface === 'telephony') return envelopeReply(reply, 200, fail(AUTH));
    return reply.code(429).send(errorBody('too_many_requests', 'Too many failed authentication attempts from this address; try again later'));
  });

  // Telephony failures are counted where the key is checked (telephony/routes.ts); admin ones here.
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode === 401 && surfaceOf(request) === 'admin') throttle.fail(request.ip);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    setSecurityHeaders(reply);
    if (origins.size > 0 && isAdminPath(request)) {
      reply.header('vary', 'Origin');
      const origin = request.headers.origin;
      if (origin !== undefined && origins.has(origin)) reply.header('access-control-allow-origin', origin);
    }
    return payload;
  });
}

/** nosniff, no framing, no referrer, and the default Content-Security-Policy (telephony/fast-path.ts sends them too). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': CSP_DEFAULT,
});

/** The security headers, keeping a Content-Security-Policy the route set itself. */
function setSecurityHeaders(reply: FastifyReply) {
  const own = reply.getHeader('content-security-policy');
  reply.headers(SECURITY_HEADERS);
  if (own !== undefined) reply.header('content-security-policy', own);
  reply.removeHeader('x-powered-by');
}

/**
 * Requests Node's HTTP parser refuses (headers or URL over the 16 KiB limit: 431; a malformed request
 * line or header: 400) never reach Fastify, so the path is unknown: the URL may be cut anywhere across
 * TCP packets. The answer therefore carries both error shapes at once: the telephony envelope
 * (code 7, which legacy clients parse) and the admin API's `error` object. The raw packet is never
 * logged: it holds the URL, and the URL may hold an authkey.
 */
export function clientErrorHandler(this: FastifyInstance, err: Error & { code?: string }, socket: Duplex) {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, slug, message]: [number, ErrorCode, string] =
    err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'header_too_large', 'The URL or headers are too large (at most 16 KiB)'] :
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'request_timeout', 'The request took too long to arrive'] :
    [400, 'invalid_input', 'Malformed HTTP request'];
  this.log.debug({ code: err.code, status }, 'client error');
  const body = JSON.stringify({ ...fail([TRANSPORT_CODE, message]), ...errorBody(slug, message) });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/**
 * Ids in admin paths are plain decimal numbers. The schema's integer coercion would otherwise read
 * "1e3" as 1000, "0x10" as 16 and "10.0" as 10: a mistyped URL must be a 400, not another row.
 */
export async function decimalIdParams(request: FastifyRequest) {
  const params = request.params as Record<string, unknown> | undefined;
  if (!params) return;
  for (const [name, value] of Object.entries(params)) {
    if (name.endsWith('id') && typeof value === 'string' && !/^[0-9]+$/.test(value)) {
      throw invalid(`${name} must be a positive whole number`, { [name]: 'must be a positive whole number' });
    }
  }
}

/** Every configured secret, for the log scrubber (log.ts). */
export function secretsOf(config: Config): string[] {
  return [...Object.values(config.authkeys).flat(), ...(config.adminToken === undefined ? [] : [config.adminToken]), ...(config.metricsToken === undefined ? [] : [config.metricsToken])];
}
