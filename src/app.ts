// buildApp: the whole HTTP surface, wired explicitly, without listening. Tests (inject), the CLI and the
// benchmark use the same builder as the server.
import { createServer } from 'node:http';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { DestinationStream } from 'pino';
import type { Config } from './config.ts';
import type { Db } from './db/connect.ts';
import { isConnectionFailure } from './db/dialect.ts';
import { AppError, errorBody } from './errors.ts';
import { loggerOptions } from './log.ts';
import { adminRoutes } from './admin/index.ts';
import swagger from '@fastify/swagger';
import { openapiOptions } from './docs/openapi.ts';
import { docsRoutes } from './docs/routes.ts';
import { telephonyRoutes, envelopeReply } from './telephony/routes.ts';
import { createKeyChecker } from './telephony/auth.ts';
import { TRANSPORT_CODE, fail } from './telephony/codes.ts';
import { createAuditLog } from './crm/audit.ts';
import { listFields } from './crm/fields.ts';
import { createLookup } from './crm/lookup.ts';
import { createAuthThrottle } from './auth-throttle.ts';
import { createFastPath, type FastPath } from './telephony/fast-path.ts';
import { clientErrorHandler, registerSecurity, secretsOf } from './security.ts';
import { integrationRoutes } from './integrations/index.ts';
import { createMetrics, registerMetrics } from './metrics.ts';
import { startSender, type Sender } from './webhooks/sender.ts';

export interface BuildOptions {
  config: Config;
  db: Db;
  /** Where logs go (tests capture them); default stdout. */
  logStream?: DestinationStream;
}

export async function buildApp({ config, db, logStream }: BuildOptions): Promise<FastifyInstance> {
  // GET telephony requests are answered by the fast path (telephony/fast-path.ts) once it is wired below;
  // every other request goes to Fastify. app.inject() does not use the server: tests of the route see Fastify.
  let fastPath: FastPath | undefined;
  const app = Fastify({
    serverFactory: (handler) =>
      createServer((req, res) => {
        if (!fastPath?.(req, res)) handler(req, res);
      }),
    logger: loggerOptions(config.logLevel, logStream, secretsOf(config)),
    bodyLimit: config.bodyLimit,
    // request.ip is X-Forwarded-For's client only when the TCP peer is a configured proxy.
    trustProxy: config.trustProxy.length > 0 ? [...config.trustProxy] : false,
    // Many IVRs send `?authkey=…&phone=+972…`; a `+` in a query value is a space as in PHP (URLSearchParams).
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // While draining on SIGTERM, a request already on an open connection is served (with Connection:
    // close), not refused with a bare 503: a dialer's disposition must not be lost to a deploy.
    return503OnClosing: false,
    clientErrorHandler,
    // A path Fastify cannot decode (a bad %-escape) or route would get Fastify's own body, which is not
    // the telephony envelope and echoes the whole URL, authkey included.
    frameworkErrors: (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
      if (request.url.startsWith(`${config.basePath}/api/`)) return envelopeReply(reply, status, fail([TRANSPORT_CODE, 'Malformed URL']));
      return reply.code(status).send(errorBody('invalid_input', 'Malformed URL'));
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true } },
  });

  const base = config.basePath;
  const audit = createAuditLog(db, (err) => app.log.error({ err }, 'audit log write failed'));
  app.addHook('onClose', async () => {
    await audit.flush();
  });
  const throttle = createAuthThrottle(config.authFailLimit);
  registerSecurity(app, config, throttle);
  // While draining, every answer closes its connection. Node closes idle keep-alive connections once, when
  // the server stops listening; a connection busy at that moment would otherwise stay open after its
  // answer until the keep-alive timeout (72 s), holding the process past any stop deadline.
  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (draining) reply.header('connection', 'close');
    return payload;
  });

  // One error handler for the admin API and everything outside /api: stable slugs, no internals on 5xx.
  app.setErrorHandler((err: Error & { statusCode?: number; validation?: { instancePath: string; message?: string; params?: Record<string, unknown> }[] }, request, reply) => {
    if (err instanceof AppError) return reply.code(err.status).send(errorBody(err.code, err.message, err.details));
    if (err.validation) {
      const details: Record<string, string> = {};
      for (const v of err.validation) {
        const missing = v.params?.missingProperty as string | undefined;
        const extra = v.params?.additionalProperty as string | undefined;
        const path = (v.instancePath.replace(/^\//, '').replace(/\//g, '.') || missing || extra || 'body');
        details[missing && v.instancePath === '' ? missing : path] = extra ? `unknown property ${extra}` : (v.message ?? 'invalid');
      }
      return reply.code(400).send(errorBody('invalid_input', `invalid input: ${Object.entries(details).map(([k, v]) => `${k} ${v}`).join('; ')}`, details));
    }
    const status = err.statusCode ?? 500;
    if (status === 413) return reply.code(413).send(errorBody('body_too_large', 'The request body is too large'));
    if (status === 415) return reply.code(415).send(errorBody('unsupported_media_type', 'Unsupported content type'));
    if (status >= 400 && status < 500) return reply.code(status).send(errorBody('invalid_input', err.message));
    if (isDatabaseDown(err)) {
      request.log.error({ err }, 'database unavailable');
      return reply.code(503).send(errorBody('database_unavailable', 'The database is unavailable; try again shortly'));
    }
    request.log.error({ err }, 'request failed');
    return reply.code(500).send(errorBody('internal', 'Internal error'));
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    if (path.startsWith(`${base}/api/`)) return envelopeReply(reply, 404, fail([TRANSPORT_CODE, 'Not found']));
    return reply.code(404).send(errorBody('not_found', `No route ${request.method} ${path}`));
  });

  const metrics = createMetrics(db);
  registerMetrics(app, config, metrics);
  // The webhook sender runs while the app is up: started when ready, stopped (in-flight deliveries
  // aborted and made due again) before the database closes.
  let sender: Sender | undefined;
  app.addHook('onReady', async () => {
    if (config.webhookSender) sender = startSender({ db, config, log: app.log, onDelivery: (outcome, seconds) => metrics.delivery(outcome, seconds) });
  });
  app.addHook('onClose', async () => {
    await sender?.stop();
  });

  const fieldNameCache = new Map<number, { at: number; names: Promise<ReadonlySet<string>> }>();
  const ctx = {
    config,
    db,
    checkKey: createKeyChecker(config),
    lookup: createLookup(db),
    log: app.log,
    fieldNames(projectId: number) {
      const hit = fieldNameCache.get(projectId);
      if (hit && Date.now() - hit.at < 10_000) return hit.names;
      const names = listFields(db.read, projectId).then((fs) => new Set(fs.map((f) => f.display_name)));
      if (fieldNameCache.size > 10_000) fieldNameCache.clear();
      fieldNameCache.set(projectId, { at: Date.now(), names });
      return names;
    },
  };

  // Before every route: the OpenAPI document is collected from the routes as they are registered.
  await app.register(swagger, openapiOptions(base));
  const observe = metrics.telephony;
  await app.register(telephonyRoutes, { prefix: `${base}/api`, ctx, audit, throttle, observe });
  fastPath = createFastPath(base, { ctx, audit, throttle, observe }, app.log, () => draining, config.trustProxy);
  await app.register(adminRoutes, { prefix: `${base}/admin/v1`, config, db });
  await app.register(docsRoutes, { prefix: base, base });
  await app.register(integrationRoutes, { prefix: `${base}/integrations`, config, db, checkKey: ctx.checkKey, lookup: ctx.lookup, metrics });

  app.get(`${base}/healthz`, async () => ({ status: 'ok' }));
  app.get(`${base}/readyz`, async (_request, reply) => {
    try {
      await db.ping();
      return { status: 'ok', database: db.dialect };
    } catch {
      return reply.code(503).send({ status: 'unavailable', database: db.dialect });
    }
  });

  return app;
}

/** Connection-level failures (the database is down or unreachable), as opposed to a bad query. */
export function isDatabaseDown(err: unknown): boolean {
  // The dialects' error shapes are named in one place, next to the driver code (db/dialect.ts).
  return isConnectionFailure(err);
}
