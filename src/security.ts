// HTTP hardening of the Fastify-served surfaces (admin API, docs, health), wired by buildApp: security
// headers, CORS for the admin API, the admin API's failed-token throttling, and strict ids in admin
// paths. The telephony pipeline sends the same headers itself (http/headers.ts) and keeps its own throttle.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from './config.ts';
import type { AuthThrottle } from './http/throttle.ts';
import { SECURITY_HEADERS } from './http/headers.ts';
import { errorBody, invalid } from './errors.ts';
import { MAX_ID, parseId } from './ids.ts';

const CORS_METHODS = 'GET, POST, PUT, PATCH, DELETE';
const CORS_HEADERS = 'authorization, content-type';

/** The admin API's failed tokens are counted by `throttle` (telephony keys by the pipeline's own). */
export function registerSecurity(app: FastifyInstance, config: Config, throttle: AuthThrottle) {
  const base = config.basePath;
  const origins = new Set(config.corsOrigins);

  // The matched route, not the raw URL: a percent-encoded path reaches the same handler and must not
  // slip past the throttle. Unmatched paths (404s) have nothing to guess.
  // The integrations check telephony keys and /metrics a token: failed guesses count as the admin API's do.
  const isAdminRoute = (request: FastifyRequest) => {
    const route = request.routeOptions.url ?? '';
    return route.startsWith(`${base}/admin/`) || route.startsWith(`${base}/integrations/`) || route === `${base}/metrics`;
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

    if (!isAdminRoute(request)) return;
    const wait = throttle.retryAfter(request.ip);
    if (wait === 0) return;
    reply.header('retry-after', String(Math.ceil(wait / 1000)));
    return reply.code(429).send(errorBody('too_many_requests', 'Too many failed authentication attempts from this address; try again later'));
  });

  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode === 401 && isAdminRoute(request)) throttle.fail(request.ip);
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

/** The security headers, keeping a Content-Security-Policy the route set itself. */
function setSecurityHeaders(reply: FastifyReply) {
  const own = reply.getHeader('content-security-policy');
  reply.headers(SECURITY_HEADERS);
  if (own !== undefined) reply.header('content-security-policy', own);
  reply.removeHeader('x-powered-by');
}

/**
 * Ids in admin paths are plain decimal numbers. The schema's integer coercion would otherwise read
 * "1e3" as 1000, "0x10" as 16 and "10.0" as 10: a mistyped URL must be a 400, not another row.
 */
export async function decimalIdParams(request: FastifyRequest) {
  const params = request.params as Record<string, unknown> | undefined;
  if (!params) return;
  for (const [name, value] of Object.entries(params)) {
    // `id` and `*_id`, not `did` (DELETE /projects/:project_id/dids/:did takes any spelling of a number).
    if ((name === 'id' || name.endsWith('_id')) && typeof value === 'string' && parseId(value) === undefined) {
      throw invalid(`${name} must be a positive whole number (at most ${MAX_ID})`, { [name]: 'must be a positive whole number' });
    }
  }
}

/** Every configured secret, for the log scrubber (log.ts). */
export function secretsOf(config: Config): string[] {
  return [...Object.values(config.authkeys).flat(), ...(config.adminToken === undefined ? [] : [config.adminToken]), ...(config.metricsToken === undefined ? [] : [config.metricsToken])];
}
