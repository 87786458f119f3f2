// Prometheus metrics (prom-client), one registry per app. Every label has a small fixed set of values:
// surface, endpoint (a route pattern or a telephony endpoint name, never a URL with ids), method, answer
// code, outcome. No id, phone, key or other unbounded value is ever a label.
import type { FastifyInstance } from 'fastify';
import client from 'prom-client';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Config } from './config.ts';
import type { Db } from './db/connect.ts';
import { pendingCount } from './crm/webhooks.ts';

export interface Metrics {
  registry: client.Registry;
  /** A request of any surface: its endpoint (route pattern or name), answer code, seconds. */
  request(surface: string, endpoint: string, method: string, code: number | string, seconds: number): void;
  /** A telephony answer, from serve.ts: counts the request, and get_data's lookup result or a write. */
  telephony(endpoint: string, envelope: { code: number; message?: unknown }, seconds: number): void;
  /** A lookup by an inbound adapter: hit (one), several, miss. */
  lookup(surface: string, result: 'hit' | 'several' | 'miss'): void;
  write(surface: string, endpoint: string, ok: boolean): void;
  delivery(outcome: string, seconds: number): void;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(db: Db): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'callcrm_' });
  const requests = new client.Counter({ name: 'callcrm_requests_total', help: 'Requests answered, by surface, endpoint, method and answer code (HTTP status, or the telephony envelope code)', labelNames: ['surface', 'endpoint', 'method', 'code'], registers: [registry] });
  const latency = new client.Histogram({ name: 'callcrm_request_duration_seconds', help: 'Time to answer, by surface, endpoint and answer code', labelNames: ['surface', 'endpoint', 'code'], buckets: LATENCY_BUCKETS, registers: [registry] });
  const lookups = new client.Counter({ name: 'callcrm_lookups_total', help: 'Caller lookups by result: hit (one match), several, miss', labelNames: ['surface', 'result'], registers: [registry] });
  const writes = new client.Counter({ name: 'callcrm_writes_total', help: 'Writes by surface, endpoint and result (ok, failed)', labelNames: ['surface', 'endpoint', 'result'], registers: [registry] });
  const deliveries = new client.Counter({ name: 'callcrm_webhook_deliveries_total', help: 'Webhook delivery attempts by outcome: delivered, retry (failed, will retry), failed (gave up)', labelNames: ['outcome'], registers: [registry] });
  const deliveryLatency = new client.Histogram({ name: 'callcrm_webhook_delivery_duration_seconds', help: 'Time of one delivery attempt', buckets: LATENCY_BUCKETS, registers: [registry] });
  new client.Gauge({
    name: 'callcrm_webhook_outbox_pending',
    help: 'Webhook deliveries waiting to be sent, plus events not yet fanned out into deliveries (read at scrape time)',
    registers: [registry],
    async collect() {
      this.set(await pendingCount(db.read));
    },
  });
  const pool = db.pgNamedPool;
  if (pool) {
    new client.Gauge({
      name: 'callcrm_db_pool_connections',
      help: 'PostgreSQL pool connections by state: total, idle, waiting (requests queued for a connection)',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        this.set({ state: 'total' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'waiting' }, pool.waitingCount);
      },
    });
  }

  const m: Metrics = {
    registry,
    request(surface, endpoint, method, code, seconds) {
      requests.inc({ surface, endpoint, method, code: String(code) });
      latency.observe({ surface, endpoint, code: String(code) }, seconds);
    },
    telephony(endpoint, envelope, seconds) {
      m.request('telephony', endpoint, '', envelope.code, seconds);
      if (endpoint === 'get_data') {
        // By phone an unknown caller is a success with an empty list (the vendor's answer); by assign id,
        // code 6 (telephony/codes.ts).
        if (envelope.code === 0 && Array.isArray(envelope.message)) {
          const n = envelope.message.length;
          lookups.inc({ surface: 'telephony', result: n === 0 ? 'miss' : n === 1 ? 'hit' : 'several' });
        } else if (envelope.code === 6) lookups.inc({ surface: 'telephony', result: 'miss' });
      } else writes.inc({ surface: 'telephony', endpoint, result: envelope.code === 0 ? 'ok' : 'failed' });
    },
    lookup(surface, result) {
      lookups.inc({ surface, result });
    },
    write(surface, endpoint, ok) {
      writes.inc({ surface, endpoint, result: ok ? 'ok' : 'failed' });
    },
    delivery(outcome, seconds) {
      deliveries.inc({ outcome });
      deliveryLatency.observe(seconds);
    },
  };
  return m;
}

/**
 * GET {BASE}/metrics behind the CRM_METRICS_TOKEN bearer token, and the onResponse hook that counts every
 * request outside the telephony API (which answer() in telephony/serve.ts counts, for both carriers).
 */
export function registerMetrics(app: FastifyInstance, config: Config, metrics: Metrics) {
  const base = config.basePath;
  app.addHook('onResponse', async (request, reply) => {
    const path = request.url.slice(base.length);
    if (path.startsWith('/api/')) return;
    const surface = path.startsWith('/admin/') ? 'admin' : path.startsWith('/integrations/') ? 'integrations' : 'other';
    // The route's pattern (/admin/v1/customers/:customer_id), never the URL; unrouted paths are one value.
    const endpoint = request.routeOptions.url ? request.routeOptions.url.slice(base.length) : 'unmatched';
    metrics.request(surface, endpoint, request.method, reply.statusCode, reply.elapsedTime / 1000);
  });
  if (config.metricsToken === undefined) return;
  const expected = createHash('sha256').update(config.metricsToken).digest();
  app.get(`${base}/metrics`, { schema: { tags: ['metrics'], summary: 'Prometheus metrics (bearer CRM_METRICS_TOKEN)' } }, async (request, reply) => {
    const header = request.headers.authorization;
    const token = typeof header === 'string' && /^Bearer /i.test(header) ? header.slice(7).trim() : '';
    if (token === '' || !timingSafeEqual(createHash('sha256').update(token).digest(), expected)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: { code: 'unauthorized', message: 'Missing or invalid bearer token' } });
    }
    return reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}
