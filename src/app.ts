// buildApp: the whole HTTP surface, wired explicitly, without listening. Tests (inject), the CLI and the
// benchmark use the same builder as the server.
import { createServer } from 'node:http';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { DestinationStream } from 'pino';
import type { Config } from './config.ts';
import type { Db } from './db/connect.ts';
import { errorBody, type ErrorCode } from './errors.ts';
import { readiness } from './db/ready.ts';
import { databaseFileWarnings } from './db/files.ts';
import { loggerOptions } from './log.ts';
import { adminRoutes } from './admin/index.ts';
import swagger from '@fastify/swagger';
import { openapiOptions } from './docs/openapi.ts';
import { docsRoutes } from './docs/routes.ts';
import { consoleApiRoutes } from './console/api-routes.ts';
import { consoleRoutes } from './console/serve.ts';
import { telephonyRoutes } from './telephony/routes.ts';
import { createKeyChecker } from './telephony/auth.ts';
import { TRANSPORT_CODE, fail } from './telephony/codes.ts';
import { createPipeline } from './telephony/pipeline.ts';
import { createTelephonyPaths } from './telephony/paths.ts';
import { createFastPath } from './telephony/fast-path.ts';
import { isMultipartPost } from './telephony/body.ts';
import { createAuditLog } from './crm/audit.ts';
import { createLookup } from './crm/lookup.ts';
import { createAuthThrottle } from './http/throttle.ts';
import { createClientAddress } from './http/client-address.ts';
import { createClientWarnings } from './http/client-warnings.ts';
import { answerMissingHost, createClientErrorHandler } from './http/client-error.ts';
import { JSON_TYPE } from './http/headers.ts';
import { problemOf } from './http/problems.ts';
import { createRequestIds } from './http/request-id.ts';
import { registerSecurity, secretsOf } from './security.ts';
import { createSetupCache } from './crm/setup-cache.ts';
import { createNamedKeyStore } from './access/keys.ts';
import { authRoutes } from './auth/routes.ts';
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
  const base = config.basePath;
  const telephony = createTelephonyPaths(config.basePaths);
  const requestIds = createRequestIds();
  const clientAddress = createClientAddress(config.trustProxy);
  // The server's listener: a telephony endpoint's requests (GET, HEAD, form and JSON POSTs, and every
  // method it refuses, WebDAV's included, which Fastify would not even route) go to the fast path
  // (telephony/fast-path.ts) once it is wired below; a multipart POST and everything else to Fastify.
  // Tests dispatch to this listener too (test/helpers.ts), so they exercise the carrier production uses.
  let fastPath: ReturnType<typeof createFastPath> | undefined;
  // Requests refused before routing carry both error shapes: the path may be unknown or cut.
  const bothShapes = (slug: ErrorCode, message: string) => ({ ...fail([TRANSPORT_CODE, message]), ...errorBody(slug, message) });
  const app = Fastify({
    serverFactory: (handler) =>
      createServer({ requireHostHeader: false }, (req, res) => {
        if (answerMissingHost(req, res, bothShapes)) return;
        // classify(), not of(): a fast-path request is not marked (no new property on every request).
        const endpoint = fastPath && !isMultipartPost(req) ? telephony.classify(req.url ?? '')?.endpoint : undefined;
        if (endpoint) fastPath!(req, res, endpoint);
        else handler(req, res);
      }),
    logger: loggerOptions(config.logLevel, logStream, secretsOf(config)),
    genReqId: requestIds,
    // The telephony pipeline writes one line per request itself, the same from both carriers.
    logController: new LogController({ disableRequestLogging: (request) => telephony.of(request.raw)?.endpoint !== undefined }),
    bodyLimit: config.bodyLimit,
    // request.ip is X-Forwarded-For's client only when the TCP peer is a configured proxy.
    trustProxy: config.trustProxy.length > 0 ? [...config.trustProxy] : false,
    // Many IVRs send `?authkey=…&phone=+972…`; a `+` in a query value is a space as in PHP (URLSearchParams).
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // While draining on SIGTERM, a request already on an open connection is served (with Connection:
    // close), not refused with a bare 503: a dialer's disposition must not be lost to a deploy.
    return503OnClosing: false,
    // Requests Node refuses before any handler: the path is unknown, so both error shapes at once.
    clientErrorHandler: createClientErrorHandler(bothShapes),
    // A path Fastify cannot decode (a bad %-escape) or route would get Fastify's own body, which is not
    // the telephony envelope and echoes the whole URL, authkey included.
    frameworkErrors: (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
      return sendError(request, reply, status, 'invalid_input', 'Malformed URL');
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true } },
  });

  /** The one way an error leaves: the envelope (code 7) on a telephony path, the admin error object elsewhere. */
  function sendError(request: FastifyRequest, reply: FastifyReply, status: number, slug: ErrorCode, message: string, details?: unknown) {
    if (telephony.of(request.raw)) return reply.code(status).header('content-type', JSON_TYPE).send(JSON.stringify(fail([TRANSPORT_CODE, message])));
    return reply.code(status).send(errorBody(slug, message, details));
  }

  for (const warning of databaseFileWarnings(config.databaseUrl)) app.log.warn(warning);
  const audit = createAuditLog(db, (err, message) => app.log.error(err === undefined ? {} : { err }, message));
  app.addHook('onClose', async () => {
    await audit.flush();
  });
  // One failed-key throttle per surface: telephony keys apart from admin tokens (and sign-in).
  const throttleOptions = { exempt: config.throttleExempt };
  const adminThrottle = createAuthThrottle(config.authFailLimit, throttleOptions);
  const telephonyThrottle = createAuthThrottle(config.authFailLimit, throttleOptions);
  registerSecurity(app, config, adminThrottle);
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

  // The one error handler: stable slugs, no internals on 5xx, the envelope on telephony paths.
  app.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
    const p = problemOf(err);
    if (p.log) request.log.error({ err }, p.log);
    return sendError(request, reply, p.status, p.slug, p.message, p.details);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const match = telephony.of(request.raw);
    const message = match === null ? `No route ${request.method} ${path}` : match.unserved ? telephony.unservedMessage : 'Not found';
    return sendError(request, reply, 404, 'not_found', message);
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

  // Named telephony keys (access/keys.ts): a snapshot in memory, reloaded every second.
  const namedKeys = createNamedKeyStore(db, (err) => app.log.warn({ err }, 'named keys reload failed'));
  await namedKeys.start();
  app.addHook('onClose', () => namedKeys.stop());

  // The one setup cache of this process (crm/setup-cache.ts: what invalidates it and how other processes learn).
  const setup = createSetupCache(db);
  setup.start();
  app.addHook('onClose', async () => {
    await setup.stop();
  });
  const lookup = createLookup(db, setup);
  const ctx = {
    config,
    db,
    lookup,
    log: app.log,
    warnings: createClientWarnings(app.log),
    fieldNames: (projectId: number) => lookup.fieldNames(projectId),
  };
  const checkKey = createKeyChecker(config, namedKeys);
  const pipeline = createPipeline({ ctx, checkKey, observe: metrics.telephony, audit, throttle: telephonyThrottle, secrets: new Set(secretsOf(config)), log: app.log, draining: () => draining });

  // Before every route: the OpenAPI document is collected from the routes as they are registered.
  await app.register(swagger, openapiOptions(base));
  // The telephony API under every CRM_BASE_PATH prefix; documented once, under the first.
  for (const prefix of config.basePaths) {
    await app.register(telephonyRoutes, { prefix: `${prefix}/api`, pipeline, clientAddress, documented: prefix === base });
  }
  fastPath = createFastPath(pipeline, clientAddress, requestIds);
  // The console's reads (screen pop, search, card) live inside the admin API's scope: same auth and role checks.
  await app.register(
    async (admin) => {
      await adminRoutes(admin, { config, db, setup, keys: namedKeys });
      await consoleApiRoutes(admin, { config, db, lookup: ctx.lookup });
    },
    { prefix: `${base}/admin/v1` },
  );
  await app.register(authRoutes, { prefix: base, config, db });
  await consoleRoutes(app, { config });
  await app.register(integrationRoutes, { prefix: `${base}/integrations`, config, db, checkKey, lookup: ctx.lookup, metrics });
  await app.register(docsRoutes, { prefix: base, base });

  app.get(`${base}/healthz`, async () => ({ status: 'ok' }));
  app.get(`${base}/readyz`, async (_request, reply) => {
    const ready = await readiness(db);
    if (ready.ok) return { status: 'ok', database: db.dialect };
    return reply.code(503).send({ status: 'unavailable', database: db.dialect, reason: ready.reason });
  });

  return app;
}
