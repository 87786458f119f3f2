// The measured cases: what each request asks, and what the right answer to it is. Every answer is
// checked (cheap string checks on the body the load generator has anyway), so a broken server that
// answers fast but wrong cannot post good numbers: against its own request with autocannon, against
// its case with wrk (AnswerCheck; bench/wrk.ts says why).
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

const EMPTY_SUCCESS = '{"code":0,"status":"success","message":[]}';
/** Every right answer starts so. */
export const SUCCESS = '{"code":0,';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** One request of a case as planned before the run, with what its right answer is. */
export interface Planned {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  /** Is this body the right answer to this request? */
  expect: (body: string) => boolean;
  /** (b): a number no customer has, whose right answer is the empty success. */
  miss?: boolean;
}

/**
 * What can be checked of an answer without knowing which request it answers (wrk, bench/wrk.ts): it
 * must be a success and
 * - equals: be exactly this body;
 * - hit-or-miss: name a customer (a hit) or be the empty success (a miss); the share of misses is
 *   compared with the planned share;
 * - contains: contain this text.
 */
export type AnswerCheck =
  | { kind: 'equals'; body: string }
  | { kind: 'hit-or-miss'; hit: string; miss: string }
  | { kind: 'contains'; text: string };

/** A case's planned requests (a deterministic sequence per seed) and what wrk checks of its answers. */
export interface PlannedCase {
  next(): Planned;
  check: AnswerCheck;
}

/** The first n planned requests of a case (in the order the generator is asked for them). */
export function plannedRequests(c: PlannedCase, n: number): Planned[] {
  return Array.from({ length: n }, () => c.next());
}

/**
 * autocannon's requests of a case: perConnection planned requests per connection, each answer checked
 * by v against its own request. They are built before the run (e.g. 32 connections × 2048: tens of
 * thousands of distinct lookups): autocannon sends a list of fixed requests without rebuilding them,
 * where a setupRequest callback rebuilds every request: about half the load generator's CPU on this
 * machine, which would cap the ceiling (a) at what the generator can send.
 */
export function autocannonRequests(c: PlannedCase, v: Verifier, perConnection: number): CaseRequests {
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
      client.setRequests(plannedRequests(c, perConnection).map(entry));
    },
  };
}

/** The planned requests of a case; ceilingBody is what (a) answers. */
export function planCase(key: CaseKey, customers: number, seed: number, ceilingBody: string): PlannedCase {
  switch (key) {
    case 'a': return ceilingPlan(ceilingBody);
    case 'b': return getDataByPhonePlan(customers, seed);
    case 'c': return getDataByAssignPlan(customers, seed);
    case 'd': return setStatusPlan(customers, seed);
    case 'e': return setDataPlan(customers, seed);
  }
}

/** (a): every answer is the constant body. */
function ceilingPlan(body: string): PlannedCase {
  return { next: () => ({ method: 'GET', path: '/', expect: (b) => b === body }), check: { kind: 'equals', body } };
}

/**
 * (b): get_data by DID + phone. 90% hits (a random customer's mobile, or one in five its landline),
 * 10% misses (an 059 number no customer has); spellings mixed: 0501234567, 050-123-4567,
 * +972 50-123-4567 (URL-encoded), 972501234567. A hit must answer that customer (uid); a miss an
 * empty success.
 */
function getDataByPhonePlan(customers: number, seed: number): PlannedCase {
  const rand = rng(seed);
  const base = `/api/get_data.php?authkey=${SEED_KEYS.get_data}&project_id=${PROJECT_ID}&out=${OUT}`;
  const next = (): Planned => {
    const did = DIDS[rand(DIDS.length)]!;
    if (rand(10) === 0) {
      const phone = spell({ prefix: MISS_PREFIX, rest: String(rand(10_000_000)).padStart(7, '0') }, rand(4));
      return { method: 'GET', path: `${base}&did=${did}&phone=${encodeURIComponent(phone)}`, expect: (b) => b === EMPTY_SUCCESS, miss: true };
    }
    const i = 1 + rand(customers);
    const phone = spell(rand(5) === 0 ? homeOf(i) : mobileOf(i), rand(4));
    const uid = `"uid":"${i}"`;
    return { method: 'GET', path: `${base}&did=${did}&phone=${encodeURIComponent(phone)}`, expect: (b) => b.startsWith(SUCCESS) && b.includes(uid) };
  };
  return { next, check: { kind: 'hit-or-miss', hit: '"uid":"', miss: EMPTY_SUCCESS } };
}

/** (c): get_data by a random customer's repository_assign_id; must answer that customer. */
function getDataByAssignPlan(customers: number, seed: number): PlannedCase {
  const rand = rng(seed);
  const base = `/api/get_data.php?authkey=${SEED_KEYS.get_data}&out=${OUT}`;
  const next = (): Planned => {
    const i = 1 + rand(customers);
    const uid = `"uid":"${i}"`;
    return { method: 'GET', path: `${base}&repository_assign_id=${ASSIGN_BASE + i}`, expect: (b) => b.startsWith(SUCCESS) && b.includes(uid) };
  };
  return { next, check: { kind: 'contains', text: '"uid":"' } };
}

/** (d): set_status (form POST) of a random assign to a random status of the project. */
function setStatusPlan(customers: number, seed: number): PlannedCase {
  const rand = rng(seed);
  const next = (): Planned => {
    const assign = ASSIGN_BASE + 1 + rand(customers);
    const status = STATUS_IDS[rand(STATUS_IDS.length)]!;
    return {
      method: 'POST',
      path: '/api/set_status.php',
      body: `authkey=${SEED_KEYS.set_status}&repository_assign_id=${assign}&status_id=${status}&worker_id=${WORKER_ID}`,
      expect: (b) => b.startsWith(SUCCESS) && b.includes('Status set successfully'),
    };
  };
  return { next, check: { kind: 'contains', text: 'Status set successfully' } };
}

/** (e): set_data (form POST) of two fields, city and first_name, of a random assign's customer. */
function setDataPlan(customers: number, seed: number): PlannedCase {
  const rand = rng(seed);
  const next = (): Planned => {
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
  };
  return { next, check: { kind: 'contains', text: '"repository_assign_id":"' } };
}
