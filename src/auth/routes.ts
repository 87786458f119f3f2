// Sign-in, sign-out and "who am I" for the console, outside the admin prefix: {BASE}/auth/login,
// /auth/logout, /auth/me. A sign-in takes JSON or a plain HTML form; it always starts a new session
// (a new id: a session id planted in the browser before sign-in is never promoted) and answers the user
// and the session's CSRF token, which the console sends back as X-CSRF-Token on every unsafe request.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Static } from '@fastify/type-provider-typebox';
import type { Config } from '../config.ts';
import type { Db } from '../db/connect.ts';
import { AppError, errorBody } from '../errors.ts';
import { decoyHash, verifyPassword } from '../access/passwords.ts';
import { findUserByName, toUser } from '../access/users.ts';
import { createSession, endSession, findSession } from '../access/sessions.ts';
import * as S from '../access/schemas.ts';
import { ErrorBody } from '../http/error-schema.ts';
import { clearSessionCookie, csrfTokenMatches, foreignOrigin, sessionCookie, setSessionCookie } from './session-http.ts';
import { createSignInThrottle } from './sign-in-throttle.ts';

export interface AuthDeps {
  config: Config;
  db: Db;
}

const err = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ErrorBody]));

export async function authRoutes(app: FastifyInstance, { config, db }: AuthDeps) {
  const base = config.basePath;
  const idleMs = config.sessionIdleMinutes * 60_000;
  const throttle = createSignInThrottle(config.loginFailLimit);
  const tags = ['sign-in'];

  // An HTML form posts application/x-www-form-urlencoded (repeated names: the last wins).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  /** A form sign-in from a browser page gets a redirect; fetch and API clients get JSON. */
  const wantsRedirect = (req: FastifyRequest) =>
    (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded') && /text\/html/.test(req.headers.accept ?? '');
  /** `next` only when it is a path of this site under the base path: never another host (open redirect). */
  const nextOf = (next: string | undefined) =>
    next !== undefined && next.startsWith(`${base}/`) && !next.startsWith('//') && !/[\\\s]/.test(next) ? next : `${base}/app/`;

  app.post<{ Body: Static<typeof S.SignIn> }>(
    '/auth/login',
    {
      schema: {
        tags,
        summary: 'Sign in: starts a session (cookie) and answers the user and its CSRF token',
        description:
          'JSON or form-encoded `{username, password}`. Sets the session cookie (HttpOnly, SameSite=Lax, Secure over HTTPS). ' +
          'A form post from a browser page (Accept: text/html) is answered 303 to `next` (a path of this site) or to the console, ' +
          'and on failure 303 back to the sign-in page with `error`. Wrong credentials: 401; too many failures from the address or for the username: 429 with Retry-After.',
        body: S.SignIn,
        response: { 200: S.SessionAnswer, ...err(400, 401, 403, 429) },
      },
    },
    async (req, reply) => {
      const form = wantsRedirect(req);
      const failTo = (code: string) => reply.code(303).header('location', `${base}/app/login?error=${code}&next=${encodeURIComponent(nextOf(req.body.next))}`).send('');
      // A sign-in form on another site must not sign this browser into the attacker's account.
      if (foreignOrigin(req)) {
        if (form) return failTo('forbidden');
        return reply.code(403).send(errorBody('forbidden', 'Sign-in from another site is refused'));
      }
      const { username, password } = req.body;
      const wait = throttle.retryAfter(req.ip, username);
      if (wait > 0) {
        reply.header('retry-after', String(Math.ceil(wait / 1000)));
        if (form) return failTo('throttled');
        return reply.code(429).send(errorBody('too_many_requests', 'Too many failed sign-ins; try again later'));
      }
      const row = await findUserByName(db.q, username);
      // The same work whether or not the user exists, so timing does not reveal usernames.
      const ok = await verifyPassword(password, row?.password_hash ?? (await decoyHash()));
      if (!row || !ok || row.disabled !== 0) {
        throttle.fail(req.ip, username);
        req.log.warn({ username: username.slice(0, 64) }, 'sign-in failed');
        if (form) return failTo('invalid');
        return reply.code(401).send(errorBody('unauthorized', 'Wrong username or password'));
      }
      // Signing in again replaces the browser's previous session rather than leaving it alive.
      const previous = sessionCookie(req);
      if (previous) await endSession(db.q, previous);
      const session = await createSession(db.q, row.id, req.ip, idleMs);
      setSessionCookie(reply, req, base, session.token);
      reply.header('cache-control', 'no-store');
      req.log.info({ user_id: row.id }, 'signed in');
      if (form) return reply.code(303).header('location', nextOf(req.body.next)).send('');
      return { user: toUser(row), csrf_token: session.csrfToken };
    },
  );

  app.post(
    '/auth/logout',
    {
      schema: {
        tags,
        summary: 'Sign out: ends the session at once',
        description: 'Needs the X-CSRF-Token header like every unsafe request of a session. Without a live session it still answers 204 and clears the cookie.',
        response: { 204: { type: 'null' }, ...err(403) },
      },
    },
    async (req, reply) => {
      const token = sessionCookie(req);
      if (token) {
        const session = await findSession(db.q, token, idleMs);
        if (session && (foreignOrigin(req) || !csrfTokenMatches(req, session.csrfToken))) return forbidden(reply);
        await endSession(db.q, token);
      }
      clearSessionCookie(reply, req, base);
      return reply.code(204).send();
    },
  );

  app.get(
    '/auth/me',
    { schema: { tags, summary: 'The signed-in user and the CSRF token of the session', response: { 200: S.SessionAnswer, ...err(401) } } },
    async (req, reply) => {
      const token = sessionCookie(req);
      const session = token === undefined ? undefined : await findSession(db.q, token, idleMs);
      if (!session) throw new AppError('unauthorized', 'Not signed in');
      // Personal data: not for shared caches or the back button after sign-out.
      reply.header('cache-control', 'no-store');
      return { user: session.user, csrf_token: session.csrfToken };
    },
  );
}

function forbidden(reply: FastifyReply) {
  return reply.code(403).send(errorBody('forbidden', 'A session request that changes something needs the X-CSRF-Token header of the session, from this site'));
}
