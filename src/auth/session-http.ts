// The session on the wire: the cookie (HttpOnly, SameSite=Lax, Secure over HTTPS, scoped to the base
// path) and the checks a session's unsafe request must pass (CSRF token, no foreign Origin). Used by
// the sign-in routes and by the admin API's access hook.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'callcrm_session';

/** The session cookie's value, or undefined. */
export function sessionCookie(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    // Our ids are base64url; anything else is not a session of ours (and is never looked up).
    return /^[A-Za-z0-9_-]{20,100}$/.test(value) ? value : undefined;
  }
  return undefined;
}

/**
 * Lax, not Strict: a screen pop is a link a PBX or softphone opens from elsewhere, and with Strict that
 * first navigation would arrive without the cookie (signed out). Lax still keeps the cookie off
 * cross-site POSTs, and every unsafe request also needs the CSRF token (isUnsafeAllowed).
 * Secure when the request came over HTTPS (request.protocol follows X-Forwarded-Proto only from a
 * proxy named in CRM_TRUST_PROXY). No Max-Age: the browser forgets it on exit, the server on idle.
 */
export function setSessionCookie(reply: FastifyReply, request: FastifyRequest, base: string, value: string) {
  reply.header('set-cookie', cookieText(request, base, `${SESSION_COOKIE}=${value}`));
}

export function clearSessionCookie(reply: FastifyReply, request: FastifyRequest, base: string) {
  reply.header('set-cookie', cookieText(request, base, `${SESSION_COOKIE}=; Max-Age=0`));
}

function cookieText(request: FastifyRequest, base: string, start: string) {
  return `${start}; Path=${base || '/'}; HttpOnly; SameSite=Lax${request.protocol === 'https' ? '; Secure' : ''}`;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
export const isUnsafe = (method: string) => UNSAFE.has(method);

const hostOf = (host: string) => host.toLowerCase().replace(/:(80|443)$/, '');

/**
 * True when the request says it comes from another site: an Origin that is not this host (or "null"),
 * or Sec-Fetch-Site other than same-origin. Only the host is compared: behind a TLS-terminating proxy
 * that is not in CRM_TRUST_PROXY the server sees http while the browser's Origin says https.
 * No Origin at all (non-browser clients, some older browsers) is not foreign: the CSRF token decides.
 */
export function foreignOrigin(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return true;
  const origin = request.headers.origin;
  if (origin === undefined) return false;
  try {
    const url = new URL(origin);
    return hostOf(url.host) !== hostOf(request.host);
  } catch {
    return true; // "null" (sandboxed frames, some redirects) and anything unparsable
  }
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** The X-CSRF-Token header equals the session's token (constant time). */
export function csrfTokenMatches(request: FastifyRequest, expected: string): boolean {
  const given = request.headers['x-csrf-token'];
  if (typeof given !== 'string' || given === '') return false;
  return timingSafeEqual(digest(given), digest(expected));
}
