// What a phone value looks like after Excel has been at it, and the one place it is cleaned (STYLE 14):
// validateValue runs it for every phone-type field, so imports, set_data and PATCH store the same value.
//   '0503000014   → 0503000014   (Excel's "this is text" apostrophe)
//   050 300 0014  → 0503000014   (spaces, when only digits remain)
//   503000014.0   → 0503000014   (a number cell saved as a float, then the dropped 0 restored)
//   503000035     → 0503000035   (Excel read the cell as a number and dropped the leading 0: restored
//                                  when 0 + digits is a valid national number of CRM_DEFAULT_COUNTRY and
//                                  the digits are not already a valid international number)
//   5.01234E+08   → refused: Excel wrote the number in scientific notation and its last digits are lost.
// Other spellings (dashes, +972…, parentheses) are kept as entered: lookups normalize them anyway.
import { isValidPhoneNumber } from 'libphonenumber-js';
import type { CountryCode } from '../phone.ts';

export type CleanedPhone = { ok: true; value: string } | { ok: false; reason: string };

const SCIENTIFIC = /^[+-]?\d+(?:[.,]\d+)?e[+-]?\d+$/i;

export function cleanPhoneCell(raw: string, country: CountryCode): CleanedPhone {
  let v = raw.trim();
  if (v.startsWith("'")) v = v.slice(1);
  // Spaces go when only digits remain (a number Excel displayed in groups); a spelled-out number
  // (+972 52-900-0001) is kept as entered.
  const squeezed = v.replace(/\s+/g, '');
  if (/^[\d.,eE+-]*$/.test(squeezed) && !/[-+]/.test(squeezed.slice(1))) v = squeezed;
  if (SCIENTIFIC.test(v)) {
    return { ok: false, reason: `${JSON.stringify(raw.trim())} is in scientific notation (digits lost by a spreadsheet): not a phone number` };
  }
  const float = /^(\d+)\.0+$/.exec(v);
  if (float) v = float[1]!;
  if (!/\d/.test(v)) return { ok: false, reason: 'a phone number needs at least one digit' };
  if (/^[1-9]\d{5,14}$/.test(v) && !isValidPhoneNumber(`+${v}`) && isValidPhoneNumber(`0${v}`, country)) v = `0${v}`;
  return { ok: true, value: v };
}
