// Who is calling the admin API, and what a role may do. The bearer token is a machine with every right;
// a session is a user with a role and, optionally, a list of projects.
import type { Role } from '../db/schema.ts';

export type { Role } from '../db/schema.ts';

/** Lowest to highest: each role may do everything the ones before it may. */
export const ROLES: readonly Role[] = ['agent', 'supervisor', 'admin'];

export function roleAllows(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

export interface User {
  id: number;
  username: string;
  role: Role;
  display_name: string | null;
  worker_id: number | null;
  /** null = every project */
  project_ids: number[] | null;
  disabled: boolean;
  created_at: string;
  updated_at: string;
}

export type Principal =
  | { kind: 'token' }
  | { kind: 'session'; user: User; csrfToken: string };

/** May this caller see and change project `projectId`'s data? */
export function projectAllowed(p: Principal, projectId: number): boolean {
  return p.kind === 'token' || p.user.project_ids === null || p.user.project_ids.includes(projectId);
}

/** The projects a caller is limited to, or null for every project. */
export function projectLimit(p: Principal | undefined): readonly number[] | null {
  return p?.kind === 'session' ? p.user.project_ids : null;
}

/**
 * Who a change is attributed to in history and call events: the signed-in user, and the worker the
 * user is linked to. A token or the CLI is nobody in particular.
 */
export function actorOf(p: Principal | undefined): { user_id: number | null; worker_id?: number } {
  if (p?.kind !== 'session') return { user_id: null };
  return p.user.worker_id === null ? { user_id: p.user.id } : { user_id: p.user.id, worker_id: p.user.worker_id };
}
