/**
 * Errors as FHIR values: every failure the service reports is an OperationOutcome, and one map turns
 * an outcome into its HTTP status. Capability code throws `OutcomeError`; the HTTP layer only maps it.
 */
import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4.js';

export const SPINE_ERROR_SYSTEM = 'https://fhir.nhs.uk/CodeSystem/Spine-ErrorOrWarningCode';

/** The Spine error codes this service uses (CPIS.md §9). */
export type SpineCode =
  | 'INVALID_SEARCH_DATA'
  | 'PRECONDITION_FAILED'
  | 'ACCESS_DENIED'
  | 'INVALID_VALUE'
  | 'MISSING_VALUE';

type IssueType = OperationOutcomeIssue['code'];

/** One map from the FHIR issue type to the HTTP status (the first issue decides). */
const STATUS_BY_ISSUE: Partial<Record<IssueType, number>> = {
  invalid: 400,
  structure: 400,
  required: 400,
  value: 400,
  invariant: 400,
  login: 401,
  unknown: 401,
  security: 403,
  forbidden: 403,
  'not-found': 404,
  'not-supported': 415,
  conflict: 409,
  duplicate: 409,
  'too-long': 413,
  throttled: 429,
  transient: 503,
  exception: 500,
};

export function statusOf(outcome: OperationOutcome): number {
  const code = outcome.issue[0]?.code;
  return (code && STATUS_BY_ISSUE[code]) || 500;
}

export interface IssueOptions {
  spineCode?: SpineCode;
  /** The request field at fault, written as a path (`body.records[2].birthDate`, `patient:identifier`). */
  field?: string;
  severity?: OperationOutcomeIssue['severity'];
}

export function outcome(code: IssueType, text: string, opts: IssueOptions = {}): OperationOutcome {
  const issue: OperationOutcomeIssue = { severity: opts.severity ?? 'error', code, diagnostics: text };
  if (opts.spineCode) {
    issue.details = {
      coding: [{ system: SPINE_ERROR_SYSTEM, code: opts.spineCode, display: spineDisplay(opts.spineCode) }],
      text,
    };
  } else {
    issue.details = { text };
  }
  if (opts.field) issue.expression = [opts.field];
  return { resourceType: 'OperationOutcome', issue: [issue] };
}

function spineDisplay(code: SpineCode): string {
  switch (code) {
    case 'INVALID_SEARCH_DATA':
      return 'Invalid search data';
    case 'PRECONDITION_FAILED':
      return 'Precondition failed';
    case 'ACCESS_DENIED':
      return 'Access denied';
    case 'INVALID_VALUE':
      return 'Invalid value';
    case 'MISSING_VALUE':
      return 'Missing value';
  }
}

/** An error that is already a FHIR answer. `extra` adds top-level members the contract asks for (e.g. `fileCode`). */
export class OutcomeError extends Error {
  readonly status: number;
  constructor(
    readonly outcome: OperationOutcome,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(outcome.issue[0]?.diagnostics ?? 'error');
    this.status = statusOf(outcome);
  }
}

export const invalidValue = (field: string, text: string) =>
  new OutcomeError(outcome('value', text, { spineCode: 'INVALID_VALUE', field }));
export const missingValue = (field: string, text = `${field} is required`) =>
  new OutcomeError(outcome('required', text, { spineCode: 'MISSING_VALUE', field }));
export const invalidSearch = (field: string, text: string) =>
  new OutcomeError(outcome('invalid', text, { spineCode: 'INVALID_SEARCH_DATA', field }));
export const preconditionFailed = (field: string, text: string) =>
  new OutcomeError(outcome('required', text, { spineCode: 'PRECONDITION_FAILED', field }));
/** A request header that is present but not acceptable (NHS: 400 invalid PRECONDITION_FAILED). */
export const invalidHeader = (field: string, text: string) =>
  new OutcomeError(outcome('invalid', text, { spineCode: 'PRECONDITION_FAILED', field }));
export const unauthenticated = (text = 'a valid bearer token is required') =>
  new OutcomeError(outcome('login', text, { spineCode: 'ACCESS_DENIED' }));
export const forbidden = (text: string) =>
  new OutcomeError(outcome('forbidden', text, { spineCode: 'ACCESS_DENIED' }));
export const notFound = (text: string) => new OutcomeError(outcome('not-found', text));
export const conflict = (text: string, field?: string) =>
  new OutcomeError(outcome('conflict', text, field ? { field } : {}));
export const unavailable = (text: string) => new OutcomeError(outcome('transient', text));
