// The one place that decides whether a request is a telephony request, and for which endpoint: the
// server's listener (app.ts) asks it to hand a request to the GET fast path; for a request it hands to
// Fastify, the answer is kept on the request for Fastify's request logging, the one error handler and
// the 404 handler.
import type { IncomingMessage } from 'node:http';
import type { Endpoint } from '../config.ts';

export const ENDPOINT_NAMES: readonly Endpoint[] = ['get_data', 'set_data', 'set_status'];

export interface TelephonyMatch {
  /** The endpoint the path names (as spelled, with %-escapes decoded or a trailing slash), if any. */
  endpoint: Endpoint | undefined;
  /** An endpoint's path under a prefix that is not served (e.g. /dev-7/api/get_data.php). */
  unserved: boolean;
}

export interface TelephonyPaths {
  /** The match of a request URL, or null when it is not a telephony request. */
  classify(url: string): TelephonyMatch | null;
  /** classify() of a request, kept on the request for the next reader (Fastify's hooks and handlers). */
  of(req: IncomingMessage): TelephonyMatch | null;
  /** The 404 message for a request under an unserved prefix: it names the served ones. */
  readonly unservedMessage: string;
}

const MATCH = Symbol('telephony match');
type Marked = IncomingMessage & { [MATCH]?: TelephonyMatch | null };

/**
 * `bases`: the served prefixes ('' for none), e.g. ['', '/dev-6']. A telephony request is one for an
 * endpoint under a served prefix, any other path under a served /api/, or an endpoint's path under any
 * other prefix: telephony clients parse every answer as the envelope, so each gets one (a 404 for the
 * last two).
 */
export function createTelephonyPaths(bases: readonly string[]): TelephonyPaths {
  const exact = new Map<string, TelephonyMatch>();
  for (const base of bases) {
    for (const name of ENDPOINT_NAMES) exact.set(`${base}/api/${name}.php`, Object.freeze({ endpoint: name, unserved: false }));
  }
  const under = Object.freeze({ endpoint: undefined, unserved: false });
  const unserved = Object.freeze({ endpoint: undefined, unserved: true });
  const endpointSuffix = new RegExp(`/api/(${ENDPOINT_NAMES.join('|')})\\.php/?$`);
  const apiPrefixes = bases.map((b) => `${b}/api/`);

  function classify(url: string): TelephonyMatch | null {
    const q = url.indexOf('?');
    let path = q === -1 ? url : url.slice(0, q);
    const hit = exact.get(path);
    if (hit) return hit;
    // Spelled differently, the router still takes it to the endpoint: /api/get%5Fdata.php, or a trailing slash.
    if (path.includes('%')) {
      try {
        path = decodeURIComponent(path);
      } catch {
        // A malformed escape: judged by the raw path.
      }
    }
    const spelled = exact.get(path.endsWith('/') ? path.slice(0, -1) : path);
    if (spelled) return spelled;
    if (apiPrefixes.some((p) => path.startsWith(p))) return under;
    return endpointSuffix.test(path) ? unserved : null;
  }

  return {
    classify,
    unservedMessage: `Not found: the telephony API is served under ${bases.map((b) => `${b}/api/`).join(', ')}`,
    of(req) {
      const marked = req as Marked;
      let m = marked[MATCH];
      if (m === undefined) {
        m = classify(req.url ?? '');
        marked[MATCH] = m;
      }
      return m;
    },
  };
}
