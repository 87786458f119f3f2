// The measured cases: what each request asks, and what the right answer to it is. Every answer is
// checked (cheap string checks on the body the load generator has anyway), so a broken server that
// answers fast but wrong cannot post good numbers.
import type { Client, RequestSpec } from 'autocannon';
import { SEED_KEYS } from '../src/config.ts';
import { ASSIGN_BASE, CITIES, DIDS, MISS_PREFIX, OUT, PROJECT_ID, STATUS_IDS, WORKER_ID, homeOf, mobileOf, rng, spell } from './dataset.ts';

export type CaseKey = 'a' | 'b' | 'c' | 'd' | 'e';

export const CASE_TITLES: Record<CaseKey, string> = {
  a: '(a) node:http constant JSON (ceiling)',
  b: '(b) get_data by phone',
  c: '(c) get_data by repository_assign_id',
  d: '(d) set_status',
  e: '(e) set_data, two fields',
};

/** Counts of checked answers; the first few wrong ones are kept for the report. */
export class Verifier {
  checked = 0;
  wrong = 0;
  readonly samples: string[] = [];

  check(ok: boolean, status: number, body: string, request: string): void {
    this.checked++;
    if (ok && status === 200) return;
    this.wrong++;
    if (this.samples.length < 5) this.samples.push(`${request} → HTTP ${status} ${body.slice(0, 300)}`);
  }
}

export interface CaseRequests {
  /** autocannon's request list: a placeholder, replaced per connection by setupClient. */
  requests: RequestSpec[];
  /** Gives each connection its own list of requests, built before the run. */
  setupClient(client: Client): void;
}

/**
 * Requests are built per connection before the run (perConnection of them, e.g. 32 connections × 2048:
 * tens of thousands of distinct lookups). autocannon sends a list of fixed requests without rebuilding
 * them, where a setupRequest callback rebuilds every request: about half the load generator's CPU on
 * this machine, which would cap the ceiling (a) at what the generator can send.
 */

const EMPTY_SUCCESS = '{"code":0,"status":"success","message":[]}';
const SUCCESS = '{"code":0,';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

interface Planned {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  /** Is this body the right answer to this request? */
  expect: (body: string) => boolean;
}

function spec(next: () => Planned, v: Verifier, perConnection: number): CaseRequests {
  const entry = (r: Planned): RequestSpec => {
    const describe = r.body === undefined ? `${r.method} ${r.path}` : `${r.method} ${r.path} ${r.body}`;
    return {
      method: r.method,
      path: r.path,
      ...(r.body !== undefined ? { body: r.body, headers: FORM } : {}),
      onResponse: (status, body) => v.check(r.expect(body), status, body, describe),
    };
  };
  return {
    requests: [{ method: 'GET', path: '/' }],
    setupClient(client) {
      client.setRequests(Array.from({ length: perConnection }, () => entry(next())));
    },
  };
}

/** (a): every answer is the constant body. */
export function ceilingCase(body: string, v: Verifier, perConnection: number): CaseRequests {
  return spec(() => ({ method: 'GET', path: '/', expect: (b) => b === body }), v, perConnection);
}

/**
 * (b): get_data by DID + phone. 90% hits (a random customer's mobile, or one in five its landline),
 * 10% misses (an 059 number no customer has); spellings mixed: 0501234567, 050-123-4567,
 * +972 50-123-4567 (URL-encoded), 972501234567. A hit must answer that customer (uid); a miss an
 * empty success.
 */
export function getDataByPhoneCase(customers: number, seed: number, v: Verifier, perConnection: number): CaseRequests {
  const rand = rng(seed);
  const base = `/api/get_data.php?authkey=${SEED_KEYS.get_data}&project_id=${PROJECT_ID}&out=${OUT}`;
  return spec(() => {
    const did = DIDS[rand(DIDS.length)]!;
    if (rand(10) === 0) {
      const phone = spell({ prefix: MISS_PREFIX, rest: String(rand(10_000_000)).padStart(7, '0') }, rand(4));
      return { method: 'GET', path: `${base}&did=${did}&phone=${encodeURIComponent(phone)}`, expect: (b) => b === EMPTY_SUCCESS };
    }
    const i = 1 + rand(customers);
    const phone = spell(rand(5) === 0 ? homeOf(i) : mobileOf(i), rand(4));
    const uid = `"uid":"${i}"`;
    return { method: 'GET', path: `${base}&did=${did}&phone=${encodeURIComponent(phone)}`, expect: (b) => b.startsWith(SUCCESS) && b.includes(uid) };
  }, v, perConnection);
}

/** (c): get_data by a random customer's repository_assign_id; must answer that customer. */
export function getDataByAssignCase(customers: number, seed: number, v: Verifier, perConnection: number): CaseRequests {
  const rand = rng(seed);
  const base = `/api/get_data.php?authkey=${SEED_KEYS.get_data}&out=${OUT}`;
  return spec(() => {
    const i = 1 + rand(customers);
    const uid = `"uid":"${i}"`;
    return { method: 'GET', path: `${base}&repository_assign_id=${ASSIGN_BASE + i}`, expect: (b) => b.startsWith(SUCCESS) && b.includes(uid) };
  }, v, perConnection);
}

/** (d): set_status (form POST) of a random assign to a random status of the project. */
export function setStatusCase(customers: number, seed: number, v: Verifier, perConnection: number): CaseRequests {
  const rand = rng(seed);
  return spec(() => {
    const assign = ASSIGN_BASE + 1 + rand(customers);
    const status = STATUS_IDS[rand(STATUS_IDS.length)]!;
    return {
      method: 'POST',
      path: '/api/set_status.php',
      body: `authkey=${SEED_KEYS.set_status}&repository_assign_id=${assign}&status_id=${status}&worker_id=${WORKER_ID}`,
      expect: (b) => b.startsWith(SUCCESS) && b.includes('Status set successfully'),
    };
  }, v, perConnection);
}

/** (e): set_data (form POST) of two fields, city and first_name, of a random assign's customer. */
export function setDataCase(customers: number, seed: number, v: Verifier, perConnection: number): CaseRequests {
  const rand = rng(seed);
  return spec(() => {
    const assign = ASSIGN_BASE + 1 + rand(customers);
    const city = encodeURIComponent(CITIES[rand(CITIES.length)]!);
    const name = `Name${rand(1_000_000)}`;
    const echo = `"repository_assign_id":"${assign}"`;
    return {
      method: 'POST',
      path: '/api/set_data.php',
      body: `authkey=${SEED_KEYS.set_data}&repository_assign_id=${assign}&worker_id=${WORKER_ID}&city=${city}&first_name=${name}`,
      expect: (b) => b.startsWith(SUCCESS) && b.includes(echo),
    };
  }, v, perConnection);
}
