import { describe, expect, it } from 'vitest';
import { checkDigitFor, checkNhsNumber, formatNhsNumber, nextValidNhsNumber } from './nhs-number.ts';

describe('NHS number validation (Modulus 11)', () => {
  it.each([
    ['9990000018', true, undefined],
    ['9990000026', true, undefined],
    ['999 000 0034', true, undefined], // spaces tolerated on input
    ['9434765919', true, undefined], // the NHS Data Dictionary's worked example
    ['9990000019', false, 'wrong-check-digit'],
    ['9434765918', false, 'wrong-check-digit'],
    ['9990000140', false, 'check-digit-is-ten'], // 999000014 sums to a check digit of 10: no valid number starts so
    ['999000001', false, 'wrong-length'],
    ['99900000181', false, 'wrong-length'],
    ['99900O0018', false, 'not-digits'], // a letter O
    ['999-000-0018', false, 'not-digits'],
    ['', false, 'missing'],
    [null, false, 'missing'],
    [9990000018, false, 'not-digits'], // a JSON number, not a string
  ])('%j -> valid %s (%s)', (input, ok, problem) => {
    const r = checkNhsNumber(input);
    expect(r.ok).toBe(ok);
    if (!r.ok) expect(r.problem).toBe(problem);
    else expect(r.nhsNumber).toBe(String(input).replace(/ /g, ''));
  });

  it('computes check digits, with 11 meaning 0', () => {
    expect(checkDigitFor('943476591')).toBe(9);
    expect(checkDigitFor('999000014')).toBe(10);
    // 401023213: sum 4*10+0+1*8+0+2*6+3*5+2*4+1*3+3*2 = 92; 92 mod 11 = 4; 11-4 = 7
    expect(checkDigitFor('401023213')).toBe(7);
    expect(checkNhsNumber('9990000050').ok).toBe(true);
  });

  it('generates the next valid number, skipping bases whose check digit would be 10', () => {
    const a = nextValidNhsNumber(999000014);
    expect(a.nhsNumber).toBe('9990000158');
    expect(checkNhsNumber(a.nhsNumber).ok).toBe(true);
  });

  it('formats for people as 3-3-4', () => {
    expect(formatNhsNumber('9990000018')).toBe('999 000 0018');
  });
});
