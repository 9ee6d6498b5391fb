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
  /**
   * The home address's postcode, upper case with one space before the inward code (`B15 2TT`).
   * Always null for a sensitive (restricted) person: restricted records never show address-like detail.
   */
  postcode: string | null;
}

/** The answer for one number asked about. */
export type Trace =
  | { status: 'found'; person: Person }
  /** The number was merged into another; `person` is the record now held under the replacement. */
  | { status: 'superseded'; nhsNumber: string; replacementNhsNumber: string; person: Person | null }
  /** The number is inactive with no replacement (as on adoption). */
  | { status: 'invalidated'; nhsNumber: string }
  | { status: 'not-found'; nhsNumber: string };

/**
 * A search by demographics ("trace by demographics"), as the PDS non-fuzzy search. Names and the
 * postcode may end with `*`, meaning "starts with" (`Tra*`, `B15*`, `B*`).
 */
export interface DemographicsQuery {
  familyName: string;
  givenName: string;
  birthDate: IsoDate;
  gender?: Gender;
  /** A full postcode (`B15 2TT`) or a prefix ending with `*`. A search with a postcode never finds a sensitive person. */
  postcode?: string;
}

/**
 * One person or none, like a PDS application-restricted search: several candidates are `several`
 * (the caller asks the user to refine the search), never a list.
 */
export type DemographicsSearchResult =
  | { status: 'one'; person: Person }
  | { status: 'none' }
  | { status: 'several' };

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
  /**
   * Find the one active person who fits the query. Superseded and invalidated numbers are never
   * answered (a merged person is found under the surviving number). Throws `DemographicsUnavailable`
   * when the service cannot answer.
   */
  search(query: DemographicsQuery, ctx: TraceContext): Promise<DemographicsSearchResult>;
}

export class DemographicsUnavailable extends Error {
  constructor(message = 'the demographics service is unavailable') {
    super(message);
    this.name = 'DemographicsUnavailable';
  }
}
