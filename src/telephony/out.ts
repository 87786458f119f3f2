// get_data's `out` parameter, read once per request (limits.ts, for the pipeline, which hands the result
// to the handler).
import { TransportRefusal } from './refusal.ts';

/** Most names one `out` may list; more is a client bug, not a call flow. */
export const MAX_OUT_FIELDS = 200;

/**
 * `out` names, trimmed, each once, in order, without `uid` (always answered first); undefined when none
 * is given. More than MAX_OUT_FIELDS distinct names is refused (code 7, HTTP 400).
 */
export function parseOut(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const names: string[] = [];
  const seen = new Set<string>(['uid']);
  let any = false;
  for (const part of raw.split(',')) {
    const n = part.trim();
    if (n === '') continue;
    any = true;
    if (seen.has(n)) continue;
    seen.add(n);
    names.push(n);
    if (names.length > MAX_OUT_FIELDS) throw new TransportRefusal(400, `More than ${MAX_OUT_FIELDS} names in out`);
  }
  return any ? names : undefined;
}
