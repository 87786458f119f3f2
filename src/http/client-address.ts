// The client address of a request: the TCP peer, or, when the peer is a configured proxy
// (CRM_TRUST_PROXY), the client X-Forwarded-For names. Fastify's request.ip is computed by the same
// rule (its trustProxy option gets the same list); the telephony pipeline uses this function for both
// of its carriers, so the throttle, the audit log and the log line count callers alike.
import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';

export type ClientAddress = (req: IncomingMessage) => string;

export function createClientAddress(trustProxy: readonly string[]): ClientAddress {
  if (trustProxy.length === 0) return (req) => req.socket.remoteAddress ?? '';
  const trusted = proxyAddr.compile([...trustProxy]);
  return (req) => proxyAddr(req, trusted);
}
