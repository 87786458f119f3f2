// The one date parser and the one phone-cell cleaner (no database: pure functions, every rule named).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dateOrderOf, parseDate } from '../src/crm/dates.ts';
import { cleanPhoneCell } from '../src/crm/phone-cells.ts';
import { detectDelimiter } from '../src/crm/import-rows.ts';
import { neutralize } from '../src/crm/export-cells.ts';
import { cellText } from '../src/crm/import-columns.ts';

const now = new Date(Date.UTC(2026, 11, 3));
const ok = (value: string) => ({ ok: true, value });

describe('dates', () => {
  test('DMY (Israel): 15/03/1985, 15.3.85, 1/2/2024, 15-03-1985 and YYYY-MM-DD', () => {
    assert.deepEqual(parseDate('15/03/1985', 'DMY', now), ok('1985-03-15'));
    assert.deepEqual(parseDate('15.3.85', 'DMY', now), ok('1985-03-15'));
    assert.deepEqual(parseDate('1/2/2024', 'DMY', now), ok('2024-02-01'));
    assert.deepEqual(parseDate('15-03-1985', 'DMY', now), ok('1985-03-15'));
    assert.deepEqual(parseDate('1985-03-15', 'DMY', now), ok('1985-03-15'));
    assert.deepEqual(parseDate(' 2024-2-9 ', 'DMY', now), ok('2024-02-09'));
  });
  test('MDY and YMD orders', () => {
    assert.deepEqual(parseDate('1/2/2024', 'MDY', now), ok('2024-01-02'));
    assert.deepEqual(parseDate('2024/01/02', 'YMD', now), ok('2024-01-02'));
    assert.equal(parseDate('01/02/03', 'YMD', now).ok, false);
  });
  test('two-digit years fall within 20 years ahead and 79 back', () => {
    assert.deepEqual(parseDate('1.1.46', 'DMY', now), ok('2046-01-01'));
    assert.deepEqual(parseDate('1.1.47', 'DMY', now), ok('1947-01-01'));
  });
  test('impossible and ambiguous dates are errors naming the value', () => {
    for (const bad of ['31/02/1990', '29/02/2023', '13/13/2024', '00/01/2024', '2024-02-30']) {
      const r = parseDate(bad, 'DMY', now);
      assert.equal(r.ok, false, bad);
      assert.match((r as { reason: string }).reason, new RegExp(`"${bad.replace(/\//g, '\\/')}" is not a real date`));
    }
    for (const bad of ['1/2/123', '1/2/3', 'tomorrow', '15031985', '1985/15/03']) assert.equal(parseDate(bad, 'DMY', now).ok, false, bad);
    assert.match((parseDate('1/2/123', 'DMY', now) as { reason: string }).reason, /"1\/2\/123" is ambiguous/);
  });
  test('the default order follows the country', () => {
    assert.equal(dateOrderOf('IL'), 'DMY');
    assert.equal(dateOrderOf('US'), 'MDY');
    assert.equal(dateOrderOf('JP'), 'YMD');
  });
});

describe('phone cells', () => {
  test("Excel's artefacts are cleaned and a dropped leading 0 is restored (IL)", () => {
    assert.deepEqual(cleanPhoneCell("'0503000014", 'IL'), ok('0503000014'));
    assert.deepEqual(cleanPhoneCell('050 300 0014', 'IL'), ok('0503000014'));
    assert.deepEqual(cleanPhoneCell('503000014.0', 'IL'), ok('0503000014'));
    assert.deepEqual(cleanPhoneCell('503000035', 'IL'), ok('0503000035'));
    assert.deepEqual(cleanPhoneCell('36123456', 'IL'), ok('036123456'));
  });
  test('valid international numbers and spelled numbers stay as entered', () => {
    assert.deepEqual(cleanPhoneCell('972501234567', 'IL'), ok('972501234567'));
    assert.deepEqual(cleanPhoneCell('+972 52-900-0001', 'IL'), ok('+972 52-900-0001'));
    assert.deepEqual(cleanPhoneCell('052-100-0001', 'IL'), ok('052-100-0001'));
  });
  test('scientific notation is an invalid phone naming the value', () => {
    for (const v of ['5.01234E+08', '5.01234e8', '5,01E+08']) {
      const r = cleanPhoneCell(v, 'IL');
      assert.equal(r.ok, false, v);
      assert.match((r as { reason: string }).reason, /scientific notation/);
    }
  });
});

describe('cells', () => {
  test('delimiter: the most frequent of comma, semicolon and tab outside quotes', () => {
    assert.equal(detectDelimiter('a,b,c'), ',');
    assert.equal(detectDelimiter('a;b;"c,d,e"'), ';');
    assert.equal(detectDelimiter('a\tb\tc,d'), '\t');
    assert.equal(detectDelimiter('single'), ',');
  });
  test('formula neutralization round-trips every value', () => {
    for (const v of ['=1+1', '+SUM(A1)', '-x', '@A1', '\tx', '\rx', "'=x", "''+x", 'plain', '-5', '+972501234567', "'quoted", '']) {
      assert.equal(cellText(neutralize(v)), v, JSON.stringify(v));
    }
    assert.equal(neutralize('=1+1'), "'=1+1");
    assert.equal(neutralize('-5'), '-5');
    assert.equal(neutralize("'=x"), "''=x");
  });
});
