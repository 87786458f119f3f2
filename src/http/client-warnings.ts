// Warnings a client can trigger at will (an unknown `out` name, ...) are rate-limited, so a careless or
// hostile client cannot flood the log: each name at most once per window, at most `overall` lines per
// window in all, and once a window with suppressed lines has passed, one "N more suppressed" line.
import type { FastifyBaseLogger } from 'fastify';

export interface ClientWarnings {
  /** Logs `msg` with `fields` at warn level unless `name` (or the overall budget) is spent this window. */
  warn(name: string, fields: Record<string, unknown>, msg: string): void;
}

export function createClientWarnings(log: FastifyBaseLogger, opts: { windowMs?: number; overall?: number; now?: () => number } = {}): ClientWarnings {
  const windowMs = opts.windowMs ?? 60_000;
  const overall = opts.overall ?? 20;
  const now = opts.now ?? Date.now;
  let start = now();
  let logged = 0;
  let suppressed = 0;
  /** Names warned about this window; bounded by the overall budget. */
  let seen = new Set<string>();

  function roll(t: number) {
    if (t - start < windowMs) return;
    if (suppressed > 0) log.warn({ suppressed }, `${suppressed} more client-triggered warnings suppressed in the last ${Math.round((t - start) / 1000)} s`);
    start = t;
    logged = 0;
    suppressed = 0;
    seen = new Set();
  }

  return {
    warn(name, fields, msg) {
      roll(now());
      if (seen.has(name) || logged >= overall) {
        // The count is reported when the window ends, even if no warning follows.
        if (suppressed++ === 0) setTimeout(() => roll(now()), start + windowMs - now() + 1).unref();
        return;
      }
      seen.add(name);
      logged++;
      log.warn(fields, msg);
    },
  };
}
