/**
 * The local demographics register: a PDS-like table of people in our own store, and the
 * `DemographicsService` adapter over it. Administration (create/update, supersede, invalidate,
 * births) happens here; what those changes mean for LA records and notifications is decided by the
 * callers that pass a `DemographicsChangeHandler`.
 */
import { sql } from 'kysely';
import { type IsoDate, isIsoDate } from '../domain/dates.ts';
import { normaliseName } from '../domain/matching.ts';
import type { NhsNumber } from '../domain/nhs-number.ts';
import { conflict, invalidValue, notFound } from '../domain/outcomes.ts';
import type { Executor, Tx } from '../store/db.ts';
import type { PersonTable } from '../store/schema.ts';
import type {
  DemographicsQuery,
  DemographicsSearchResult,
  DemographicsService,
  Gender,
  Person,
  Trace,
  TraceContext,
} from './types.ts';

export interface PersonInput {
  familyName: string;
  givenNames: string[];
  birthDate: IsoDate;
  gender?: Gender;
  sensitive?: boolean;
  deathDate?: IsoDate | null;
  /** A normalised full postcode (`B15 2TT`); null clears it; left out keeps what the register holds. */
  postcode?: string | null;
}

export interface RegisteredPerson extends Person {
  status: 'active' | 'superseded' | 'invalidated';
  supersededBy: string | null;
  inactiveSince: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * A register row as the service gives it out. The one place rows become people, so it is where a
 * sensitive person's postcode is withheld: the register holds it (as PDS does), nothing returns it.
 */
export function toPerson(r: Pick<PersonTable, keyof PersonTable>): RegisteredPerson {
  return {
    ...personOf(r),
    status: r.status,
    supersededBy: r.superseded_by,
    inactiveSince: r.inactive_since,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** The columns a person is made of (a trace reads only these, and status and superseded_by). */
const PERSON_COLUMNS = [
  'nhs_number',
  'family_name',
  'given_names',
  'birth_date',
  'gender',
  'sensitive',
  'death_date',
  'mother_nhs_number',
  'postcode',
] as const;

/** The person in a register row: see toPerson. */
function personOf(r: Pick<PersonTable, (typeof PERSON_COLUMNS)[number]>): Person {
  return {
    nhsNumber: r.nhs_number,
    familyName: r.family_name,
    givenNames: r.given_names,
    birthDate: r.birth_date,
    gender: r.gender as Gender,
    sensitive: r.sensitive,
    deathDate: r.death_date,
    motherNhsNumber: r.mother_nhs_number,
    postcode: r.sensitive ? null : r.postcode,
  };
}

/**
 * What a trace reads of each row: not the timestamps, which it does not give out (parsing them was
 * a quarter of a million dates in a large upload).
 */
const TRACE_COLUMNS = [...PERSON_COLUMNS, 'status', 'superseded_by'] as const;
type TraceRow = Pick<PersonTable, (typeof TRACE_COLUMNS)[number]>;

export async function getPerson(db: Executor, nhsNumber: string): Promise<RegisteredPerson | null> {
  const row = await db
    .selectFrom('person')
    .selectAll()
    .where('nhs_number', '=', nhsNumber)
    .executeTakeFirst();
  return row ? toPerson(row) : null;
}

/** Create or update an active person. Returns whether the record was created. */
export async function putPerson(
  trx: Tx,
  now: Date,
  nhsNumber: NhsNumber,
  input: PersonInput,
): Promise<{ created: boolean; person: RegisteredPerson }> {
  const existing = await trx
    .selectFrom('person')
    .selectAll()
    .where('nhs_number', '=', nhsNumber)
    .forUpdate()
    .executeTakeFirst();
  if (existing && existing.status !== 'active') {
    throw conflict(
      existing.status === 'superseded'
        ? `NHS number ${nhsNumber} is inactive: it was superseded by ${existing.superseded_by}; update that record instead`
        : `NHS number ${nhsNumber} is inactive: it was invalidated and cannot be reused`,
      'nhsNumber',
    );
  }
  const values = {
    family_name: input.familyName,
    given_names: input.givenNames,
    birth_date: input.birthDate,
    gender: input.gender ?? (existing?.gender as Gender | undefined) ?? 'unknown',
    sensitive: input.sensitive ?? existing?.sensitive ?? false,
    death_date: input.deathDate === undefined ? (existing?.death_date ?? null) : input.deathDate,
    postcode: input.postcode === undefined ? (existing?.postcode ?? null) : input.postcode,
    updated_at: now,
  };
  const row = existing
    ? await trx
        .updateTable('person')
        .set(values)
        .where('nhs_number', '=', nhsNumber)
        .returningAll()
        .executeTakeFirstOrThrow()
    : await trx
        .insertInto('person')
        .values({ nhs_number: nhsNumber, ...values, status: 'active', created_at: now })
        .returningAll()
        .executeTakeFirstOrThrow();
  return { created: !existing, person: toPerson(row) };
}

export interface SupersedeResult {
  old: RegisteredPerson;
  replacement: RegisteredPerson;
  /** Whether the replacement number was created by this merge (it did not exist before). */
  replacementCreated: boolean;
}

/**
 * Merge: `oldNumber` becomes inactive, superseded by `newNumber`, which takes the person's
 * demographics. Numbers previously superseded by the old one now point straight at the new one,
 * and babies registered to the old number now point at their mother's new number.
 */
export async function supersedePerson(
  trx: Tx,
  now: Date,
  oldNumber: NhsNumber,
  newNumber: NhsNumber,
): Promise<SupersedeResult> {
  if (oldNumber === newNumber)
    throw invalidValue('newNhsNumber', 'the new NHS number must differ from the old one');
  const rows = await trx
    .selectFrom('person')
    .selectAll()
    .where('nhs_number', 'in', [oldNumber, newNumber])
    .orderBy('nhs_number')
    .forUpdate()
    .execute();
  const old = rows.find((r) => r.nhs_number === oldNumber);
  const target = rows.find((r) => r.nhs_number === newNumber);
  if (!old) throw notFound(`NHS number ${oldNumber} is not in the demographics register`);
  if (old.status !== 'active')
    throw conflict(`NHS number ${oldNumber} is already inactive (${old.status})`, 'nhsNumber');
  if (target && target.status !== 'active') {
    throw conflict(
      `NHS number ${newNumber} is inactive (${target.status}) and cannot be a replacement`,
      'newNhsNumber',
    );
  }
  const demographics = {
    family_name: old.family_name,
    given_names: old.given_names,
    birth_date: old.birth_date,
    gender: old.gender,
    // A merge must never make a restricted record visible: restricted if either was.
    sensitive: old.sensitive || (target?.sensitive ?? false),
    death_date: old.death_date ?? target?.death_date ?? null,
    mother_nhs_number: target?.mother_nhs_number ?? old.mother_nhs_number,
    postcode: old.postcode ?? target?.postcode ?? null,
    updated_at: now,
  };
  const replacement = target
    ? await trx
        .updateTable('person')
        .set(demographics)
        .where('nhs_number', '=', newNumber)
        .returningAll()
        .executeTakeFirstOrThrow()
    : await trx
        .insertInto('person')
        .values({ nhs_number: newNumber, ...demographics, status: 'active', created_at: now })
        .returningAll()
        .executeTakeFirstOrThrow();
  const retired = await trx
    .updateTable('person')
    .set({ status: 'superseded', superseded_by: newNumber, inactive_since: now, updated_at: now })
    .where('nhs_number', '=', oldNumber)
    .returningAll()
    .executeTakeFirstOrThrow();
  await trx
    .updateTable('person')
    .set({ superseded_by: newNumber })
    .where('superseded_by', '=', oldNumber)
    .execute();
  await trx
    .updateTable('person')
    .set({ mother_nhs_number: newNumber })
    .where('mother_nhs_number', '=', oldNumber)
    .where('nhs_number', '<>', newNumber)
    .execute();
  return { old: toPerson(retired), replacement: toPerson(replacement), replacementCreated: !target };
}

/** The number becomes inactive with no replacement (as on adoption): nothing links it to any other. */
export async function invalidatePerson(trx: Tx, now: Date, nhsNumber: NhsNumber): Promise<RegisteredPerson> {
  const existing = await trx
    .selectFrom('person')
    .select(['status'])
    .where('nhs_number', '=', nhsNumber)
    .forUpdate()
    .executeTakeFirst();
  if (!existing) throw notFound(`NHS number ${nhsNumber} is not in the demographics register`);
  if (existing.status !== 'active')
    throw conflict(`NHS number ${nhsNumber} is already inactive (${existing.status})`, 'nhsNumber');
  const row = await trx
    .updateTable('person')
    .set({ status: 'invalidated', inactive_since: now, updated_at: now })
    .where('nhs_number', '=', nhsNumber)
    .returningAll()
    .executeTakeFirstOrThrow();
  return toPerson(row);
}

export interface BirthInput {
  motherNhsNumber: NhsNumber;
  nhsNumber: NhsNumber;
  familyName: string;
  givenNames: string[];
  birthDate: IsoDate;
  gender?: Gender;
}

/**
 * Register a baby linked to its mother, at her home postcode. The mother's number is followed if it
 * was superseded. A restricted mother's postcode is not passed on: the baby's record is not
 * restricted, so it would show her address.
 */
export async function registerBirth(
  trx: Tx,
  now: Date,
  input: BirthInput,
): Promise<{ baby: RegisteredPerson; mother: RegisteredPerson }> {
  const motherRow = await trx
    .selectFrom('person')
    .selectAll()
    .where('nhs_number', '=', input.motherNhsNumber)
    .executeTakeFirst();
  if (!motherRow)
    throw notFound(`the mother's NHS number ${input.motherNhsNumber} is not in the demographics register`);
  let mother = toPerson(motherRow);
  if (mother.status === 'superseded' && mother.supersededBy) {
    const current = await getPerson(trx, mother.supersededBy);
    if (current) mother = current;
  }
  if (mother.status !== 'active') {
    throw conflict(
      `the mother's NHS number ${input.motherNhsNumber} is inactive (${mother.status})`,
      'motherNhsNumber',
    );
  }
  if (input.birthDate < mother.birthDate) {
    throw invalidValue('birthDate', "the baby's date of birth is before the mother's");
  }
  const exists = await trx
    .selectFrom('person')
    .select('nhs_number')
    .where('nhs_number', '=', input.nhsNumber)
    .executeTakeFirst();
  if (exists) throw conflict(`NHS number ${input.nhsNumber} is already registered`, 'nhsNumber');
  const baby = await trx
    .insertInto('person')
    .values({
      nhs_number: input.nhsNumber,
      family_name: input.familyName,
      given_names: input.givenNames,
      birth_date: input.birthDate,
      gender: input.gender ?? 'unknown',
      sensitive: false,
      death_date: null,
      mother_nhs_number: mother.nhsNumber,
      // toPerson has already withheld a sensitive mother's postcode.
      postcode: mother.postcode,
      status: 'active',
      created_at: now,
      updated_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { baby: toPerson(baby), mother };
}

/** The DemographicsService over the local register. Reads through the caller's transaction. */
export class LocalRegister implements DemographicsService {
  readonly kind = 'local' as const;

  async trace(nhsNumbers: readonly NhsNumber[], ctx: TraceContext): Promise<Map<string, Trace>> {
    const out = new Map<string, Trace>();
    const unique = [...new Set(nhsNumbers)];
    const columns = sql.raw(TRACE_COLUMNS.join(', '));
    const replaced = sql.raw(TRACE_COLUMNS.map((c) => `r.${c}`).join(', '));
    for (let i = 0; i < unique.length; i += 10_000) {
      const slice = unique.slice(i, i + 10_000);
      // One round trip per slice: each asked-for row, and the replacement of any that was superseded,
      // looked up from the rows found. (Written as one WHERE with OR, the planner read the whole
      // register for every slice, which made a large upload quadratic; with the replacements as a
      // second search of the register by the asked numbers, it still did whenever the register had
      // no statistics yet, as after a bulk load: 80 ms a slice instead of 2.)
      const { rows } = await sql<TraceRow>`
        with asked as materialized (select ${columns} from person where nhs_number = any(${slice}::text[]))
        select * from asked
        union all
        select ${replaced} from asked a join person r on r.nhs_number = a.superseded_by`.execute(ctx.db);
      const byNumber = new Map(rows.map((r) => [r.nhs_number, r]));
      for (const n of slice) {
        const r = byNumber.get(n);
        if (!r) continue;
        if (r.status === 'active') out.set(n, { status: 'found', person: personOf(r) });
        else if (r.status === 'superseded' && r.superseded_by) {
          const replacement = byNumber.get(r.superseded_by);
          out.set(n, {
            status: 'superseded',
            nhsNumber: n,
            replacementNhsNumber: r.superseded_by,
            person: replacement ? personOf(replacement) : null,
          });
        } else out.set(n, { status: 'invalidated', nhsNumber: n });
      }
      for (const n of slice) if (!out.has(n)) out.set(n, { status: 'not-found', nhsNumber: n });
    }
    return out;
  }

  /**
   * The people born that day (read through the birth-date index), active records only, then the
   * names, gender and postcode compared here: see `fitsQuery`.
   */
  async search(query: DemographicsQuery, ctx: TraceContext): Promise<DemographicsSearchResult> {
    if (!isIsoDate(query.birthDate)) throw invalidValue('birthDate', 'birthDate must be a real date');
    const rows = await ctx.db
      .selectFrom('person')
      .selectAll()
      .where('birth_date', '=', query.birthDate)
      .where('status', '=', 'active')
      .execute();
    const fits = rows.filter((r) => fitsQuery(r, query));
    if (fits.length === 0) return { status: 'none' };
    if (fits.length > 1) return { status: 'several' };
    return { status: 'one', person: toPerson(fits[0]!) };
  }
}

/**
 * Does an active register row fit a demographics search (PDS non-fuzzy rules, current data only)?
 * - family name: equal after `normaliseName`, or with a trailing `*` starting with the rest;
 * - given name: equal to any of the person's given names (or all of them together, "Mary Ann"), or
 *   with `*` the start of any of them;
 * - gender: equal, when asked;
 * - postcode, when asked: never a sensitive person (PDS returns no restricted patient to a search
 *   with a postcode), and the person's postcode equal to it, or starting with it for `*`, ignoring spaces.
 */
export function fitsQuery(
  r: Pick<PersonTable, 'family_name' | 'given_names' | 'gender' | 'sensitive' | 'postcode'>,
  query: DemographicsQuery,
): boolean {
  if (!nameFits(query.familyName, [normaliseName(r.family_name)])) return false;
  const given = r.given_names.map(normaliseName);
  if (!nameFits(query.givenName, [...given, given.join('')])) return false;
  if (query.gender !== undefined && r.gender !== query.gender) return false;
  if (query.postcode !== undefined) {
    if (r.sensitive || r.postcode === null) return false;
    const held = compactPostcode(r.postcode);
    const asked = compactPostcode(query.postcode);
    if (asked.endsWith('*') ? !held.startsWith(asked.slice(0, -1)) : held !== asked) return false;
  }
  return true;
}

function nameFits(asked: string, held: readonly string[]): boolean {
  const wildcard = asked.endsWith('*');
  const want = normaliseName(wildcard ? asked.slice(0, -1) : asked);
  if (want === '') return false;
  return held.some((h) => h !== '' && (wildcard ? h.startsWith(want) : h === want));
}

function compactPostcode(postcode: string): string {
  return postcode.replace(/\s+/g, '').toUpperCase();
}
