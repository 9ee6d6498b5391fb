/**
 * Administering the local demographics register (INTERFACE §2): create/update a person,
 * supersede (merge) and invalidate numbers, register births. Each change validates its input,
 * commits with its audit entry in one transaction, and tells the registered listeners inside that
 * same transaction — so what a change means for LA records and notifications commits with it.
 */

import { appendAudit } from '../audit/log.ts';
import type { Principal } from '../auth/principal.ts';
import { auditActor } from '../auth/principal.ts';
import type { Clock } from '../domain/clock.ts';
import { londonDateOf } from '../domain/dates.ts';
import { invalidValue, notFound } from '../domain/outcomes.ts';
import {
  requireDate,
  requireGivenNames,
  requireName,
  requireNhsNumber,
  requirePastOrToday,
} from '../domain/validate.ts';
import { type Executor, type Tx, transact } from '../store/db.ts';
import {
  getPerson,
  invalidatePerson,
  putPerson,
  type RegisteredPerson,
  registerBirth,
  type SupersedeResult,
  supersedePerson,
} from './register.ts';
import { normalisePostcode } from './search.ts';
import { GENDERS, type Gender } from './types.ts';

/** Told about register changes inside the transaction that makes them. */
export interface DemographicsListener {
  superseded?(trx: Tx, now: Date, change: SupersedeResult): Promise<void>;
  invalidated?(trx: Tx, now: Date, person: RegisteredPerson): Promise<void>;
  born?(trx: Tx, now: Date, baby: RegisteredPerson, mother: RegisteredPerson): Promise<void>;
}

export interface AdminDeps {
  db: Executor;
  clock: Clock;
  listeners: readonly DemographicsListener[];
}

export interface PersonBody {
  familyName: string;
  givenNames: string[];
  birthDate: string;
  gender?: string;
  sensitive?: boolean;
  deathDate?: string | null;
  /** The home address's full postcode, in any case, with or without its space; null clears it. */
  postcode?: string | null;
}

function gender(field: string, raw: unknown): Gender | undefined {
  if (raw === undefined) return undefined;
  if (!GENDERS.includes(raw as Gender))
    throw invalidValue(field, `${field} must be one of ${GENDERS.join(', ')}`);
  return raw as Gender;
}

/** A full UK postcode, normalised (`b152tt` is `B15 2TT`); null clears it; left out keeps what is held. */
function postcode(field: string, raw: unknown): string | null | undefined {
  if (raw === undefined || raw === null) return raw;
  const normalised = typeof raw === 'string' ? normalisePostcode(raw) : null;
  if (normalised === null) throw invalidValue(field, `${field} must be a full UK postcode, like B15 2TT`);
  return normalised;
}

export async function adminPutPerson(
  deps: AdminDeps,
  who: Principal,
  rawNhsNumber: string,
  body: PersonBody,
) {
  const now = deps.clock.now();
  const today = londonDateOf(now);
  const nhsNumber = requireNhsNumber('nhsNumber', rawNhsNumber);
  const familyName = requireName('familyName', body.familyName);
  const givenNames = requireGivenNames('givenNames', body.givenNames);
  const birthDate = requirePastOrToday('birthDate', requireDate('birthDate', body.birthDate), today);
  let deathDate: string | null | undefined;
  if (body.deathDate !== undefined && body.deathDate !== null) {
    deathDate = requirePastOrToday('deathDate', requireDate('deathDate', body.deathDate), today);
    if (deathDate < birthDate) throw invalidValue('deathDate', 'deathDate is before birthDate');
  } else deathDate = body.deathDate;
  const input = {
    familyName,
    givenNames,
    birthDate,
    gender: gender('gender', body.gender),
    sensitive: body.sensitive,
    deathDate,
    postcode: postcode('postcode', body.postcode),
  };
  return transact(deps.db, async (trx) => {
    const result = await putPerson(trx, now, nhsNumber, input);
    await appendAudit(trx, now, [
      {
        category: 'admin',
        action: result.created ? 'demographics.create' : 'demographics.update',
        outcome: 'success',
        actor: auditActor(who),
        nhsNumber,
        detail: { sensitive: result.person.sensitive, deceased: result.person.deathDate !== null },
      },
    ]);
    return result;
  });
}

export async function adminGetPerson(db: Executor, rawNhsNumber: string): Promise<RegisteredPerson> {
  const nhsNumber = requireNhsNumber('nhsNumber', rawNhsNumber);
  const person = await getPerson(db, nhsNumber);
  if (!person) throw notFound(`NHS number ${nhsNumber} is not in the demographics register`);
  return person;
}

export async function adminSupersede(deps: AdminDeps, who: Principal, rawOld: string, rawNew: unknown) {
  const now = deps.clock.now();
  const oldNumber = requireNhsNumber('nhsNumber', rawOld);
  const newNumber = requireNhsNumber('newNhsNumber', rawNew);
  return transact(deps.db, async (trx) => {
    const result = await supersedePerson(trx, now, oldNumber, newNumber);
    for (const l of deps.listeners) await l.superseded?.(trx, now, result);
    await appendAudit(trx, now, [
      {
        category: 'admin',
        action: 'demographics.supersede',
        outcome: 'success',
        actor: auditActor(who),
        nhsNumber: oldNumber,
        detail: { replacementNhsNumber: newNumber, replacementCreated: result.replacementCreated },
      },
    ]);
    return result;
  });
}

export async function adminInvalidate(deps: AdminDeps, who: Principal, rawNhsNumber: string) {
  const now = deps.clock.now();
  const nhsNumber = requireNhsNumber('nhsNumber', rawNhsNumber);
  return transact(deps.db, async (trx) => {
    const person = await invalidatePerson(trx, now, nhsNumber);
    for (const l of deps.listeners) await l.invalidated?.(trx, now, person);
    await appendAudit(trx, now, [
      {
        category: 'admin',
        action: 'demographics.invalidate',
        outcome: 'success',
        actor: auditActor(who),
        nhsNumber,
      },
    ]);
    return person;
  });
}

export interface BirthBody {
  motherNhsNumber: string;
  nhsNumber: string;
  familyName: string;
  givenNames: string[] | string;
  birthDate: string;
  gender?: string;
}

export async function adminRegisterBirth(deps: AdminDeps, who: Principal, body: BirthBody) {
  const now = deps.clock.now();
  const input = {
    motherNhsNumber: requireNhsNumber('motherNhsNumber', body.motherNhsNumber),
    nhsNumber: requireNhsNumber('nhsNumber', body.nhsNumber),
    familyName: requireName('familyName', body.familyName),
    givenNames: requireGivenNames('givenNames', body.givenNames),
    birthDate: requirePastOrToday('birthDate', requireDate('birthDate', body.birthDate), londonDateOf(now)),
    gender: gender('gender', body.gender),
  };
  if (input.motherNhsNumber === input.nhsNumber) {
    throw invalidValue('nhsNumber', "the baby's NHS number must differ from the mother's");
  }
  return transact(deps.db, async (trx) => {
    const { baby, mother } = await registerBirth(trx, now, input);
    for (const l of deps.listeners) await l.born?.(trx, now, baby, mother);
    await appendAudit(trx, now, [
      {
        category: 'admin',
        action: 'demographics.birth',
        outcome: 'success',
        actor: auditActor(who),
        nhsNumber: baby.nhsNumber,
        detail: { motherNhsNumber: mother.nhsNumber },
      },
    ]);
    return { baby, mother };
  });
}
