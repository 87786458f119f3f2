// authkey checks: constant time (SHA-256 digests compared with timingSafeEqual, every configured key
// compared every time), and a key id for the audit log that is never the key itself. Named keys
// (access/keys.ts, created through the admin API) are found by their digest in a snapshot held in
// memory: no database read inside a call.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Config, Endpoint } from '../config.ts';

export interface KeyCheck {
  ok: boolean;
  /** First 8 hex digits of the matched key's SHA-256: tells keys apart in the audit log, reveals nothing. */
  keyId: string | null;
  /** A named key's name (for the audit log); absent for CRM_AUTHKEY_* keys. */
  keyName?: string;
  /** The projects a named key is limited to; absent or null = every project. */
  projectIds?: readonly number[] | null;
}

/** The live named keys, by the hex SHA-256 of their secret (access/keys.ts NamedKeyStore). */
export interface NamedKeys {
  find(endpoint: Endpoint, digestHex: string): { name: string; project_ids: readonly number[] | null } | undefined;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function createKeyChecker(config: Config, named?: NamedKeys) {
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
    if (match !== null) return { ok: true, keyId: match };
    const hex = d.toString('hex');
    const n = named?.find(endpoint, hex);
    if (n) return { ok: true, keyId: hex.slice(0, 8), keyName: n.name, projectIds: n.project_ids };
    return { ok: false, keyId: null };
  };
}
