// Failed-authentication throttling per client address: after `limit` failed authkeys or admin tokens
// within a minute, that address is refused without any key being checked until its failure rate drops.
// Only failures count, so a busy dialer with a valid key is never slowed; a throttled address gets the
// refusal even with a valid key (checking it would let a guesser keep guessing).
//
// A sliding window approximated by two fixed windows per address (the previous window's count weighted
// by how much of it still overlaps the last minute): O(1) memory per address whatever the limit.
// State is per process: behind N instances (or CRM_WORKERS=N) an address may fail N × limit times.
// Each surface has its own throttle (app.ts: telephony keys; admin tokens and sign-in), so an IVR with a
// wrong key does not lock its address out of the admin API, nor the reverse. Exempt addresses
// (CRM_THROTTLE_EXEMPT: a call center's PBX behind one NAT address) are never refused; their failures
// are still answered code 1 / 401 and audited, just not counted.
import { isIP } from 'node:net';
import proxyAddr from '@fastify/proxy-addr';

export interface AuthThrottle {
  /** Milliseconds until `ip` may try again, or 0 when it is not throttled. */
  retryAfter(ip: string): number;
  /** Counts one failed authentication from `ip`. */
  fail(ip: string): void;
}

interface Window {
  /** Start of the current window (ms). */
  start: number;
  current: number;
  previous: number;
}

/** Most addresses tracked at once; past it, stale ones are swept, then the oldest dropped. */
const MAX_TRACKED = 100_000;

export function createAuthThrottle(limit: number, opts: { windowMs?: number; now?: () => number; exempt?: readonly string[] } = {}): AuthThrottle {
  const windowMs = opts.windowMs ?? 60_000;
  const now = opts.now ?? Date.now;
  const windows = new Map<string, Window>();
  if (limit <= 0) return { retryAfter: () => 0, fail: () => undefined };
  const exempt = opts.exempt && opts.exempt.length > 0 ? proxyAddr.compile([...opts.exempt]) : undefined;
  const isExempt = (ip: string) => exempt !== undefined && isIP(ip) !== 0 && exempt(ip, 0);

  /** The address's window advanced to `t` (windows that ended roll into `previous`). */
  function roll(w: Window, t: number) {
    const elapsed = Math.floor((t - w.start) / windowMs);
    if (elapsed <= 0) return;
    w.previous = elapsed === 1 ? w.current : 0;
    w.current = 0;
    w.start += elapsed * windowMs;
  }

  function estimate(w: Window, t: number) {
    const overlap = 1 - (t - w.start) / windowMs;
    return w.previous * overlap + w.current;
  }

  function sweep(t: number) {
    for (const [k, w] of windows) if (t - w.start >= 2 * windowMs) windows.delete(k);
    // Still full (many addresses failing right now): forget the oldest, which are the likeliest to be done.
    for (const k of windows.keys()) {
      if (windows.size < MAX_TRACKED) break;
      windows.delete(k);
    }
  }

  return {
    retryAfter(ip) {
      if (windows.size === 0) return 0;
      const w = windows.get(keyOf(ip));
      if (!w) return 0;
      const t = now();
      roll(w, t);
      if (estimate(w, t) < limit) return 0;
      // When the estimate falls below the limit: within this window if `previous` alone carries it over,
      // else after this window ends and enough of `current` (then `previous`) has slid out.
      const wait = w.current >= limit
        ? w.start + windowMs - t + windowMs * (1 - limit / w.current)
        : w.start + windowMs * (1 - (limit - w.current) / w.previous) - t;
      return Math.max(1, Math.ceil(wait));
    },
    fail(ip) {
      if (isExempt(ip)) return;
      const k = keyOf(ip);
      const t = now();
      let w = windows.get(k);
      if (!w) {
        if (windows.size >= MAX_TRACKED) sweep(t);
        w = { start: t, current: 0, previous: 0 };
        windows.set(k, w);
      }
      roll(w, t);
      w.current++;
    },
  };
}

/**
 * The unit an address is counted by: an IPv4 address, or an IPv6 /64 (one host is routinely given a
 * whole /64, so counting single IPv6 addresses would let it rotate through 2^64 of them).
 */
export function keyOf(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIP(ip) !== 6) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
