// Formula neutralization (CSV/formula injection, OWASP): a spreadsheet runs a cell that starts with
// =, +, -, @, a tab or a CR as a formula (`=cmd|' /C calc'!A0`, `@SUM(…)`). Every export format writes such
// a text cell with a leading ' (Excel's "this is text" mark, not shown), unless it is a plain number
// (-5, +972501234567), which no spreadsheet runs. A value that already starts with ' before one of those
// characters gets one more, so import-columns.ts's cellText (which removes exactly one) gives back every
// value unchanged: the round trip export → import is exact.
const TRIGGER = /^'*[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

export function neutralize(value: string): string {
  if (!TRIGGER.test(value)) return value;
  if (value[0] !== "'" && PLAIN_NUMBER.test(value)) return value;
  return `'${value}`;
}
