// The console's one way to the server: JSON over fetch, same origin, the session cookie, and the
// session's CSRF token on every unsafe request (admin-api.md "People, sessions and keys").

const meta = (name: string) => document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content ?? '';

/** CRM_BASE_PATH, as the server wrote it into the page ('' at the root). */
export const BASE = meta('crm-base');
/** CRM_TIMEZONE: every date and time is shown in it. */
export const TIMEZONE = meta('crm-timezone') || undefined;
/** CRM_DEFAULT_COUNTRY: phones of this country are shown in national format. */
export const COUNTRY = meta('crm-country') || 'IL';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, string>,
  ) {
    super(message);
  }
}

let csrfToken: string | undefined;
export function setCsrfToken(token: string | undefined) {
  csrfToken = token;
}

/** The header an unsafe request carries besides the cookie (for requests not made by api(), e.g. an upload). */
export function csrfHeaders(): Record<string, string> {
  return csrfToken ? { 'x-csrf-token': csrfToken } : {};
}

/** Called when the server no longer knows the session (401): the app sends the user to sign in. */
let onSignedOut: () => void = () => {};
export function whenSignedOut(f: () => void) {
  onSignedOut = f;
}

export async function api<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(BASE + path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached');
  }
  const text = await res.text();
  let json: any;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const e = json?.error;
    if (res.status === 401 && !path.startsWith('/auth/')) onSignedOut();
    throw new ApiError(res.status, e?.code ?? 'http_' + res.status, e?.message ?? `HTTP ${res.status}`, e?.details);
  }
  return json as T;
}

export interface User {
  id: number;
  username: string;
  role: 'admin' | 'supervisor' | 'agent';
  display_name?: string | null;
  worker_id?: number | null;
  project_ids?: number[] | null;
}

/** The answer of /auth/login and /auth/me: the user (flat or under `user`) and the CSRF token. */
export function readSession(body: any): User {
  const user = (body?.user ?? body) as User;
  setCsrfToken(body?.csrf_token ?? body?.user?.csrf_token);
  return user;
}

export interface Customer {
  id: number;
  project_id: number;
  project_name?: string;
  fields: Record<string, string>;
  created_at: string;
  updated_at: string;
}

export interface Field {
  id: number;
  display_name: string;
  label: string;
  type: 'text' | 'phone' | 'email' | 'number' | 'date' | 'select';
  required: boolean;
  options: string[] | null;
  position: number;
}

export interface Named {
  id: number;
  name: string;
}

export interface Card {
  customer: Customer;
  project: Named;
  fields: Field[];
  statuses: Named[];
  repositories: Named[];
  workers: Named[];
  assigns: { id: number; repository_id: number; worker_id: number | null; status_id: number | null; last_call: string | null; last_notes: string | null }[];
}

export type HistoryItem = { at: string; worker_id: number | null; source: string; user_id?: number | null; user_name?: string | null } & (
  | { kind: 'field'; field: string; old_value: string | null; new_value: string | null }
  | { kind: 'status'; old_status_id: number | null; new_status_id: number | null }
  | { kind: 'call'; status_id: number | null; notes: string | null }
);
