/**
 * Field checks shared by every input path (HTTP bodies, CSV rows, CLI), each naming the field it
 * refuses. Schemas catch shape; these catch meaning: real dates, dates not in the future, NHS
 * numbers with a good check digit.
 */
import { type IsoDate, isIsoDate } from './dates.ts';
import { checkNhsNumber, type NhsNumber } from './nhs-number.ts';
import { invalidValue, missingValue } from './outcomes.ts';

/**
 * NUL and unpaired UTF-16 surrogates: text PostgreSQL cannot hold (not in a text column, not in
 * jsonb), and which no UTF-8 sender meant. Input carrying them is refused, never altered.
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function isStorableText(s: string): boolean {
  return !s.includes('\u0000') && !LONE_SURROGATE.test(s);
}

const UNSTORABLE = new RegExp(`\\u0000|${LONE_SURROGATE.source}`, 'g');

/** Text as it can be stored when it must be (a record of a hostile request): each refused character as `\uXXXX`. */
export function escapeUnstorable(s: string): string {
  return s.replace(UNSTORABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The same rule as a JSON-schema pattern (ajv compiles patterns with the `u` flag: a pair is one code point). */
export const STORABLE_PATTERN = '^[^\\u0000\\ud800-\\udfff]*$';

export function requireStorable(field: string, raw: string): string {
  if (!isStorableText(raw)) throw invalidValue(field, `${field} contains characters that cannot be stored`);
  return raw;
}

const PLAIN_KEY = /^[A-Za-z_$][\w$:-]{0,99}$/;

/**
 * A member of `parent` as a field path (`records[0].birthDate`). A key that is empty, long, or not a
 * plain name is quoted (`records[0]["a.b"]`), so the path stays readable and names it unambiguously.
 */
export function memberPath(parent: string, key: string): string {
  if (PLAIN_KEY.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${quoted(key)}]`;
}

/** Caller-supplied text for a message: JSON-quoted (controls and lone surrogates escaped), at most 100 characters. */
export function quoted(text: string): string {
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text);
}

export function requireNhsNumber(field: string, raw: unknown): NhsNumber {
  const r = checkNhsNumber(raw);
  if (r.ok) return r.nhsNumber;
  if (r.problem === 'missing') throw missingValue(field, `${field} is required`);
  throw invalidValue(field, `${field}: ${r.message}`);
}

/** A real calendar date ('YYYY-MM-DD'; 2027-02-30 is refused). */
export function requireDate(field: string, raw: unknown): IsoDate {
  if (raw === undefined || raw === null || raw === '') throw missingValue(field);
  if (typeof raw !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(raw)) {
    throw invalidValue(field, `${field} must be a date written YYYY-MM-DD`);
  }
  if (!isIsoDate(raw)) throw invalidValue(field, `${field} ${raw} is not a real calendar date`);
  return raw;
}

export function requirePastOrToday(field: string, date: IsoDate, today: IsoDate): IsoDate {
  if (date > today) throw invalidValue(field, `${field} ${date} is in the future (today is ${today})`);
  return date;
}

export function requireName(field: string, raw: unknown, max = 100): string {
  if (typeof raw !== 'string' || raw.trim() === '')
    throw missingValue(field, `${field} must be a non-empty name`);
  const name = raw.trim().replace(/\s+/g, ' ');
  if (name.length > max) throw invalidValue(field, `${field} is longer than ${max} characters`);
  if (/[\p{Cc}<>{}]/u.test(name) || !isStorableText(name))
    throw invalidValue(field, `${field} contains characters not allowed in a name`);
  return name;
}

export function requireGivenNames(field: string, raw: unknown): string[] {
  const list = typeof raw === 'string' ? raw.split(/\s+/).filter(Boolean) : raw;
  if (!Array.isArray(list) || list.length === 0)
    throw missingValue(field, `${field} must list at least one given name`);
  if (list.length > 10) throw invalidValue(field, `${field} lists more than 10 names`);
  return list.map((g, i) => requireName(`${field}[${i}]`, g, 60));
}

const PHONE_RE = /^\+?[0-9][0-9 ()-]{5,22}[0-9]$/;

export function requirePhone(field: string, raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '')
    throw missingValue(field, `${field} must be a telephone number`);
  const phone = raw.trim().replace(/\s+/g, ' ');
  if (!PHONE_RE.test(phone))
    throw invalidValue(field, `${field} is not a telephone number (digits, spaces, + ( ) -)`);
  return phone;
}
