// Logger options: request lines without secrets. The authkey may arrive in the query string, the body
// or X-Api-Key, and the admin token in Authorization. Bodies and headers are never logged, and URLs are
// logged with every secret-looking parameter's value replaced.
import type { FastifyServerOptions } from 'fastify';
import type { DestinationStream } from 'pino';

const SECRET_NAME = /authkey|token|password|secret|api[-_]?key/i;

/** The URL with the value of every secret-looking query parameter replaced (names decoded as PHP would). */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const pairs = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const rawName = eq === -1 ? pair : pair.slice(0, eq);
    let name = rawName;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, ' '));
    } catch {
      // A malformed escape: judge by the raw name.
    }
    return SECRET_NAME.test(name) ? `${rawName}=[REDACTED]` : pair;
  });
  return `${url.slice(0, q)}?${pairs.join('&')}`;
}

/**
 * The last line of defence: every configured secret (authkeys, admin token), as written, JSON-escaped
 * or percent-encoded, is replaced in every finished log line, wherever it ended up (a key sent under the
 * wrong parameter name, a path, a library's debug object). Secrets shorter than 6 characters are left
 * alone: replacing them would garble the log, and such a key protects little anyway.
 */
export function secretScrubber(secrets: readonly string[]): ((line: string) => string) | undefined {
  const forms = new Set<string>();
  for (const s of secrets) {
    if (s.length < 6) continue;
    forms.add(s);
    forms.add(JSON.stringify(s).slice(1, -1));
    forms.add(encodeURIComponent(s));
    forms.add(new URLSearchParams({ k: s }).toString().slice(2));
    forms.add(JSON.stringify(encodeURIComponent(s)).slice(1, -1));
  }
  if (forms.size === 0) return undefined;
  // Longest first, so that a secret containing another is replaced whole.
  const pattern = new RegExp([...forms].sort((a, b) => b.length - a.length).map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return (line) => line.replace(pattern, '[REDACTED]');
}

export function loggerOptions(level: string, stream?: DestinationStream, secrets: readonly string[] = []): FastifyServerOptions['logger'] {
  const scrub = secretScrubber(secrets);
  return {
    level,
    ...(stream ? { stream } : {}),
    ...(scrub ? { hooks: { streamWrite: scrub } } : {}),
    redact: {
      paths: [
        'req.headers.authorization', 'req.headers["x-api-key"]', 'headers.authorization', 'headers["x-api-key"]',
        // @fastify/multipart logs the request headers at trace level under busboyOptions.
        '*.headers.authorization', '*.headers["x-api-key"]', 'authkey', '*.authkey',
      ],
      censor: '[REDACTED]',
    },
    serializers: {
      req(req: { method: string; url: string; ip?: string; socket?: { remoteAddress?: string } }) {
        return { method: req.method, url: redactUrl(req.url), remoteAddress: req.ip ?? req.socket?.remoteAddress };
      },
    },
  };
}
