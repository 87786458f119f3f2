// Phone numbers match by meaning, not by spelling: `0500000000`, `050-000-0000`,
// `+972 50-000-0000`, `972500000000`, `9720500000000` and `+972 050-000-0000` are one number.
// Stored values and lookup queries both go through `normalizePhone`, which yields E.164
// (`+972500000000`) for anything libphonenumber-js can parse with the server's default
// country, and the bare ASCII digits of the input otherwise ('' if it has none).
//
// `normalizePhoneSlow` is the definition: a full libphonenumber-js parse. `normalizePhone` is
// the one normalizer the rest of the server uses; it first tries `normalizePhoneFast`, a
// conservative char-code scanner for the common spellings that never calls the library and
// answers only where its answer is known to equal the library's. Anything else (`undefined`)
// goes to the slow path. test/phone.test.ts checks fast === slow with property-based tests.
import {
  getCountryCallingCode,
  isSupportedCountry as libIsSupportedCountry,
  parsePhoneNumberFromString,
} from 'libphonenumber-js';

export type CountryCode = import('libphonenumber-js').CountryCode;

/** True for an ISO 3166-1 alpha-2 code the phone metadata knows (used to validate config). */
export function isSupportedCountry(code: string): code is CountryCode {
  return libIsSupportedCountry(code);
}

/** The normalizer used everywhere: E.164 when the input parses as a phone number, else its digits. */
export function normalizePhone(input: string, country: CountryCode): string {
  return normalizePhoneFast(input, country) ?? normalizePhoneSlow(input, country);
}

/** The reference normalizer: library parse → `.number` (E.164), else the input's digits. */
export function normalizePhoneSlow(input: string, country: CountryCode): string {
  const parsed = parsePhoneNumberFromString(input, country);
  return parsed ? parsed.number : digitsOf(input);
}

/** Just the ASCII digit characters of `input` ('' if there are none). */
function digitsOf(input: string): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (c >= CH_0 && c <= CH_9) out += input[i];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Fast path
// ---------------------------------------------------------------------------------------------

/**
 * Which national significant numbers (NSN: the number without country code and trunk '0') the
 * fast path may answer for, per country, by first digit and length.
 *
 * The fast path is restricted to this explicit list of countries, each verified against the
 * library; every other country always takes the slow path. Rules are not derived from metadata
 * because the library's behaviour on the spellings we shortcut depends on several interacting
 * metadata details. For a country listed here all of the following were checked:
 *  - its trunk (national) prefix is '0' and '00' is one of its international (IDD) prefixes;
 *  - `accepts(first, length)` implies the NSN is a *valid* number (matches the national number
 *    pattern entirely, not just a possible length). This is what makes the library strip the
 *    trunk '0' and strip the calling code from a number written without '+' (it only does so
 *    when the shorter number is valid and the full digit string is not), so the answer is the
 *    same whichever spelling was used;
 *  - a trunk '0' followed by an accepted first digit never starts an IDD prefix, and the calling
 *    code followed by an accepted NSN is never itself a valid national number.
 *
 * IL (metadata of libphonenumber-js 1.13.x): national number pattern
 * `1\d{6}(?:\d{3,5})?|[57]\d{8}|[1-489]\d{7}`, trunk prefix '0', IDD `0(?:0|1(?:05|[2-9]))`.
 *  - 5x / 7x (mobile, VoIP): 9 digits; 2x 3x 4x 8x 9x (landlines): 8 digits.
 *  - Excluded: NSNs starting with 1 (a trunk '01…' collides with the IDD prefixes 012–019 and 0105,
 *    e.g. '0123456789' parses as +3456789; 1-800 numbers have several lengths), 6 and 0 (no such
 *    numbers), and every other length — e.g. '050123456' (8 digits after the 0) gives +97250123456
 *    but '9725012345' gives +9729725012345, so invalid lengths are left to the library.
 *
 * To add a country, add its rule here and add it to the property tests.
 */
const FAST_RULES: Partial<Record<CountryCode, (firstDigit: number, length: number) => boolean>> = {
  IL: (d, n) => (n === 9 ? d === 5 || d === 7 : n === 8 && (d === 2 || d === 3 || d === 4 || d === 8 || d === 9)),
};

/** Per-country data precomputed once (see `planFor`). */
interface FastPlan {
  /** Calling code digits as char codes, e.g. [57, 55, 50] for '972'. */
  readonly cc: readonly number[];
  /** '+' and the calling code, e.g. '+972': the E.164 prefix of every fast answer. */
  readonly e164Prefix: string;
  readonly accepts: (firstDigit: number, length: number) => boolean;
}

const CH_0 = 48;
const CH_9 = 57;
const CH_PLUS = 43;
const CH_SPACE = 32;
const CH_DASH = 45;
const CH_DOT = 46;
const CH_LPAREN = 40;
const CH_RPAREN = 41;

/** Longer inputs are left to the library (its own limit is 250 characters). */
const MAX_FAST_INPUT_LENGTH = 40;
/** More digits than any accepted spelling has (the longest, 00 972 0 + 9 digits, has 15). */
const MAX_FAST_DIGITS = 16;

const plans = new Map<string, FastPlan | null>();
let lastCountry: string | undefined;
let lastPlan: FastPlan | null = null;

function planFor(country: string): FastPlan | null {
  if (country === lastCountry) return lastPlan;
  let plan = plans.get(country);
  if (plan === undefined) {
    plan = buildPlan(country);
    plans.set(country, plan);
  }
  lastCountry = country;
  lastPlan = plan;
  return plan;
}

function buildPlan(country: string): FastPlan | null {
  const accepts = Object.hasOwn(FAST_RULES, country) ? FAST_RULES[country as CountryCode] : undefined;
  if (accepts === undefined || !libIsSupportedCountry(country)) return null;
  const code = getCountryCallingCode(country);
  const plan: FastPlan = {
    cc: Array.from(code, (ch) => ch.charCodeAt(0)),
    e164Prefix: `+${code}`,
    accepts,
  };
  return selfCheck(plan, country) ? plan : null;
}

/**
 * Guard against a metadata update in libphonenumber-js (it ships new metadata in minor releases):
 * once per country, compare the fast answer with the library on every spelling form × first two
 * NSN digits × accepted length. On any disagreement the fast path is disabled for that country,
 * so results stay correct (only slower) until the rule above is re-verified; a warning says so.
 * About 500 library parses: some 30–40 ms on a cold process, once per country, at its first call.
 */
function selfCheck(plan: FastPlan, country: CountryCode): boolean {
  const code = plan.e164Prefix.slice(1);
  const forms = ['0', `+${code}`, `+${code}0`, code, `${code}0`, `00${code}`, `00${code}0`];
  const tail = '1234567890123';
  for (let first = 0; first <= 9; first++) {
    for (let second = 0; second <= 9; second++) {
      for (let length = 2; length <= tail.length + 2; length++) {
        if (!plan.accepts(first, length)) continue;
        const nsn = `${first}${second}${tail.slice(0, length - 2)}`;
        for (const form of forms) {
          const input = form + nsn;
          const fast = fastWith(plan, input);
          if (fast !== undefined && fast !== normalizePhoneSlow(input, country)) {
            process.emitWarning(
              `phone: fast path disabled for ${country}: ${JSON.stringify(input)} disagrees with libphonenumber-js`,
              { code: 'CALLCRM_PHONE_FASTPATH' },
            );
            return false;
          }
        }
      }
    }
  }
  return true;
}

/**
 * The fast path: E.164 for the common spellings of a number in `country`, or `undefined`
 * ("not sure") for anything else — never a different answer from `normalizePhoneSlow`.
 *
 * Accepted: ASCII digits, the separators space - . ( ), and one '+' before the first digit;
 * any other character (letters, extensions, '#', '/', tabs, non-ASCII) → `undefined`. The
 * digits must then be one of, with NSN accepted by the country's rule:
 *   0 NSN           (national, trunk prefix)        0501234567, 050-123-4567, (02) 123.4567
 *   +CC NSN         +CC 0 NSN                        +972501234567, +972 (0)50-123-4567
 *   00 CC NSN       00 CC 0 NSN                      00972501234567
 *   CC NSN          CC 0 NSN  (no '+')               972501234567, 9720501234567
 * and the answer is '+' CC NSN.
 */
export function normalizePhoneFast(input: string, country: CountryCode): string | undefined {
  const plan = planFor(country);
  return plan === null ? undefined : fastWith(plan, input);
}

// Digit char codes of the input being scanned: a module-level scratch buffer, so the fast path
// allocates nothing but its answer. (Safe: JS is single-threaded and fastWith never re-enters.)
const digitBuf = new Uint8Array(MAX_FAST_DIGITS);

function fastWith(plan: FastPlan, input: string): string | undefined {
  const len = input.length;
  if (len === 0 || len > MAX_FAST_INPUT_LENGTH) return undefined;

  // One pass over the input: validate the characters and collect the digits.
  const digits = digitBuf;
  let n = 0;
  let plus = false;
  let separated = false;
  for (let i = 0; i < len; i++) {
    const c = input.charCodeAt(i);
    if (c >= CH_0 && c <= CH_9) {
      if (n === MAX_FAST_DIGITS) return undefined;
      digits[n++] = c;
    } else if (c === CH_PLUS) {
      if (plus || n > 0) return undefined;
      plus = true;
    } else if (c === CH_SPACE || c === CH_DASH || c === CH_DOT || c === CH_LPAREN || c === CH_RPAREN) {
      separated = true;
    } else {
      return undefined;
    }
  }
  if (n < 2) return undefined;

  // Where the NSN starts among the digits.
  const ccLength = plan.cc.length;
  let start: number;
  if (plus) {
    // +CC [0] NSN
    if (!ccAt(plan, 0, n)) return undefined;
    start = skipTrunkZero(ccLength, n);
  } else if (digits[0] !== CH_0) {
    // CC [0] NSN, written without '+'
    if (!ccAt(plan, 0, n)) return undefined;
    start = skipTrunkZero(ccLength, n);
  } else if (digits[1] === CH_0) {
    // 00 CC [0] NSN
    if (!ccAt(plan, 2, n)) return undefined;
    start = skipTrunkZero(2 + ccLength, n);
  } else {
    // 0 NSN: national, with the trunk prefix
    start = 1;
  }

  const length = n - start;
  if (length <= 0 || !plan.accepts(digits[start]! - CH_0, length)) return undefined;

  // Without separators the NSN is a plain substring of the input.
  if (!separated) return plan.e164Prefix + input.slice((plus ? 1 : 0) + start);
  let nsn = '';
  for (let i = start; i < n; i++) nsn += String.fromCharCode(digits[i]!);
  return plan.e164Prefix + nsn;
}

/** After the calling code, one kept trunk '0' may follow: +972 050…, 9720 50…, 00972 0 50…. */
function skipTrunkZero(at: number, n: number): number {
  return at < n && digitBuf[at] === CH_0 ? at + 1 : at;
}

/** Do the first `n` collected digits hold the plan's calling code at position `at`? */
function ccAt(plan: FastPlan, at: number, n: number): boolean {
  const cc = plan.cc;
  if (n < at + cc.length) return false;
  for (let i = 0; i < cc.length; i++) {
    if (digitBuf[at + i] !== cc[i]) return false;
  }
  return true;
}
