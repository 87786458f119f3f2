// The one mapping from an error thrown while answering a request to what the client is told: a status, a
// slug of the admin catalog (errors.ts) and a message. app.ts's one error handler renders it as the
// admin API's JSON error or, on a telephony path, as the legacy envelope; 5xx never carry internals.
import { isConnectionFailure, isIdSpaceExhausted } from '../db/dialect.ts';
import { MAX_ID } from '../ids.ts';
import { AppError, type ErrorCode } from '../errors.ts';

export interface Problem {
  status: number;
  slug: ErrorCode;
  /** Safe to show on any surface. */
  message: string;
  /** The admin API's details (validation), never shown in the envelope. */
  details?: unknown;
  /** What to log: a server-side failure. */
  log?: 'database unavailable' | 'request failed';
}

type Thrown = Error & { statusCode?: number; validation?: { instancePath: string; message?: string; params?: Record<string, unknown> }[] };

export function problemOf(err: Thrown): Problem {
  if (err instanceof AppError) return { status: err.status, slug: err.code, message: err.message, details: err.details };
  if (err.validation) {
    const details: Record<string, string> = {};
    for (const v of err.validation) {
      const missing = v.params?.missingProperty as string | undefined;
      const extra = v.params?.additionalProperty as string | undefined;
      const path = (v.instancePath.replace(/^\//, '').replace(/\//g, '.') || missing || extra || 'body');
      details[missing && v.instancePath === '' ? missing : path] = extra ? `unknown property ${extra}` : (v.message ?? 'invalid');
    }
    return { status: 400, slug: 'invalid_input', message: `invalid input: ${Object.entries(details).map(([k, v]) => `${k} ${v}`).join('; ')}`, details };
  }
  const status = err.statusCode ?? 500;
  if (status === 413) return { status, slug: 'body_too_large', message: 'Request body too large' };
  if (status === 415) return { status, slug: 'unsupported_media_type', message: 'Unsupported content type' };
  if (status >= 400 && status < 500) return { status, slug: 'invalid_input', message: err.message };
  if (isIdSpaceExhausted(err)) return { status: 409, slug: 'conflict', message: `No automatic id is left: ids end at ${MAX_ID}; give an explicit id that is free` };
  if (isConnectionFailure(err)) return { status: 503, slug: 'database_unavailable', message: 'The database is unavailable; try again shortly', log: 'database unavailable' };
  return { status: 500, slug: 'internal', message: 'Internal error', log: 'request failed' };
}
