// The one place that reads process.env. Everything else receives a frozen Config.
// A bad value stops start-up with one line naming the variable (operations.md).
import { isIP } from 'node:net';
import proxyAddr from '@fastify/proxy-addr';
import { isSupportedCountry, type CountryCode } from './phone.ts';
import { DATE_ORDERS, dateOrderOf, type DateOrder } from './crm/dates.ts';

export const SEED_KEYS = Object.freeze({
  get_data: 'Mindc_2023_get_data',
  set_data: 'Mindc_2023_set_data',
  set_status: 'Mindc_2023_set_status',
});

export type Endpoint = keyof typeof SEED_KEYS;

export interface Config {
  /** Listening port (PORT, default 8080). */
  readonly port: number;
  /** Listening address (HOST, default 127.0.0.1; 0.0.0.0 serves the network). */
  readonly host: string;
  /** sqlite:<path> or postgres://… (DATABASE_URL, default sqlite:./data/crm.sqlite). */
  readonly databaseUrl: string;
  /** PostgreSQL pool size per process (DATABASE_POOL_SIZE, default 10). */
  readonly databasePoolSize: number;
  /**
   * PostgreSQL: run get_data's lookups as named prepared statements, planned once per connection
   * (DATABASE_PREPARED_STATEMENTS, default true). Behind PgBouncer older than 1.21, or with
   * max_prepared_statements = 0, in transaction pooling: false.
   */
  readonly databasePreparedStatements: boolean;
  /**
   * PostgreSQL: inside a transaction, send the statements nobody waits for together with the next one
   * (pg's pipeline mode; db/pg-driver.ts) instead of a round trip each (DATABASE_PIPELINE, default true).
   * false: one statement at a time, as before (a proxy that does not pass pipelined queries through).
   */
  readonly databasePipeline: boolean;
  /** Prefix before /api/… and /admin/… (CRM_BASE_PATH, e.g. /dev-6; default empty): the first one listed. */
  readonly basePath: string;
  /** Every prefix the telephony API is served under (CRM_BASE_PATH, comma-separated, e.g. `,/dev-6`: both). */
  readonly basePaths: readonly string[];
  /** Accepted keys per telephony endpoint (CRM_AUTHKEY_GET_DATA, …_SET_DATA, …_SET_STATUS, comma-separated). */
  readonly authkeys: Readonly<Record<Endpoint, readonly string[]>>;
  /** True for an endpoint whose keys are the seed's public defaults (not set explicitly). */
  readonly authkeysImplicit: Readonly<Record<Endpoint, boolean>>;
  /** Bearer token of the admin API (CRM_ADMIN_TOKEN); undefined closes the admin API (403). */
  readonly adminToken: string | undefined;
  /** Country for national phone numbers (CRM_DEFAULT_COUNTRY, default IL). */
  readonly defaultCountry: CountryCode;
  /** Order of day, month and year in dates like 15/03/1985 (CRM_DATE_ORDER: DMY, MDY or YMD; default the country's, DMY for IL). */
  readonly dateOrder: DateOrder;
  /** Charset of bytes that are not UTF-8 and declare none: telephony queries and bodies, imports that are not UTF-16 with BOM (CRM_LEGACY_CHARSET, default windows-1255). */
  readonly legacyCharset: string;
  /** IANA time zone of last_call and other legacy date-times (CRM_TIMEZONE, default the system's). */
  readonly timezone: string;
  /** get_data/set_data by phone need did only when neither project_id nor worker_id is given (CRM_DID_OPTIONAL). */
  readonly didOptional: boolean;
  /**
   * A success answer means the write is on disk (CRM_DURABLE, default true): SQLite synchronous=FULL,
   * PostgreSQL synchronous_commit=on. false trades the last few hundred ms of acknowledged writes on a
   * power loss for write speed (SQLite synchronous=NORMAL, PostgreSQL synchronous_commit=off).
   */
  readonly durable: boolean;
  /** Largest accepted request body in bytes (CRM_BODY_LIMIT, default 1 MiB; imports have their own). */
  readonly bodyLimit: number;
  /** Largest accepted import body in bytes (CRM_IMPORT_LIMIT, default 2 GiB). */
  readonly importLimit: number;
  /** Worker processes (CRM_WORKERS: a number or "auto" = one per core; default 1). */
  readonly workers: number;
  /** pino level (LOG_LEVEL, default info). */
  readonly logLevel: string;
  /** Failed authkey/token attempts allowed per client IP per minute before answers slow down (CRM_AUTH_FAIL_LIMIT, default 30; 0 disables). */
  readonly authFailLimit: number;
  /** Comma-separated origins allowed by CORS on the admin API (CRM_CORS_ORIGINS; default none: CORS off). */
  readonly corsOrigins: readonly string[];
  /**
   * Reverse proxies / load balancers whose X-Forwarded-For names the client (CRM_TRUST_PROXY: addresses,
   * CIDR ranges or loopback/linklocal/uniquelocal, comma-separated; default none). The client address
   * feeds the failed-key throttle, the audit log and request logs.
   */
  readonly trustProxy: readonly string[];
  /** Addresses/CIDR ranges never throttled for failed keys (CRM_THROTTLE_EXEMPT; failures are still logged and audited). */
  readonly throttleExempt: readonly string[];
  /** A console session ends after this many idle minutes (CRM_SESSION_IDLE_MINUTES, default 480). */
  readonly sessionIdleMinutes: number;
  /** Failed sign-ins allowed per address per minute, and per username per 15 minutes (CRM_LOGIN_FAIL_LIMIT, default 10; 0 = off). */
  readonly loginFailLimit: number;
  /** Refuse webhook targets on loopback, private and link-local addresses, checked after name resolution (CRM_WEBHOOK_DENY_PRIVATE, default false). */
  readonly webhookDenyPrivate: boolean;
  /** A webhook delivery fails without a 2xx within this many ms (CRM_WEBHOOK_TIMEOUT_MS, default 10000). */
  readonly webhookTimeoutMs: number;
  /** Delay before the first retry of a failed delivery, doubled each time (CRM_WEBHOOK_RETRY_FIRST_MS, default 10000). */
  readonly webhookRetryFirstMs: number;
  /** Longest delay between two retries (CRM_WEBHOOK_RETRY_MAX_MS, default 3600000). */
  readonly webhookRetryMaxMs: number;
  /** A delivery still failing this long after it was queued is marked failed (CRM_WEBHOOK_GIVE_UP_MS, default 86400000 = 24 h). */
  readonly webhookGiveUpMs: number;
  /** Deliveries in flight at once per process (CRM_WEBHOOK_CONCURRENCY, default 8). */
  readonly webhookConcurrency: number;
  /** Deliveries a second the sender keeps starting while its event loop is saturated (CRM_WEBHOOK_BUSY_RATE, default 200): telephony first (webhooks/pace.ts). */
  readonly webhookBusyRate: number;
  /** How often the sender looks for due deliveries, in ms (CRM_WEBHOOK_POLL_MS, default 1000). */
  readonly webhookPollMs: number;
  /** Run the webhook sender in this process (CRM_WEBHOOK_SENDER, default true); false leaves delivery to another process on the database. */
  readonly webhookSender: boolean;
  /** Bearer token of GET /metrics (CRM_METRICS_TOKEN); undefined: no /metrics route. */
  readonly metricsToken: string | undefined;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export class ConfigError extends Error {}

/** Parses the environment once. Throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const str = (name: string, fallback: string) => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? fallback : v.trim();
  };
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = str(name, String(fallback));
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name}=${JSON.stringify(raw)} must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return Number(raw);
  };
  const bool = (name: string, fallback: boolean) => {
    const raw = str(name, String(fallback)).toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(raw)) return true;
    if (['false', '0', 'no', 'off'].includes(raw)) return false;
    problems.push(`${name}=${JSON.stringify(raw)} must be true or false`);
    return fallback;
  };

  const port = int('PORT', 8080, 0, 65535);
  const host = str('HOST', '127.0.0.1');

  const databaseUrl = str('DATABASE_URL', 'sqlite:./data/crm.sqlite');
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(databaseUrl)) {
    problems.push(`DATABASE_URL must start with sqlite: or postgres:// (got scheme ${JSON.stringify(databaseUrl.split(':')[0])})`);
  }
  const databasePoolSize = int('DATABASE_POOL_SIZE', 10, 1, 1000);

  // A list: `,/dev-6` serves the telephony API under both / and /dev-6 (telephony-api.md, Legacy realities).
  const basePaths: string[] = [];
  for (const raw of (env.CRM_BASE_PATH ?? '').split(',')) {
    let p = raw.trim();
    if (p !== '') {
      p = '/' + p.replace(/^\/+|\/+$/g, '');
      if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(p)) problems.push(`CRM_BASE_PATH=${JSON.stringify(p)} must be a path like /dev-6`);
    }
    if (!basePaths.includes(p)) basePaths.push(p);
  }
  const basePath = basePaths[0]!;

  const authkeys = {} as Record<Endpoint, readonly string[]>;
  const authkeysImplicit = {} as Record<Endpoint, boolean>;
  for (const endpoint of Object.keys(SEED_KEYS) as Endpoint[]) {
    const name = `CRM_AUTHKEY_${endpoint.toUpperCase()}`;
    const raw = env[name];
    authkeysImplicit[endpoint] = raw === undefined || raw.trim() === '';
    const keys = authkeysImplicit[endpoint] ? [SEED_KEYS[endpoint]] : raw!.split(',').map((k) => k.trim()).filter(Boolean);
    if (keys.length === 0) problems.push(`${name} must hold at least one key`);
    authkeys[endpoint] = Object.freeze(keys);
  }

  const adminTokenRaw = env.CRM_ADMIN_TOKEN?.trim();
  const adminToken = adminTokenRaw ? adminTokenRaw : undefined;
  if (adminToken !== undefined && adminToken.length < 8) problems.push('CRM_ADMIN_TOKEN must be at least 8 characters');

  const defaultCountry = str('CRM_DEFAULT_COUNTRY', 'IL').toUpperCase();
  if (!isSupportedCountry(defaultCountry)) problems.push(`CRM_DEFAULT_COUNTRY=${JSON.stringify(defaultCountry)} is not a known country code (ISO 3166-1 alpha-2, e.g. IL)`);

  const dateOrderRaw = str('CRM_DATE_ORDER', dateOrderOf(defaultCountry)).toUpperCase();
  if (!(DATE_ORDERS as readonly string[]).includes(dateOrderRaw)) problems.push(`CRM_DATE_ORDER=${JSON.stringify(dateOrderRaw)} must be DMY, MDY or YMD`);
  const legacyCharset = str('CRM_LEGACY_CHARSET', 'windows-1255').toLowerCase();
  try {
    new TextDecoder(legacyCharset);
  } catch {
    problems.push(`CRM_LEGACY_CHARSET=${JSON.stringify(legacyCharset)} is not a charset this Node knows (e.g. windows-1255, windows-1252, iso-8859-8)`);
  }

  const timezone = str('CRM_TIMEZONE', Intl.DateTimeFormat().resolvedOptions().timeZone);
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    problems.push(`CRM_TIMEZONE=${JSON.stringify(timezone)} is not a known IANA time zone (e.g. Asia/Jerusalem)`);
  }

  const didOptional = bool('CRM_DID_OPTIONAL', false);
  const databasePreparedStatements = bool('DATABASE_PREPARED_STATEMENTS', true);
  const databasePipeline = bool('DATABASE_PIPELINE', true);
  const durable = bool('CRM_DURABLE', true);
  const bodyLimit = int('CRM_BODY_LIMIT', 1024 * 1024, 1024, 1024 * 1024 * 1024);
  const importLimit = int('CRM_IMPORT_LIMIT', 2 * 1024 * 1024 * 1024, 1024, Number.MAX_SAFE_INTEGER);
  const workersRaw = str('CRM_WORKERS', '1');
  let workers = 1;
  if (workersRaw === 'auto') workers = 0;
  else workers = int('CRM_WORKERS', 1, 1, 256);

  const logLevel = str('LOG_LEVEL', 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL=${JSON.stringify(logLevel)} must be one of ${LOG_LEVELS.join(', ')}`);

  const authFailLimit = int('CRM_AUTH_FAIL_LIMIT', 30, 0, 1_000_000);
  const sessionIdleMinutes = int('CRM_SESSION_IDLE_MINUTES', 480, 1, 525_600);
  const loginFailLimit = int('CRM_LOGIN_FAIL_LIMIT', 10, 0, 1_000_000);
  const corsOrigins = Object.freeze(str('CRM_CORS_ORIGINS', '').split(',').map((o) => o.trim()).filter(Boolean));
  // Only named proxies are trusted: "trust everyone" would let any client spoof its address past the
  // throttle by sending its own X-Forwarded-For.
  const trustProxy = Object.freeze(str('CRM_TRUST_PROXY', '').split(',').map((o) => o.trim()).filter(Boolean));
  try {
    proxyAddr.compile([...trustProxy]);
  } catch {
    problems.push(`CRM_TRUST_PROXY=${JSON.stringify(trustProxy.join(','))} must list IP addresses or CIDR ranges (or loopback, linklocal, uniquelocal)`);
  }

  const throttleExempt = Object.freeze(str('CRM_THROTTLE_EXEMPT', '').split(',').map((o) => o.trim()).filter(Boolean));
  try {
    proxyAddr.compile([...throttleExempt]);
  } catch {
    problems.push(`CRM_THROTTLE_EXEMPT=${JSON.stringify(throttleExempt.join(','))} must list IP addresses or CIDR ranges`);
  }

  // The seed's keys are printed on a public page: they are accepted by default only on loopback.
  if (problems.length === 0 && !isLoopback(host)) {
    const implicit = (Object.keys(authkeysImplicit) as Endpoint[]).filter((e) => authkeysImplicit[e]);
    if (implicit.length > 0) {
      problems.push(
        `HOST=${host} serves the network, but ${implicit.map((e) => `CRM_AUTHKEY_${e.toUpperCase()}`).join(', ')} ` +
          `would use the seed's public default keys; set them explicitly (to those values or better ones)`,
      );
    }
  }

  const webhookDenyPrivate = bool('CRM_WEBHOOK_DENY_PRIVATE', false);
  const webhookSender = bool('CRM_WEBHOOK_SENDER', true);
  const webhookTimeoutMs = int('CRM_WEBHOOK_TIMEOUT_MS', 10_000, 100, 60_000);
  const webhookRetryFirstMs = int('CRM_WEBHOOK_RETRY_FIRST_MS', 10_000, 10, 30_000);
  const webhookRetryMaxMs = int('CRM_WEBHOOK_RETRY_MAX_MS', 3_600_000, 10, 86_400_000);
  const webhookGiveUpMs = int('CRM_WEBHOOK_GIVE_UP_MS', 86_400_000, 100, 30 * 86_400_000);
  const webhookConcurrency = int('CRM_WEBHOOK_CONCURRENCY', 8, 1, 256);
  const webhookPollMs = int('CRM_WEBHOOK_POLL_MS', 1000, 10, 60_000);
  const webhookBusyRate = int('CRM_WEBHOOK_BUSY_RATE', 200, 10, 100_000);
  const metricsToken = env.CRM_METRICS_TOKEN?.trim() || undefined;
  if (metricsToken !== undefined && metricsToken.length < 8) problems.push('CRM_METRICS_TOKEN must be at least 8 characters');

  if (problems.length > 0) throw new ConfigError(problems.join('; '));

  return Object.freeze({
    port,
    host,
    databaseUrl,
    databasePoolSize,
    databasePreparedStatements,
    databasePipeline,
    basePath,
    basePaths: Object.freeze(basePaths),
    authkeys: Object.freeze(authkeys),
    authkeysImplicit: Object.freeze(authkeysImplicit),
    adminToken,
    defaultCountry: defaultCountry as CountryCode,
    dateOrder: dateOrderRaw as DateOrder,
    legacyCharset,
    timezone,
    didOptional,
    durable,
    bodyLimit,
    importLimit,
    workers,
    logLevel,
    authFailLimit,
    trustProxy,
    corsOrigins,
    throttleExempt,
    sessionIdleMinutes,
    loginFailLimit,
    webhookDenyPrivate,
    webhookTimeoutMs,
    webhookRetryFirstMs,
    webhookRetryMaxMs,
    webhookGiveUpMs,
    webhookConcurrency,
    webhookBusyRate,
    webhookPollMs,
    webhookSender,
    metricsToken,
  });
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}
