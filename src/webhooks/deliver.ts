// One webhook POST: the signed body and headers of the spec, a hard time limit, and (with
// CRM_WEBHOOK_DENY_PRIVATE) a refusal of loopback, private and link-local targets checked on the
// addresses the name resolves to, the same addresses the connection then uses (no second lookup a DNS
// rebinding could answer differently).
import { createHmac } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

export interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

/** The body and headers of a delivery, exactly as integrations.md gives them. */
export function signedRequest(secret: string, type: string, deliveryId: number, body: string, now = Date.now()): SignedRequest {
  const timestamp = String(Math.floor(now / 1000));
  const signature = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'callcrm-webhooks',
      'x-callcrm-event': type,
      'x-callcrm-delivery': String(deliveryId),
      'x-callcrm-timestamp': timestamp,
      'x-callcrm-signature': `sha256=${signature}`,
    },
  };
}

const PRIVATE = new BlockList();
for (const [net, bits] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16]] as const) {
  PRIVATE.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [['::', 127], ['fc00::', 7], ['fe80::', 10]] as const) PRIVATE.addSubnet(net, bits, 'ipv6');

/** Loopback, private (RFC 1918, unique local, CGNAT), link-local or unspecified. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return PRIVATE.check(address, 'ipv4');
  if (family !== 6) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return PRIVATE.check(mapped[1]!, 'ipv4');
  return PRIVATE.check(address, 'ipv6');
}

class DeniedTarget extends Error {}

const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const list = addresses as unknown as LookupAddress[];
    const bad = list.find((a) => isPrivateAddress(a.address));
    if (bad) return callback(new DeniedTarget(`${hostname} resolves to a private address (CRM_WEBHOOK_DENY_PRIVATE)`), '', 0);
    if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
    callback(null, list[0]!.address, list[0]!.family);
  });
};

export interface PostResult {
  /** HTTP status, when an answer came */
  status: number | null;
  /** why it failed (no answer, timeout, refused target); null on an answer */
  error: string | null;
}

const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

/** POSTs and resolves with the status or the failure; never rejects. The whole exchange is bounded by timeoutMs. */
export function post(url: string, req: SignedRequest, opts: { timeoutMs: number; denyPrivate: boolean; signal?: AbortSignal }): Promise<PostResult> {
  return new Promise((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return resolve({ status: null, error: 'invalid URL' });
    }
    const isHttps = target.protocol === 'https:';
    if (!isHttps && target.protocol !== 'http:') return resolve({ status: null, error: 'URL is not http(s)' });
    const host = target.hostname.replace(/^\[|\]$/g, '');
    if (opts.denyPrivate && isIP(host) && isPrivateAddress(host)) return resolve({ status: null, error: 'private address refused (CRM_WEBHOOK_DENY_PRIVATE)' });

    let done = false;
    const finish = (r: PostResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const request = (isHttps ? https : http).request(target, {
      method: 'POST',
      agent: isHttps ? agents.https : agents.http,
      headers: { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) },
      ...(opts.denyPrivate ? { lookup: guardedLookup } : {}),
      signal: opts.signal,
    });
    const timer = setTimeout(() => {
      finish({ status: null, error: `no answer within ${opts.timeoutMs} ms` });
      request.destroy();
    }, opts.timeoutMs);
    request.on('response', (res) => {
      // The answer's status is all that counts; its body is read and dropped (never kept in memory).
      res.on('error', () => undefined);
      res.resume();
      finish({ status: res.statusCode ?? null, error: null });
    });
    request.on('error', (err) => {
      const msg = err instanceof DeniedTarget ? err.message : `${(err as { code?: string }).code ?? 'error'}: ${err.message}`;
      finish({ status: null, error: msg.slice(0, 300) });
    });
    request.end(req.body);
  });
}
