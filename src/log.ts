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

export function loggerOptions(level: string, stream?: DestinationStream): FastifyServerOptions['logger'] {
  return {
    level,
    ...(stream ? { stream } : {}),
    redact: {
      paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'headers.authorization', 'headers["x-api-key"]', 'authkey', '*.authkey'],
      censor: '[REDACTED]',
    },
    serializers: {
      req(req: { method: string; url: string; ip?: string; socket?: { remoteAddress?: string } }) {
        return { method: req.method, url: redactUrl(req.url), remoteAddress: req.ip ?? req.socket?.remoteAddress };
      },
    },
  };
}
