// Failed sign-ins, throttled per client address and per username: a guesser spreading guesses over many
// usernames meets the address limit, one spreading them over many addresses meets the username limit.
// Its own counters (not the telephony/admin key throttle's): a mistyped password must not slow a
// dialer's authkeys behind the same NAT, nor the other way round. Per process, like that one.
import { createAuthThrottle } from '../http/throttle.ts';
import { usernameKey } from '../access/users.ts';

export interface SignInThrottle {
  /** Milliseconds until this address or username may try again (0: now). */
  retryAfter(ip: string, username: string): number;
  fail(ip: string, username: string): void;
}

export function createSignInThrottle(limit: number, opts: { now?: () => number } = {}): SignInThrottle {
  const byAddress = createAuthThrottle(limit, { now: opts.now });
  // A user's password is guessed slowly: `limit` failures per 15 minutes.
  const byUser = createAuthThrottle(limit, { windowMs: 15 * 60_000, now: opts.now });
  // Prefixed, so that a username that looks like an address is never taken for one.
  const userKey = (username: string) => `user:${usernameKey(username)}`;
  return {
    retryAfter: (ip, username) => Math.max(byAddress.retryAfter(ip), byUser.retryAfter(userKey(username))),
    fail(ip, username) {
      byAddress.fail(ip);
      byUser.fail(userKey(username));
    },
  };
}
