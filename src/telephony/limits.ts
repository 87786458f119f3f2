// Limits of a legacy request, checked before any handler runs. A request over a limit is refused with the
// transport code (7), an HTTP 4xx and a message naming the limit (telephony-api.md, Transport): legacy
// clients parse every answer as the envelope, so even a refusal keeps it.
import type { Endpoint } from '../config.ts';
import { parseOut } from './out.ts';
import { TransportRefusal } from './refusal.ts';
import type { Params } from './params.ts';

/** Most parameters one request may carry (query and body together, repeated names counted once). */
export const MAX_PARAMS = 500;
/** Longest parameter value, in UTF-8 bytes (multipart's per-field limit is the same). */
export const MAX_VALUE_BYTES = 64 * 1024;
/** Longest parameter name: field display_names are at most 64 characters. */
export const MAX_NAME_LENGTH = 256;


const shown = (name: string) => JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name);

export function tooLong(name: string) {
  return new TransportRefusal(400, `Parameter ${shown(name)} is longer than ${MAX_VALUE_BYTES} bytes`);
}

/**
 * Throws a TransportRefusal when the merged parameters exceed a limit. Returns get_data's `out` names,
 * read here once (the limit on their number is one of the request's limits).
 */
export function checkParams(p: Params, endpoint: Endpoint): string[] | undefined {
  const names = p.names();
  if (names.length > MAX_PARAMS) throw new TransportRefusal(400, `More than ${MAX_PARAMS} parameters`);
  for (const name of names) {
    if (name.length > MAX_NAME_LENGTH) throw new TransportRefusal(400, `A parameter name is longer than ${MAX_NAME_LENGTH} characters`);
    const value = p.raw(name)!;
    // Cheap first: a UTF-8 byte is at least one UTF-16 unit and at most three.
    if (value.length * 3 > MAX_VALUE_BYTES && Buffer.byteLength(value) > MAX_VALUE_BYTES) throw tooLong(name);
  }
  return endpoint === 'get_data' ? parseOut(p.get('out')) : undefined;
}

/**
 * A multipart body that could not be read: truncated, without a boundary, with a file, over the
 * part limits. Each is the client's doing (a 400 or 413), never a 500.
 */
export function multipartRefusal(err: unknown): TransportRefusal {
  if (err instanceof TransportRefusal) return err;
  const e = err as { code?: string; statusCode?: number };
  if (e.code === 'FST_FILES_LIMIT') return new TransportRefusal(400, 'File uploads are not accepted');
  if (e.code === 'FST_PARTS_LIMIT' || e.code === 'FST_FIELDS_LIMIT') return new TransportRefusal(400, `More than ${MAX_PARAMS} parameters`);
  if (e.code === 'FST_PROTO_VIOLATION') return new TransportRefusal(400, 'Malformed multipart body: a reserved field name');
  if (e.statusCode === 413) return new TransportRefusal(413, 'Request body too large');
  return new TransportRefusal(400, 'Malformed multipart body');
}
