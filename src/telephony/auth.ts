// authkey checks: constant time (SHA-256 digests compared with timingSafeEqual, every configured key
// compared every time), and a key id for the audit log that is never the key itself.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Config, Endpoint } from '../config.ts';

export interface KeyCheck {
  ok: boolean;
  /** First 8 hex digits of the matched key's SHA-256: tells keys apart in the audit log, reveals nothing. */
  keyId: string | null;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function createKeyChecker(config: Config) {
  const keys = {} as Record<Endpoint, { digest: Buffer; id: string }[]>;
  for (const endpoint of Object.keys(config.authkeys) as Endpoint[]) {
    keys[endpoint] = config.authkeys[endpoint].map((k) => {
      const d = digest(k);
      return { digest: d, id: d.toString('hex').slice(0, 8) };
    });
  }
  return function check(endpoint: Endpoint, candidate: string | undefined): KeyCheck {
    if (candidate === undefined) return { ok: false, keyId: null };
    const d = digest(candidate);
    let match: string | null = null;
    for (const k of keys[endpoint]) if (timingSafeEqual(d, k.digest) && match === null) match = k.id;
    return { ok: match !== null, keyId: match };
  };
}
