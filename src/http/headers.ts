// Response headers every surface sends, whatever carried the request (Fastify, or the telephony GET
// fast path): one definition, so the two carriers cannot drift.

/**
 * JSON answers embed nothing, so by default nothing may load. A page that needs more sets its own policy
 * (the docs page allows exactly its inline script and style by hash, and its own origin).
 */
export const CSP_DEFAULT = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** nosniff, no framing, no referrer, and the default Content-Security-Policy. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': CSP_DEFAULT,
});

export const JSON_TYPE = 'application/json; charset=utf-8';
