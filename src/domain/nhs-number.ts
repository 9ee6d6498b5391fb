/**
 * NHS number: ten digits, the last a Modulus 11 check digit over the first nine
 * (weights 10 down to 2; check = 11 - (sum mod 11); 11 means 0; 10 means the number is invalid).
 * Input may carry spaces (as printed on letters, "999 000 0018"); nothing else is tolerated.
 */

declare const brand: unique symbol;
/** A syntactically valid NHS number (10 digits, good check digit), normalised without spaces. */
export type NhsNumber = string & { readonly [brand]: 'NhsNumber' };

export type NhsNumberProblem =
  | 'missing'
  | 'not-digits'
  | 'wrong-length'
  | 'check-digit-is-ten'
  | 'wrong-check-digit';

export type NhsNumberCheck =
  | { ok: true; nhsNumber: NhsNumber }
  | { ok: false; problem: NhsNumberProblem; message: string };

const MESSAGES: Record<NhsNumberProblem, string> = {
  missing: 'NHS number is missing',
  'not-digits': 'NHS number must contain only digits (spaces are allowed between groups)',
  'wrong-length': 'NHS number must be 10 digits',
  'check-digit-is-ten': 'NHS number is invalid: its check digit would be 10',
  'wrong-check-digit': 'NHS number fails the Modulus 11 check digit',
};

/** The check digit for nine leading digits, or 10 when no valid number can start with them. */
export function checkDigitFor(nineDigits: string): number {
  if (!/^[0-9]{9}$/.test(nineDigits)) throw new Error('checkDigitFor needs exactly nine digits');
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(nineDigits.charCodeAt(i) - 48) * (10 - i);
  const check = 11 - (sum % 11);
  return check === 11 ? 0 : check;
}

export function checkNhsNumber(input: unknown): NhsNumberCheck {
  if (input === undefined || input === null || (typeof input === 'string' && input.trim() === '')) {
    return fail('missing');
  }
  if (typeof input !== 'string') return fail('not-digits');
  const compact = input.replace(/ /g, '');
  if (!/^[0-9]+$/.test(compact)) return fail('not-digits');
  if (compact.length !== 10) return fail('wrong-length');
  const check = checkDigitFor(compact.slice(0, 9));
  if (check === 10) return fail('check-digit-is-ten');
  if (check !== compact.charCodeAt(9) - 48) return fail('wrong-check-digit');
  return { ok: true, nhsNumber: compact as NhsNumber };
}

export function isValidNhsNumber(input: unknown): input is string {
  return checkNhsNumber(input).ok;
}

/** Parse or throw; for code paths whose input was already validated. */
export function nhsNumber(input: string): NhsNumber {
  const r = checkNhsNumber(input);
  if (!r.ok) throw new Error(`${r.message}: ${JSON.stringify(input)}`);
  return r.nhsNumber;
}

/**
 * The next valid NHS number whose nine leading digits are `fromNine` or greater, staying inside
 * the same leading prefix. Returns the number and the nine digits to continue from.
 */
export function nextValidNhsNumber(fromNine: number): { nhsNumber: NhsNumber; nextNine: number } {
  let base = fromNine;
  for (;;) {
    if (base > 999_999_999) throw new Error('no NHS numbers left in the range');
    const nine = String(base).padStart(9, '0');
    const check = checkDigitFor(nine);
    base++;
    if (check !== 10) return { nhsNumber: `${nine}${check}` as NhsNumber, nextNine: base };
  }
}

/** Format for people: "999 000 0018". */
export function formatNhsNumber(n: string): string {
  return `${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`;
}

function fail(problem: NhsNumberProblem): NhsNumberCheck {
  return { ok: false, problem, message: MESSAGES[problem] };
}
