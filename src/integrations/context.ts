// What the inbound adapters share: config, database, the telephony key checker (passed in by app.ts, so
// this surface never imports the telephony one), metrics, and the few request readers they all use.
import type { FastifyRequest } from 'fastify';
import { Type, type TProperties } from '@fastify/type-provider-typebox';
import type { Config, Endpoint } from '../config.ts';
import type { Db } from '../db/connect.ts';
import type { Lookup } from '../crm/lookup.ts';
import type { Metrics } from '../metrics.ts';

export interface IntegrationDeps {
  config: Config;
  db: Db;
  /** The telephony API's key check: an adapter acts as get_data (lookups) or set_status (writes). */
  checkKey: (endpoint: Endpoint, candidate: string | undefined) => { ok: boolean; keyId: string | null };
  lookup: Lookup;
  metrics?: Metrics;
}

/** Query and body (form or JSON) values as strings; a body value wins, as in the telephony API. */
export function paramsOf(request: FastifyRequest): Map<string, string> {
  const out = new Map<string, string>();
  for (const source of [request.query, request.body]) {
    if (source === null || typeof source !== 'object') continue;
    for (const [k, v] of Object.entries(source as Record<string, unknown>)) {
      if (typeof v === 'string') out.set(k, v);
      else if (typeof v === 'number' || typeof v === 'boolean') out.set(k, String(v));
    }
  }
  return out;
}

/** The key: `authkey` parameter, else X-Api-Key, else the password of HTTP Basic auth. */
export function keyOf(request: FastifyRequest, p: Map<string, string>): string | undefined {
  const param = p.get('authkey');
  if (param) return param;
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header.trim() !== '') return header.trim();
  const auth = request.headers.authorization;
  if (typeof auth === 'string' && /^Basic /i.test(auth)) {
    const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0 && colon < decoded.length - 1) return decoded.slice(colon + 1);
  }
  return undefined;
}

/** A positive whole number, or undefined. */
export function idOf(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d{1,15}$/.test(v.trim())) return undefined;
  const n = Number(v.trim());
  return n > 0 ? n : undefined;
}

/** This server's address as the client reached it (behind CRM_TRUST_PROXY: as the proxy says). */
export function publicBase(request: FastifyRequest, config: Config): string {
  return `${request.protocol}://${request.host}${config.basePath}`;
}

/** The OpenAPI description of an adapter route: its parameters as optional strings (never rejected by validation). */
const KEY_SECURITY: { [scheme: string]: string[] }[] = [{ telephonyKey: [] }, { telephonyKeyHeader: [] }];

export function routeDoc(summary: string, description: string, params: string[], role: 'get_data' | 'set_status' | 'none', body = false) {
  const props: TProperties = {};
  for (const name of params) props[name] = Type.Optional(Type.String());
  const shape = Type.Object(props);
  return {
    tags: ['integrations'],
    summary,
    description: role === 'none' ? description : `${description}\n\nKey: the ${role} key, as \`authkey\`, \`X-Api-Key\` or the HTTP Basic password.`,
    ...(role === 'none' ? {} : { security: KEY_SECURITY }),
    ...(body ? { body: shape } : { querystring: shape }),
  };
}
