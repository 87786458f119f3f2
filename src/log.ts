// Logger options: request lines without secrets. The authkey may arrive in the query string, the body
// or X-Api-Key, and the admin token in Authorization. Bodies and headers are never logged, and URLs are
// logged with every secret-looking parameter's value replaced.
import type { FastifyServerOptions } from 'fastify';
import type { DestinationStream } from 'pino';

const SECRET_NAME = /authkey|token|password|passwd|secret|api[-_ ]?key|cookie|session/i;

/** Every %XX escape decoded (any case), twice for double encoding; a malformed escape stays as written. */
function decodeLoose(s: string): string {
  let out = s.replace(/\+/g, ' ');
  for (let i = 0; i < 2 && out.includes('%'); i++) {
    out = out.replace(/(?:%[0-9a-f]{2})+/gi, (m) => {
      try {
        return decodeURIComponent(m);
      } catch {
        return Buffer.from(m.replace(/%/g, ''), 'hex').toString('latin1');
      }
    });
  }
  return out;
}

/**
 * The URL with every secret replaced: the value of every secret-looking parameter (its name judged
 * decoded, in any spelling: `auth%6Bey`, `AUTHKEY`), every value and path segment that holds a
 * configured secret (`secrets`) in any spelling (lower-case `%5f`, fully percent-encoded, under any
 * parameter name), decoded as PHP would.
 */
export function redactUrl(url: string, secrets: readonly string[] = []): string {
  const keys = secrets.filter((k) => k.length >= 6);
  const holdsSecret = (raw: string) => {
    if (keys.length === 0) return false;
    // Most URLs have no escapes: then the text is judged as it is (this runs for every logged request).
    const decoded = raw.includes('%') || raw.includes('+') ? decodeLoose(raw) : raw;
    return keys.some((k) => decoded.includes(k));
  };
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const path = keys.length === 0 ? rawPath : rawPath.split('/').map((seg) => (holdsSecret(seg) ? '[REDACTED]' : seg)).join('/');
  if (q === -1) return path;
  const pairs = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const rawName = eq === -1 ? pair : pair.slice(0, eq);
    if (SECRET_NAME.test(rawName.includes('%') ? decodeLoose(rawName) : rawName) || holdsSecret(pair)) return `${holdsSecret(rawName) ? '[REDACTED]' : rawName}=[REDACTED]`;
    return pair;
  });
  return `${path}?${pairs.join('&')}`;
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
    // Every byte escaped, in either case, and escapes in lower case (`%5f`).
    const every = [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
    forms.add(every);
    forms.add(every.toUpperCase());
    forms.add(encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()));
    forms.add(s.replace(/_/g, '%5f'));
    forms.add(s.replace(/_/g, '%5F'));
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
        return { method: req.method, url: redactUrl(req.url, secrets), remoteAddress: req.ip ?? req.socket?.remoteAddress };
      },
    },
  };
}
