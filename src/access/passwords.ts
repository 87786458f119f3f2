// Password hashing with scrypt (node:crypto; memory-hard, no dependency). Each hash carries its own salt
// and parameters ("scrypt$N$r$p$salt$hash", base64url), so the cost can be raised later without breaking
// the hashes already stored: verify reads the parameters from the hash, not from here.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (password: string, salt: Buffer, keylen: number, opts: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));

/**
 * N = 2^15, r = 8, p = 1: 32 MiB of memory per hash, ~60 ms on an idle core (0.5 s on a loaded 2-core
 * box). Memory-hard: a guesser pays the memory for every guess. OWASP's table asks more (2^17, or 2^15
 * with p = 3); a sign-in costing 0.2 s of CPU on the small servers call centers run would make the
 * sign-in page itself a cheap way to load the server, and guessing is throttled per address and user.
 */
const PARAMS = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
/** Highest N a stored hash may ask for: a tampered row must not make sign-in allocate gigabytes. */
const MAX_N = 2 ** 20;

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 1024;

const maxmem = (N: number, r: number) => 128 * N * r * 2 + 1024 * 1024;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_LENGTH, { ...PARAMS, maxmem: maxmem(PARAMS.N, PARAMS.r) });
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, hash] = stored.split('$');
  const N = Number(n);
  const R = Number(r);
  const P = Number(p);
  if (alg !== 'scrypt' || !salt || !hash || !Number.isInteger(N) || N < 2 || N > MAX_N || !(R >= 1 && R <= 32) || !(P >= 1 && P <= 16)) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scrypt(password, Buffer.from(salt, 'base64url'), expected.length, { N, r: R, p: P, maxmem: maxmem(N, R) });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/**
 * A hash of no one's password, checked when the username does not exist: a sign-in takes as long
 * whether or not the user exists, so timing does not tell which usernames do.
 */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'));
  return decoy;
}
