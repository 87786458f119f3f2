// The legacy codes and messages, exactly as the seed documents them. Clients branch on `code` and some
// compare `message`, so these strings are part of the contract (telephony-api.md).
export const AUTH = [1, 'Missing or invalid authkey'] as const;

export const GET_DATA = {
  auth: AUTH,
  did: [2, 'Missing DID'],
  phone: [3, 'Missing phone'],
  out: [4, 'Missing out parameter'],
  project: [5, 'Missing both project_id and worker_id'],
  noAssign: [6, 'No matching repository assign'],
  database: [7, 'Database exception'],
} as const;

export const SET_DATA = {
  auth: AUTH,
  missingAssign: [2, 'Missing repository assign ID'],
  invalidAssign: [3, 'Invalid repository assign ID'],
  duplicate: [4, 'Duplicate unique field'],
  updateFailed: [5, 'Update failed'],
  noValid: [6, 'No valid fields or repository not found'],
  noFields: [7, 'No fields provided in request'],
} as const;

export const SET_STATUS = {
  auth: AUTH,
  missingAssign: [2, 'Missing repository assign ID'],
  invalidAssign: [3, 'Invalid repository assign ID'],
  missingStatus: [4, 'Missing status ID'],
  failed: [5, 'Failed to set status'],
} as const;

/** The seed's only status success text; clients may compare it. */
export const STATUS_SET = 'Status set successfully';

/**
 * A request refused before its parameters could be read (malformed or oversized body, unknown content
 * type). telephony-api.md: "code 7 or a fitting code"; 7 is used on every endpoint so one rule holds.
 */
export const TRANSPORT_CODE = 7;

export interface Envelope {
  code: number;
  status: 'success' | 'fail';
  message: unknown;
  errors?: Record<string, string>;
  repository_assign_id?: string;
}

export function fail(entry: readonly [number, string], message: string = entry[1]): Envelope {
  return { code: entry[0], status: 'fail', message };
}

export function success(message: unknown, extra?: Omit<Envelope, 'code' | 'status' | 'message'>): Envelope {
  return { code: 0, status: 'success', message, ...extra };
}
