/**
 * A deterministic synthetic population: the same seed always gives the same people. Every NHS
 * number is in the NHS test range (999...), so no real person can ever be matched.
 *
 * First come the storyboard people at fixed numbers (the README lists them), then households:
 * a mother with one to three children sharing her family name, babies linked to their mother, a
 * few restricted (sensitive), superseded, invalidated and deceased records. Ages are reckoned from a
 * fixed reference date so the population does not change from day to day.
 *
 * Every person has a home postcode, shared by the household: an outward code of a town in the demo
 * directory and a made-up inward code. Restricted people have one too (PDS holds it); the service
 * never gives it out. Postcodes come from their own random stream, so adding them left every name,
 * number and date the seed gave before exactly as it was.
 */
import { addDays, addYears, type IsoDate } from '../domain/dates.ts';
import { nextValidNhsNumber } from '../domain/nhs-number.ts';
import type { PersonTable } from '../store/schema.ts';
import { FAMILY_NAMES, GIVEN_NAMES_FEMALE, GIVEN_NAMES_MALE } from './names.ts';
import { DEMO_ORGANISATIONS } from './world-directory.ts';

export const POPULATION_REFERENCE_DATE: IsoDate = '2026-11-01';
/** Generated people take numbers from here; lower 999 numbers are kept for the storyboards and tests. */
const FIRST_GENERATED_NINE = 999_100_000;
export const MAX_GENERATED_PEOPLE = 800_000;

export type PersonRow = Omit<PersonTable, 'created_at' | 'updated_at'>;

export interface StoryPerson {
  nhsNumber: string;
  familyName: string;
  givenNames: string[];
  birthDate: IsoDate;
  gender: 'male' | 'female';
  /** What the storyboards and the README use this person for. */
  role: string;
  status?: 'superseded' | 'invalidated';
  supersededBy?: string;
  sensitive?: boolean;
  /** Home postcode (held for a restricted person too, never given out for one). */
  postcode: string;
}

/** The storyboard people. Numbers and details are referred to by the README, the demo and tests. */
export const STORY_PEOPLE: readonly StoryPerson[] = [
  {
    nhsNumber: '9990000018',
    familyName: 'SMITH',
    givenNames: ['Johnny'],
    birthDate: '2021-05-02',
    gender: 'male',
    role: 'Johnny: child protection plan, A&E on a Friday night',
    postcode: 'E1 4DG',
  },
  {
    nhsNumber: '9990000026',
    familyName: 'JONES',
    givenNames: ['Tracy'],
    birthDate: '2007-03-14',
    gender: 'female',
    role: 'Tracy: 19, unborn child protection plan (Birmingham), found in London',
    postcode: 'B15 2TT',
  },
  {
    nhsNumber: '9990000034',
    familyName: 'BROWN',
    givenNames: ['Lucy'],
    birthDate: '2014-07-09',
    gender: 'female',
    role: 'Lucy: looked-after child, A&E',
    postcode: 'WN1 3LD',
  },
  {
    nhsNumber: '9990000042',
    familyName: 'SMITH',
    givenNames: ['Sharon'],
    birthDate: '1994-02-11',
    gender: 'female',
    role: "Sharon: Johnny's mother (an adult with no plan)",
    postcode: 'E1 4DG',
  },
  {
    nhsNumber: '9990000069',
    familyName: 'HUGHES',
    givenNames: ['Mason', 'James'],
    birthDate: '2018-09-23',
    gender: 'male',
    role: 'Mason: child protection plan (Staffordshire), the 111-ambulance-A&E-ward flood',
    postcode: 'ST5 2QE',
  },
  {
    nhsNumber: '9990000077',
    familyName: 'CLARKE',
    givenNames: ['Amelia'],
    birthDate: '2016-01-30',
    gender: 'female',
    role: 'Amelia: restricted (sensitive) record: uploads get CPR02',
    postcode: 'LS6 2QB',
    sensitive: true,
  },
  {
    nhsNumber: '9990000093',
    familyName: "O'BRIEN",
    givenNames: ['Oliver'],
    birthDate: '2012-11-05',
    gender: 'male',
    role: 'Oliver: current number of a merged record',
    postcode: 'M8 9HX',
  },
  {
    nhsNumber: '9990000085',
    familyName: "O'BRIEN",
    givenNames: ['Oliver'],
    birthDate: '2012-11-05',
    gender: 'male',
    role: "Oliver's old number, superseded by 9990000093: uploads get CPR05",
    postcode: 'M8 9HX',
    status: 'superseded',
    supersededBy: '9990000093',
  },
  {
    nhsNumber: '9990000107',
    familyName: 'TAYLOR',
    givenNames: ['Ruby'],
    birthDate: '2019-06-17',
    gender: 'female',
    role: 'Ruby: invalidated number (adoption): uploads get CPR05 with no replacement',
    postcode: 'NG7 2RD',
    status: 'invalidated',
  },
  {
    nhsNumber: '9990000115',
    familyName: 'EVANS',
    givenNames: ['Leo'],
    birthDate: '2009-12-02',
    gender: 'male',
    role: 'Leo: turns 18 on 2027-12-02, when his plans stop being visible',
    postcode: 'S10 3FQ',
  },
  {
    nhsNumber: '9990000123',
    familyName: 'PATEL',
    givenNames: ['Ava'],
    birthDate: '2020-03-29',
    gender: 'female',
    role: 'Ava: records from two local authorities after a move',
    postcode: 'CV2 4NU',
  },
  {
    nhsNumber: '9990000131',
    familyName: 'SMITH-JONES',
    givenNames: ['Noah'],
    birthDate: '2017-08-14',
    gender: 'male',
    role: 'Noah: a hyphenated family name (matches SMITH JONES)',
    postcode: 'NE6 5AD',
  },
  {
    nhsNumber: '9990000220',
    familyName: 'WILLIAMS',
    givenNames: ['Jack'],
    birthDate: '2019-04-04',
    gender: 'male',
    role: 'Jack (Leeds): two children with the same name and date of birth: a search by name and date of birth must ask to refine; the postcode tells them apart',
    postcode: 'LS9 7HE',
  },
  {
    nhsNumber: '9990000298',
    familyName: 'WILLIAMS',
    givenNames: ['Jack'],
    birthDate: '2019-04-04',
    gender: 'male',
    role: 'Jack (Bristol): two children with the same name and date of birth: a search by name and date of birth must ask to refine; the postcode tells them apart',
    postcode: 'BS2 8JQ',
  },
];

/** Kept free for the births the demo registers (Tracy's baby). */
export const STORY_BABY_NHS_NUMBER = '9990000050';

/** sfc32: a small, fast, well-distributed PRNG; deterministic for a seed. */
export function prng(seed: number): () => number {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = () => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 15; i++) next();
  return next;
}

/**
 * Outward codes of the towns the demo directory's organisations are in (`B15`, `E11`, `ST4`, `LS9`...),
 * once each, in directory order.
 */
export const DEMO_OUTWARD_CODES: readonly string[] = [
  ...new Set(DEMO_ORGANISATIONS.flatMap((o) => (o.postcode ? [o.postcode.split(' ')[0]!] : []))),
];

/** The letters Royal Mail uses in inward codes (no C, I, K, M, O or V). */
const INWARD_LETTERS = 'ABDEFGHJLNPQRSTUWXYZ';

/** A postcode from a random stream: a directory town's outward code and a made-up inward code (`4TT`). */
function postcodeFrom(rand: () => number): string {
  const outward = DEMO_OUTWARD_CODES[Math.floor(rand() * DEMO_OUTWARD_CODES.length)]!;
  const digit = Math.floor(rand() * 10);
  const a = INWARD_LETTERS[Math.floor(rand() * INWARD_LETTERS.length)]!;
  const b = INWARD_LETTERS[Math.floor(rand() * INWARD_LETTERS.length)]!;
  return `${outward} ${digit}${a}${b}`;
}

export function storyRows(): PersonRow[] {
  // Replacements must exist before the numbers they supersede (foreign key), so actives go first.
  const ordered = [...STORY_PEOPLE].sort((a, b) => Number(!!a.status) - Number(!!b.status));
  return ordered.map((p) => ({
    nhs_number: p.nhsNumber,
    family_name: p.familyName,
    given_names: p.givenNames,
    birth_date: p.birthDate,
    gender: p.gender,
    sensitive: p.sensitive ?? false,
    death_date: null,
    mother_nhs_number: null,
    postcode: p.postcode,
    status: p.status ?? 'active',
    superseded_by: p.supersededBy ?? null,
    inactive_since: p.status ? new Date('2026-06-01T09:00:00Z') : null,
  }));
}

/**
 * Generate `count` people (not counting the storyboard people) in an order that satisfies the
 * register's foreign keys: mothers before their babies, replacements before superseded numbers.
 */
export function* generatePopulation(count: number, seed: number): Generator<PersonRow> {
  if (count > MAX_GENERATED_PEOPLE) throw new Error(`at most ${MAX_GENERATED_PEOPLE} generated people`);
  const rand = prng(seed);
  // Postcodes draw from a stream of their own, so they never shift what `rand` gives the rest.
  const placeRand = prng((seed ^ 0x5f3759df) >>> 0);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  let nine = FIRST_GENERATED_NINE;
  const nextNumber = () => {
    const r = nextValidNhsNumber(nine);
    nine = r.nextNine;
    return r.nhsNumber;
  };
  const birthDateFor = (minAge: number, maxAge: number): IsoDate => {
    const years = minAge + Math.floor(rand() * (maxAge - minAge + 1));
    const back = Math.floor(rand() * 365);
    const d = addDays(addYears(POPULATION_REFERENCE_DATE, -years), -back);
    return d > POPULATION_REFERENCE_DATE ? POPULATION_REFERENCE_DATE : d;
  };
  const givenNames = (gender: 'male' | 'female'): string[] => {
    const list = gender === 'female' ? GIVEN_NAMES_FEMALE : GIVEN_NAMES_MALE;
    const first = pick(list);
    if (rand() >= 0.35) return [first];
    let middle = pick(list);
    if (middle === first) middle = pick(list);
    return middle === first ? [first] : [first, middle];
  };
  const person = (
    familyName: string,
    gender: 'male' | 'female',
    birthDate: IsoDate,
    mother: string | null,
    postcode: string,
  ): PersonRow => ({
    nhs_number: nextNumber(),
    family_name: familyName.toUpperCase(),
    given_names: givenNames(gender),
    birth_date: birthDate,
    gender,
    sensitive: rand() < 0.004,
    death_date: null,
    mother_nhs_number: mother,
    postcode,
    status: 'active',
    superseded_by: null,
    inactive_since: null,
  });

  let made = 0;
  const emit = function* (row: PersonRow): Generator<PersonRow> {
    if (made >= count) return;
    made++;
    yield row;
    // About 1 in 300 people also has an old number from a merged duplicate record.
    if (made < count && rand() < 0.0033) {
      made++;
      yield {
        ...row,
        nhs_number: nextNumber(),
        status: 'superseded',
        superseded_by: row.nhs_number,
        inactive_since: new Date('2025-03-01T10:00:00Z'),
      };
    }
  };

  while (made < count) {
    const familyName = pick(FAMILY_NAMES);
    const home = postcodeFrom(placeRand);
    const motherRow = person(familyName, 'female', birthDateFor(18, 45), null, home);
    if (rand() < 0.0015) motherRow.death_date = addDays(POPULATION_REFERENCE_DATE, -Math.floor(rand() * 900));
    yield* emit(motherRow);
    const motherAge =
      Number(POPULATION_REFERENCE_DATE.slice(0, 4)) - Number(motherRow.birth_date.slice(0, 4));
    const children = 1 + Math.floor(rand() * 3);
    for (let i = 0; i < children && made < count; i++) {
      const maxAge = Math.min(17, Math.max(0, motherAge - 16));
      const birthDate = birthDateFor(0, maxAge);
      const isBaby = birthDate > addYears(POPULATION_REFERENCE_DATE, -1);
      const gender = rand() < 0.5 ? 'female' : 'male';
      // Most children share their mother's family name; some carry another parent's.
      const childName = rand() < 0.8 ? familyName : pick(FAMILY_NAMES);
      const child = person(childName, gender, birthDate, isBaby ? motherRow.nhs_number : null, home);
      if (rand() < 0.001) {
        child.status = 'invalidated';
        child.inactive_since = new Date('2024-09-01T10:00:00Z');
      }
      yield* emit(child);
    }
  }
}
