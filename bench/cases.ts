// The measured cases: what each request asks, and what the right answer to it is. Every answer is
// checked (cheap string checks on the body the load generator has anyway), so a broken server that
// answers fast but wrong cannot post good numbers.
import type { RequestSpec } from 'autocannon';
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
  /** autocannon's request list: one request, rebuilt before each send by setupRequest. */
  requests: RequestSpec[];
}

const EMPTY_SUCCESS = '{"code":0,"status":"success","message":[]}';
const SUCCESS = '{"code":0,';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

type Expect = (body: string) => boolean;

/**
 * One request spec whose next request comes from next(). The expectation travels in autocannon's
 * per-connection context: with pipelining 1 a connection's response always answers the request it
 * built last.
 */
function spec(next: () => { method: 'GET' | 'POST'; path: string; body?: string; expect: Expect }, v: Verifier): CaseRequests {
  return {
    requests: [
      {
        setupRequest(req, context) {
          const r = next();
          context.expect = r.expect;
          context.describe = r.body === undefined ? `${r.method} ${r.path}` : `${r.method} ${r.path} ${r.body}`;
          req.method = r.method;
          req.path = r.path;
          if (r.body !== undefined) {
            req.body = r.body;
            req.headers = { ...req.headers, ...FORM };
          }
          return req;
        },
        onResponse(status, body, context) {
          v.check((context.expect as Expect)(body), status, body, context.describe as string);
        },
      },
    ],
  };
}

/** (a): every answer is the constant body. */
export function ceilingCase(body: string, v: Verifier): CaseRequests {
  return spec(() => ({ method: 'GET', path: '/', expect: (b) => b === body }), v);
}

/**
 * (b): get_data by DID + phone. 90% hits (a random customer's mobile, or one in five its landline),
 * 10% misses (an 059 number no customer has); spellings mixed: 0501234567, 050-123-4567,
 * +972 50-123-4567 (URL-encoded), 972501234567. A hit must answer that customer (uid); a miss an
 * empty success.
 */
export function getDataByPhoneCase(customers: number, seed: number, v: Verifier): CaseRequests {
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
  }, v);
}

/** (c): get_data by a random customer's repository_assign_id; must answer that customer. */
export function getDataByAssignCase(customers: number, seed: number, v: Verifier): CaseRequests {
  const rand = rng(seed);
  const base = `/api/get_data.php?authkey=${SEED_KEYS.get_data}&out=${OUT}`;
  return spec(() => {
    const i = 1 + rand(customers);
    const uid = `"uid":"${i}"`;
    return { method: 'GET', path: `${base}&repository_assign_id=${ASSIGN_BASE + i}`, expect: (b) => b.startsWith(SUCCESS) && b.includes(uid) };
  }, v);
}

/** (d): set_status (form POST) of a random assign to a random status of the project. */
export function setStatusCase(customers: number, seed: number, v: Verifier): CaseRequests {
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
  }, v);
}

/** (e): set_data (form POST) of two fields, city and first_name, of a random assign's customer. */
export function setDataCase(customers: number, seed: number, v: Verifier): CaseRequests {
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
  }, v);
}
