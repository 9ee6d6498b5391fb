/**
 * The demographics port: how CP-IS learns who a person is. Two adapters implement it — the local
 * register (default; a PDS-like table in our own store) and a client for the real PDS FHIR API.
 */
import type { IsoDate } from '../domain/dates.ts';
import type { NhsNumber } from '../domain/nhs-number.ts';
import type { Executor } from '../store/db.ts';

export type Gender = 'male' | 'female' | 'other' | 'unknown';
export const GENDERS: readonly Gender[] = ['male', 'female', 'other', 'unknown'];

/** What demographics holds about one active NHS number. */
export interface Person {
  nhsNumber: string;
  familyName: string;
  givenNames: string[];
  birthDate: IsoDate;
  gender: Gender;
  /** Restricted record (PDS `meta.security` R or V): may not hold CP-IS information. */
  sensitive: boolean;
  deathDate: IsoDate | null;
  /** For a baby registered through the births service: the mother's NHS number. */
  motherNhsNumber: string | null;
}

/** The answer for one number asked about. */
export type Trace =
  | { status: 'found'; person: Person }
  /** The number was merged into another; `person` is the record now held under the replacement. */
  | { status: 'superseded'; nhsNumber: string; replacementNhsNumber: string; person: Person | null }
  /** The number is inactive with no replacement (as on adoption). */
  | { status: 'invalidated'; nhsNumber: string }
  | { status: 'not-found'; nhsNumber: string };

export interface TraceContext {
  /** The transaction the caller is in. The local register reads through it (PGlite has one connection). */
  db: Executor;
}

export interface DemographicsService {
  readonly kind: 'local' | 'pds';
  /**
   * Look up many numbers in one call; the map has an entry for every number asked about.
   * Throws `DemographicsUnavailable` when the service cannot answer for all of them: callers must
   * then apply nothing (CPF05), never treat the silence as "not found".
   */
  trace(nhsNumbers: readonly NhsNumber[], ctx: TraceContext): Promise<Map<string, Trace>>;
}

export class DemographicsUnavailable extends Error {
  constructor(message = 'the demographics service is unavailable') {
    super(message);
    this.name = 'DemographicsUnavailable';
  }
}
