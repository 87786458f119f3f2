// The supervisor's list filters (status, worker, not called for N days), as query parameters of both the
// repository's assign list and its export, so "export this list" exports exactly the rows listed.
import { Type } from '@fastify/type-provider-typebox';
import type { AssignFilter } from '../crm/assigns.ts';
import * as S from './schemas.ts';

export const ListFilterProperties = {
  status_id: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: '0: no status yet' })),
  worker_id: S.OptionalId,
  not_called_days: Type.Optional(Type.Integer({ minimum: 0, maximum: 36_500, description: 'last call more than N days ago, or never' })),
};

/** The query's filter; "not called for N days" is counted back from now. */
export function listFilterOf(q: { status_id?: number; worker_id?: number; not_called_days?: number }, now = Date.now()): AssignFilter {
  return {
    status_id: q.status_id,
    worker_id: q.worker_id,
    not_called_since: q.not_called_days === undefined ? undefined : now - q.not_called_days * 86_400_000,
  };
}
