// The one id parser (STYLE.md habit 14). Ids are integers 1..2^53 − 1 everywhere (telephony-api.md
// "Legacy realities"): a JSON number holds every one of them exactly, so two rows never answer the same
// id and a cursor never rounds back onto a row it has passed. The telephony API, the admin API (paths,
// queries, cursors), the importer and the CLI all read ids here.

/** The largest id: 2^53 − 1 (Number.MAX_SAFE_INTEGER). Automatically assigned ids never pass it either. */
export const MAX_ID = Number.MAX_SAFE_INTEGER;

/**
 * A positive integer id written as plain decimal digits, or undefined for anything else: "12abc", "-1",
 * "1.5", "1e3", "0x10", " 7", "" and anything over MAX_ID. Leading zeros are tolerated ("007" is 7), as
 * the legacy clients send them.
 */
export function parseId(v: string | undefined): number | undefined {
  if (v === undefined || !/^[0-9]{1,32}$/.test(v)) return undefined;
  const digits = v.replace(/^0+(?=.)/, '');
  if (digits.length > 16) return undefined;
  const n = Number(digits);
  return n >= 1 && n <= MAX_ID ? n : undefined;
}

/** A whole number given as plain decimal digits (limit=, code=): "1e3", "10.0" and "0x10" are not. */
export function isDecimal(v: string): boolean {
  return /^[0-9]{1,16}$/.test(v);
}
