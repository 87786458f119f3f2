// One catalog of the admin API's errors: a stable slug, an HTTP status, a message.
// The telephony API has its own catalog of legacy codes (telephony/codes.ts): it cannot use HTTP statuses.
export const ERRORS = {
  invalid_input: 400,
  unauthorized: 401,
  admin_closed: 403,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  conflict: 409,
  body_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  too_many_requests: 429,
  header_too_large: 431,
  internal: 500,
  database_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.status = ERRORS[code];
  }
}

export const notFound = (what: string, id: number | string) => new AppError('not_found', `${what} ${id} does not exist`);
export const conflict = (message: string, details?: unknown) => new AppError('conflict', message, details);
export const invalid = (message: string, details?: unknown) => new AppError('invalid_input', message, details);
export const forbidden = (message: string) => new AppError('forbidden', message);
export const unprocessable = (message: string, details?: unknown) => new AppError('unprocessable', message, details);

/** A unique field value already held by another customer of the project. Carries the field's name. */
export class DuplicateUniqueError extends AppError {
  constructor(readonly field: string) {
    super('conflict', `another customer of this project already has this ${field}`, { field });
  }
}

export function errorBody(code: ErrorCode, message: string, details?: unknown) {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}
