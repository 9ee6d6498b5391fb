/**
 * Does what an LA submitted describe the person demographics holds under that NHS number?
 *
 * - Family name: equal after normalising case, spaces, hyphens, apostrophes (and accents: "Zoë" is
 *   "Zoe"), so "O'Brien" = "OBRIEN" and "Smith-Jones" = "SMITH JONES".
 * - Given names: at least one submitted given name equals a registered given name, normalised the
 *   same way (or all given names together match, so "Mary Ann" = ["Mary", "Ann"]).
 * - Date of birth: exactly equal.
 *
 * A failure names the field and says what kind of mismatch it is, never what demographics holds:
 * the submitter may have the wrong person, and must not learn someone else's details.
 */
import type { IsoDate } from './dates.ts';

export interface SubmittedIdentity {
  familyName: string;
  givenNames: readonly string[];
  birthDate: IsoDate;
}

export type MatchField = 'familyName' | 'givenNames' | 'birthDate';

export interface Mismatch {
  field: MatchField;
  reason: string;
}

export type MatchResult = { ok: true } | { ok: false; mismatches: Mismatch[] };

const APOSTROPHES = /['’‘`´ʼ]/g;
const SEPARATORS = /[\s\-‐‑–—.]/g;

/** Letters with no accent, apostrophe or separator: most names, which need only lower-casing. */
const PLAIN = /^[A-Za-z]*$/;

export function normaliseName(name: string): string {
  if (PLAIN.test(name)) return name.toLowerCase();
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '') // combining accents
    .replace(APOSTROPHES, '')
    .replace(SEPARATORS, '')
    .toLocaleLowerCase('en-GB');
}

export function matchIdentity(submitted: SubmittedIdentity, registered: SubmittedIdentity): MatchResult {
  const mismatches: Mismatch[] = [];
  if (normaliseName(submitted.familyName) !== normaliseName(registered.familyName)) {
    mismatches.push({ field: 'familyName', reason: 'family name does not match the demographics record' });
  }
  if (!givenNamesMatch(submitted.givenNames, registered.givenNames)) {
    mismatches.push({ field: 'givenNames', reason: 'no given name matches the demographics record' });
  }
  if (submitted.birthDate !== registered.birthDate) {
    mismatches.push({ field: 'birthDate', reason: 'date of birth does not match the demographics record' });
  }
  return mismatches.length === 0 ? { ok: true } : { ok: false, mismatches };
}

function givenNamesMatch(submitted: readonly string[], registered: readonly string[]): boolean {
  const reg = new Set(registered.map(normaliseName).filter(Boolean));
  const sub = submitted.map(normaliseName).filter(Boolean);
  if (sub.length === 0 || reg.size === 0) return false;
  if (sub.some((g) => reg.has(g))) return true;
  return sub.join('') === registered.map(normaliseName).join('');
}
