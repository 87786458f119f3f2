import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  isSupportedCountry,
  normalizePhone,
  normalizePhoneFast,
  normalizePhoneSlow,
  type CountryCode,
} from '../src/phone.ts';

// The spec's spellings of one number.
const SPEC_SPELLINGS = [
  '0500000000',
  '050-000-0000',
  '+972 50-000-0000',
  '972500000000',
  '9720500000000',
  '+972 050-000-0000',
];

// More everyday spellings the fast path is meant to answer.
const COMMON_SPELLINGS: ReadonlyArray<readonly [string, string]> = [
  ['0501234567', '+972501234567'],
  ['050-123-4567', '+972501234567'],
  ['050 123 4567', '+972501234567'],
  ['050.123.4567', '+972501234567'],
  ['(050) 123-4567', '+972501234567'],
  ['02-123-4567', '+97221234567'],
  ['(02) 123 4567', '+97221234567'],
  ['03-1234567', '+97231234567'],
  ['077-123-4567', '+972771234567'],
  ['+972501234567', '+972501234567'],
  ['972501234567', '+972501234567'],
  ['9720501234567', '+972501234567'],
  ['+972 050-123-4567', '+972501234567'],
  ['+972 (0)50-123-4567', '+972501234567'],
  ['00972501234567', '+972501234567'],
  ['00972-50-123-4567', '+972501234567'],
  ['009720501234567', '+972501234567'],
  ['+972 2 123 4567', '+97221234567'],
  ['97221234567', '+97221234567'],
  [' 050-123-4567 ', '+972501234567'],
];

describe('normalizePhone: the spec', () => {
  test("the spec's spellings all normalize to +972500000000", () => {
    for (const s of SPEC_SPELLINGS) {
      assert.equal(normalizePhone(s, 'IL'), '+972500000000', s);
      assert.equal(normalizePhoneSlow(s, 'IL'), '+972500000000', s);
    }
  });

  test('a stored value matches a query in any of the spellings', () => {
    for (const stored of SPEC_SPELLINGS) {
      for (const query of SPEC_SPELLINGS) {
        assert.equal(normalizePhone(query, 'IL'), normalizePhone(stored, 'IL'), `${stored} vs ${query}`);
      }
    }
    const variants = COMMON_SPELLINGS.filter(([, e164]) => e164 === '+972501234567').map(([s]) => s);
    for (const a of variants) for (const b of variants) assert.equal(normalizePhone(a, 'IL'), normalizePhone(b, 'IL'));
  });

  test('common spellings normalize to E.164', () => {
    for (const [s, e164] of COMMON_SPELLINGS) {
      assert.equal(normalizePhone(s, 'IL'), e164, s);
      assert.equal(normalizePhoneSlow(s, 'IL'), e164, s);
    }
  });

  test('other default countries resolve national numbers to their own calling code', () => {
    assert.equal(normalizePhone('(212) 555-1234', 'US'), '+12125551234');
    assert.equal(normalizePhone('+1 212 555 1234', 'US'), '+12125551234');
    assert.equal(normalizePhone('030 1234567', 'DE'), '+49301234567');
    assert.equal(normalizePhone('+972 50-000-0000', 'DE'), '+972500000000');
  });
});

describe('normalizePhone: fallback to digits', () => {
  // The rule: if libphonenumber-js parses the text (with the default country), its E.164;
  // otherwise the ASCII digits of the text, '' if there are none.
  test('text without digits becomes the empty string', () => {
    for (const s of ['', 'abc', 'no digits here', '+', '-', '()']) assert.equal(normalizePhone(s, 'IL'), '', s);
  });

  test('text the library cannot parse becomes its digits', () => {
    assert.equal(normalizePhone('a1', 'IL'), '1'); // a single digit is too short to parse
    assert.equal(normalizePhone('0', 'IL'), '0');
    assert.equal(normalizePhone('+1', 'IL'), '1');
    assert.equal(normalizePhone('+0501234567', 'IL'), '0501234567'); // '+' then 0: no calling code starts with 0
    assert.equal(normalizePhone('050-1234567#', 'IL'), '0501234567'); // '#' with no extension digits
    assert.equal(normalizePhone('050\t1234567', 'IL'), '0501234567'); // tab is not phone punctuation for the library
    const long = '1'.repeat(251); // the library refuses inputs over 250 characters
    assert.equal(normalizePhone(long, 'IL'), long);
  });

  test('short or partly textual input that the library does parse keeps its E.164', () => {
    // libphonenumber-js parses any 2+ digits as a (possibly invalid) number of the default country
    // and ignores surrounding text and extensions; those are not "non-phone text".
    assert.equal(normalizePhone('ext 12', 'IL'), '+97212');
    assert.equal(normalizePhone('12', 'IL'), '+97212');
    assert.equal(normalizePhone('phone: 050-123-4567', 'IL'), '+972501234567');
    assert.equal(normalizePhone('050-123-4567 ext. 5', 'IL'), '+972501234567');
  });
});

describe('normalizePhoneFast', () => {
  test("answers for the spec's spellings and the common spellings", () => {
    for (const s of SPEC_SPELLINGS) assert.equal(normalizePhoneFast(s, 'IL'), '+972500000000', s);
    for (const [s, e164] of COMMON_SPELLINGS) assert.equal(normalizePhoneFast(s, 'IL'), e164, s);
  });

  test('is not sure (undefined) outside what it verified', () => {
    const unsure = [
      '', 'abc', 'ext 12', '12', '0',
      '0123456789', // 012 is an Israeli international prefix: the library gives +3456789
      '0150123456', // trunk 0 then 1: left to the library
      '1-800-123-456', '1700123456',
      '050123456', '05012345678', // wrong length for a 05x number
      '0212345678', // wrong length for a 02 number
      '9725012345', '972212345678', // 972 + invalid NSN: the library keeps 972 as part of the number
      '501234567', // national number without the trunk 0
      '+0501234567', '+00972501234567', '+972 0 0501234567',
      '0501234567 ext. 5', '050-1234567#', '050\t1234567', '050/1234567', '٠٥٠١٢٣٤٥٦٧',
      '0 6 1234567', '061234567',
      '+44 20 7946 0958',
    ];
    for (const s of unsure) assert.equal(normalizePhoneFast(s, 'IL'), undefined, s);
  });

  test('only the verified countries take the fast path', () => {
    for (const c of ['US', 'DE', 'GB', 'PS'] as const) {
      assert.equal(normalizePhoneFast('0501234567', c), undefined, c);
      assert.equal(normalizePhoneFast('+972501234567', c), undefined, c);
    }
  });

  test('agrees with the library on every prefix form × first two NSN digits × length', (t) => {
    // Deterministic sweep of the structural boundaries the fast path decides on.
    const forms = ['', '0', '00', '+972', '+9720', '+97200', '972', '9720', '97200', '00972', '009720', '0097200', '+', '+0', '000972'];
    let answered = 0;
    let checked = 0;
    for (const form of forms) {
      for (let lead = 0; lead <= 99; lead++) {
        for (let length = 1; length <= 13; length++) {
          const nsn = (String(lead).padStart(2, '0') + '7364519028364').slice(0, length);
          for (const input of [form + nsn, `${form} ${nsn.slice(0, 2)}-${nsn.slice(2)}`]) {
            const fast = normalizePhoneFast(input, 'IL');
            checked++;
            if (fast !== undefined) answered++;
            assert.equal(normalizePhone(input, 'IL'), normalizePhoneSlow(input, 'IL'), input);
          }
        }
      }
    }
    t.diagnostic(`fast path answered ${answered} of ${checked} inputs`);
    assert.ok(answered > 1000, `fast path answered only ${answered} times`);
  });
});

// ----------------------------------------------------------------------------------------------
// Property-based tests: normalizePhone (fast path first) === normalizePhoneSlow (library only)
// ----------------------------------------------------------------------------------------------

const digit = fc.constantFrom(...'0123456789');
const digitsOfLength = (min: number, max: number) =>
  fc.array(digit, { minLength: min, maxLength: max }).map((ds) => ds.join(''));

/** National significant numbers: mostly realistic Israeli ones, also off-by-one lengths and arbitrary digits. */
const ilNsn = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom('5', '7'), digitsOfLength(8, 8)).map(([a, b]) => a + b) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom('2', '3', '4', '8', '9'), digitsOfLength(7, 7)).map(([a, b]) => a + b) },
  { weight: 2, arbitrary: fc.tuple(digit, digitsOfLength(6, 10)).map(([a, b]) => a + b) },
  { weight: 1, arbitrary: digitsOfLength(0, 14) },
);

const separator = fc.oneof(
  { weight: 40, arbitrary: fc.constant('') },
  { weight: 18, arbitrary: fc.constantFrom(' ', '-', '.', '(', ')', ' - ', ') ', '  ') },
  // Rarely, separators that the library treats differently or the fast path does not accept.
  { weight: 1, arbitrary: fc.constantFrom('/', '\t', '\u00a0', '\u2013', '_', '~', '\n', '[', '\u3000') },
);

const garbage = fc.oneof(
  fc.constantFrom('x', 'ext', ' ext. ', '#', '*', ',', ';', ':', '+', 'a', 'tel:', ';ext=', '٥', '\u200b', 'phone '),
  fc.string({ minLength: 1, maxLength: 3 }),
  fc.string({ minLength: 1, maxLength: 2, unit: 'binary' }),
);

/**
 * Realistic spellings: [international part] [trunk part] NSN, with random separators between any
 * two characters (mostly none or the usual ones), and sometimes garbage inserted anywhere.
 * fast-check uses a random seed each run and prints it with the shrunk counterexample on failure.
 */
function spelling(international: fc.Arbitrary<string>, trunk: fc.Arbitrary<string>, nsn: fc.Arbitrary<string>) {
  return fc
    .record({
      international,
      trunk,
      nsn,
      seps: fc.array(separator, { minLength: 24, maxLength: 24 }),
      // Usually none; sometimes one or two pieces of garbage inserted anywhere.
      garbage: fc.oneof(
        { weight: 5, arbitrary: fc.constant([]) },
        { weight: 1, arbitrary: fc.array(fc.tuple(fc.nat(30), garbage), { minLength: 1, maxLength: 2 }) },
      ),
    })
    .map(({ international, trunk, nsn, seps, garbage }) => {
      const chars = [...(international + trunk + nsn)];
      let out = seps[0] ?? '';
      chars.forEach((ch, i) => {
        out += ch + (seps[(i + 1) % seps.length] ?? '');
      });
      for (const [pos, text] of garbage) {
        const at = Math.min(pos, out.length);
        out = out.slice(0, at) + text + out.slice(at);
      }
      return out;
    });
}

const ilSpelling = spelling(
  fc.oneof(
    { weight: 6, arbitrary: fc.constant('') },
    { weight: 6, arbitrary: fc.constantFrom('+972', '972', '00972', '+972 ', '(+972)', '+ 972', '00 972') },
    { weight: 2, arbitrary: fc.constantFrom('+97', '0972', '+1', '001', '9', '+', '+44', '0', '00', '+0') },
  ),
  fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom('', '0', '(0)') },
    { weight: 1, arbitrary: fc.constantFrom('00', '01', '000', '1') },
  ),
  ilNsn,
);

function assertAgrees(input: string, country: CountryCode): void {
  const slow = normalizePhoneSlow(input, country);
  const fast = normalizePhoneFast(input, country);
  if (fast !== undefined) assert.equal(fast, slow, `fast path disagrees on ${JSON.stringify(input)}`);
  assert.equal(normalizePhone(input, country), slow, JSON.stringify(input));
}

describe('property: normalizePhone === normalizePhoneSlow', () => {
  test('IL, realistic spellings (30,000 runs)', (t) => {
    let runs = 0;
    let answered = 0;
    fc.assert(
      fc.property(ilSpelling, (input) => {
        runs++;
        if (normalizePhoneFast(input, 'IL') !== undefined) answered++;
        assertAgrees(input, 'IL');
      }),
      { numRuns: 30_000 },
    );
    // The generator must exercise the fast path, not just the fallback.
    t.diagnostic(`fast path answered ${answered} of ${runs} runs`);
    assert.ok(answered > runs * 0.2, `fast path answered only ${answered} of ${runs}`);
  });

  test("IL, strings over '0123456789+-() .' (30,000 runs)", () => {
    const alphabet = fc.constantFrom(...'0123456789+-() .');
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 24 }), (input) => assertAgrees(input, 'IL')),
      { numRuns: 30_000 },
    );
  });

  test('IL, arbitrary strings (20,000 runs)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 30 }), fc.string({ maxLength: 30, unit: 'binary' }), fc.string({ maxLength: 30, unit: 'grapheme' })),
        (input) => assertAgrees(input, 'IL'),
      ),
      { numRuns: 20_000 },
    );
  });

  // Not fast-path countries: this shows the fallback is simply the library.
  const others = [
    { country: 'US', spelling: spelling(fc.constantFrom('', '+1', '1', '011 1', '001'), fc.constantFrom('', '1'), digitsOfLength(6, 12)) },
    { country: 'DE', spelling: spelling(fc.constantFrom('', '+49', '49', '0049'), fc.constantFrom('', '0', '(0)'), digitsOfLength(6, 12)) },
  ] as const;
  for (const { country, spelling: arb } of others) {
    test(`${country}, realistic and arbitrary spellings (10,000 + 10,000 runs)`, () => {
      fc.assert(
        fc.property(arb, (input) => {
          assert.equal(normalizePhoneFast(input, country), undefined);
          assertAgrees(input, country);
        }),
        { numRuns: 10_000 },
      );
      fc.assert(
        fc.property(fc.oneof(fc.string({ maxLength: 24 }), fc.string({ unit: fc.constantFrom(...'0123456789+-() .'), maxLength: 24 })), (input) =>
          assertAgrees(input, country),
        ),
        { numRuns: 10_000 },
      );
    });
  }
});

describe('isSupportedCountry', () => {
  test('knows ISO 3166-1 alpha-2 codes (upper case) and rejects others', () => {
    assert.equal(isSupportedCountry('IL'), true);
    assert.equal(isSupportedCountry('US'), true);
    assert.equal(isSupportedCountry('il'), false);
    assert.equal(isSupportedCountry('XX'), false);
    assert.equal(isSupportedCountry(''), false);
  });
});
