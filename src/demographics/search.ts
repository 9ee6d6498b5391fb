/**
 * The rules of the "trace by demographics" form (family name, given name, date of birth, gender,
 * postcode): what a person may type, how it is tidied, and what to say when it cannot be used.
 * Pure: no I/O, and `today` is passed in (the service clock's London date).
 *
 * Every problem is reported, one per field in form order, because the NHS error summary lists them
 * all; messages follow the NHS design system's wording ("Enter the family name", "Date of birth must
 * be a real date"). Names and the postcode may end with `*` (PDS's non-fuzzy wildcard: "starts with").
 */
import { type IsoDate, isIsoDate } from '../domain/dates.ts';
import { type DemographicsQuery, GENDERS, type Gender } from './types.ts';

export type FormField = 'familyName' | 'givenName' | 'birthDate' | 'gender' | 'postcode';
export type DatePart = 'day' | 'month' | 'year';

export interface FieldError {
  field: FormField;
  /** For a date of birth, the input the problem is in (where one can be named). */
  part?: DatePart;
  message: string;
}

export interface DemographicsFormInput {
  familyName?: unknown;
  givenName?: unknown;
  day?: unknown;
  month?: unknown;
  year?: unknown;
  gender?: unknown;
  postcode?: unknown;
}

export type DemographicsFormResult =
  | { ok: true; query: DemographicsQuery }
  | { ok: false; errors: FieldError[] };

export const NAME_MAX_LENGTH = 100;

export const POSTCODE_MESSAGE = 'Enter a real postcode, like B15 2TT, or the start of one followed by *';

export function parseDemographicsForm(input: DemographicsFormInput, today: IsoDate): DemographicsFormResult {
  const errors: FieldError[] = [];
  const familyName = nameField('familyName', 'family name', input.familyName, errors);
  const givenName = nameField('givenName', 'given name', input.givenName, errors);
  const birthDate = dateOfBirth(input.day, input.month, input.year, today, errors);
  const gender = genderField(input.gender, errors);
  const postcode = postcodeField(input.postcode, errors);
  if (errors.length > 0 || familyName === null || givenName === null || birthDate === null) {
    return { ok: false, errors };
  }
  const query: DemographicsQuery = { familyName, givenName, birthDate };
  if (gender) query.gender = gender;
  if (postcode) query.postcode = postcode;
  return { ok: true, query };
}

/**
 * A full UK postcode, normalised: upper case, one space before the inward code (`b152tt` and
 * ` B15  2TT ` are `B15 2TT`). Null for anything that is not shaped as a full postcode, including
 * a partial one (`B15`) or a wildcard (`B15*`).
 */
export function normalisePostcode(raw: string): string | null {
  const compact = raw.replace(/\s+/g, '').toUpperCase();
  const m = FULL_POSTCODE.exec(compact);
  return m ? `${m[1]} ${m[2]}` : null;
}

/** Outward code (A9, A99, AA9, AA99, A9A, AA9A) then inward code (9AA). */
const FULL_POSTCODE = /^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$/;
/** The start of a postcode followed by `*`: an area (`B*`, `LS*`) or an outward code (`B15*`, `LS1*`). */
const POSTCODE_PREFIX = /^[A-Z]{1,2}(?:[0-9][A-Z0-9]?)?\*$/;

/**
 * A postcode as the form takes it: a full postcode (normalised), or an area or outward code
 * followed by `*` (upper-cased). Null when it is neither.
 */
export function normalisePostcodeQuery(raw: string): string | null {
  const full = normalisePostcode(raw);
  if (full) return full;
  const compact = raw.replace(/\s+/g, '').toUpperCase();
  return POSTCODE_PREFIX.test(compact) ? compact : null;
}

// --- fields ---------------------------------------------------------------------------------------

/** The trimmed text of a form value; '' when absent; null when it is not text at all (say, a list). */
function text(value: unknown): string | null {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

/** Letters (any script, with their accents), spaces, hyphens and apostrophes; at least one letter. */
const NAME = /^[\p{L}\p{M}' ’-]+$/u;
const LETTER = /\p{L}/u;

function nameField(field: 'familyName' | 'givenName', label: string, raw: unknown, errors: FieldError[]) {
  const Label = label[0]!.toUpperCase() + label.slice(1);
  const value = text(raw);
  if (value === '') {
    errors.push({ field, message: `Enter the ${label}` });
    return null;
  }
  const name = value?.replace(/\s+/g, ' ') ?? null;
  if (name !== null && name.length > NAME_MAX_LENGTH) {
    errors.push({ field, message: `${Label} must be ${NAME_MAX_LENGTH} characters or fewer` });
    return null;
  }
  // A trailing * is a wildcard ("starts with"); it needs at least one letter before it.
  const stem = name?.endsWith('*') ? name.slice(0, -1).trimEnd() : name;
  if (stem === null || !NAME.test(stem) || !LETTER.test(stem)) {
    errors.push({ field, message: `${Label} must only include letters, spaces, hyphens and apostrophes` });
    return null;
  }
  return name === stem ? name : `${stem}*`;
}

/** The earliest year `isIsoDate` takes as a date. */
const MIN_YEAR = 1800;

const MONTH_NAMES = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

/** A month as digits, or its English name (full or the first three letters), as the GOV.UK pattern allows. */
function monthNumber(value: string): number | null {
  if (/^\d{1,2}$/.test(value)) return Number(value);
  const lower = value.toLowerCase();
  const i = MONTH_NAMES.findIndex((m) => m === lower || (lower.length === 3 && m.startsWith(lower)));
  return i >= 0 ? i + 1 : null;
}

function dateOfBirth(
  rawDay: unknown,
  rawMonth: unknown,
  rawYear: unknown,
  today: IsoDate,
  errors: FieldError[],
): IsoDate | null {
  const field = 'birthDate';
  const day = text(rawDay);
  const month = text(rawMonth);
  const year = text(rawYear);
  if (day === '' && month === '' && year === '') {
    errors.push({ field, message: 'Enter a date of birth' });
    return null;
  }
  const missing = (
    [
      ['day', day],
      ['month', month],
      ['year', year],
    ] as const
  )
    .filter(([, v]) => v === '')
    .map(([part]) => part);
  if (missing.length > 0) {
    errors.push({
      field,
      part: missing[0],
      message: `Date of birth must include a ${missing.join(' and ')}`,
    });
    return null;
  }
  const d = day !== null && /^\d{1,2}$/.test(day) ? Number(day) : null;
  const m = month !== null ? monthNumber(month) : null;
  if (d === null || d < 1 || d > 31) {
    errors.push({ field, part: 'day', message: 'Date of birth must be a real date' });
    return null;
  }
  if (m === null || m < 1 || m > 12) {
    errors.push({ field, part: 'month', message: 'Date of birth must be a real date' });
    return null;
  }
  if (year === null || !/^\d+$/.test(year)) {
    errors.push({ field, part: 'year', message: 'Date of birth must be a real date' });
    return null;
  }
  if (year.length !== 4) {
    errors.push({ field, part: 'year', message: 'Year must include 4 numbers' });
    return null;
  }
  const date = `${year}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  if (!isIsoDate(date)) {
    // A year before any record the register holds, or a day the month does not have (31 April,
    // 29 February in a common year).
    const part = Number(year) < MIN_YEAR ? 'year' : 'day';
    errors.push({ field, part, message: 'Date of birth must be a real date' });
    return null;
  }
  if (date > today) {
    errors.push({ field, message: 'Date of birth must be today or in the past' });
    return null;
  }
  return date;
}

function genderField(raw: unknown, errors: FieldError[]): Gender | undefined {
  const value = text(raw);
  if (value === '') return undefined;
  const lower = value?.toLowerCase();
  if (lower !== undefined && (GENDERS as readonly string[]).includes(lower)) return lower as Gender;
  errors.push({ field: 'gender', message: 'Select a gender' });
  return undefined;
}

function postcodeField(raw: unknown, errors: FieldError[]): string | undefined {
  const value = text(raw);
  if (value === '') return undefined;
  const postcode = value === null ? null : normalisePostcodeQuery(value);
  if (postcode === null) {
    errors.push({ field: 'postcode', message: POSTCODE_MESSAGE });
    return undefined;
  }
  return postcode;
}
