import { describe, expect, it } from 'vitest';
import type { HealthSystem, HealthUser } from '../auth/principal.ts';
import { OutcomeError } from '../domain/outcomes.ts';
import {
  decideMode,
  headerText,
  readCaller,
  readUnscheduled,
  requirePatientIdentifier,
  requireRequestId,
  wantsAgentIncludes,
} from './request.ts';

const user = (activities: string[]): HealthUser => ({
  kind: 'health-user',
  sdsUserId: '555000000101',
  name: 'Dr Priya Shah',
  roleProfileId: '123456789012',
  jobRole: { code: 'R8000', display: 'Clinical Practitioner Access Role' },
  orgCode: 'R1H12',
  activities,
});

const system = (rp: HealthSystem['responsiblePerson']): HealthSystem => ({
  kind: 'health-system',
  clientId: 'asid:200000001234',
  asid: '200000001234',
  orgCode: 'RJE01',
  responsiblePerson: rp,
  activities: ['B0107'],
});

function refusal(fn: () => unknown): { status: number; code?: string; field?: string; text: string } {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof OutcomeError)) throw err;
    const issue = err.outcome.issue[0]!;
    return {
      status: err.status,
      code: issue.details?.coding?.[0]?.code,
      field: issue.expression?.[0],
      text: issue.diagnostics ?? '',
    };
  }
  throw new Error('expected a refusal');
}

describe('the patient:identifier search parameter', () => {
  const sys = 'https://fhir.nhs.uk/Id/nhs-number';

  it('takes one NHS number with the NHS number system, spaces allowed', () => {
    expect(requirePatientIdentifier({ 'patient:identifier': `${sys}|9990000018` })).toBe('9990000018');
    expect(requirePatientIdentifier({ 'patient:identifier': `${sys}|999 000 0018` })).toBe('9990000018');
  });

  it.each([
    ['missing', {}, /is required/],
    ['the plain patient parameter', { patient: '9990000018' }, /plain "patient" parameter is not supported/],
    ['given twice', { 'patient:identifier': [`${sys}|9990000018`, `${sys}|9990000026`] }, /given once/],
    ['without a system', { 'patient:identifier': '9990000018' }, /must name the NHS number system/],
    ['with another system', { 'patient:identifier': 'https://example.org/id|9990000018' }, /system must be/],
    ['with an empty system', { 'patient:identifier': '|9990000018' }, /an empty system/],
    ['with an empty number', { 'patient:identifier': `${sys}|` }, /NHS number is missing/],
    ['with a list', { 'patient:identifier': `${sys}|9990000018,${sys}|9990000026` }, /not a list/],
    ['with a bad check digit', { 'patient:identifier': `${sys}|9990000019` }, /Modulus 11/],
    ['with a check digit of ten', { 'patient:identifier': `${sys}|9990000140` }, /check digit would be 10/],
    ['with letters', { 'patient:identifier': `${sys}|99900A0018` }, /only digits/],
    ['too short', { 'patient:identifier': `${sys}|999000001` }, /10 digits/],
  ])('is refused %s: 400 INVALID_SEARCH_DATA saying why', (_name, query, why) => {
    const r = refusal(() => requirePatientIdentifier(query));
    expect(r).toMatchObject({ status: 400, code: 'INVALID_SEARCH_DATA', field: 'patient:identifier' });
    expect(r.text).toMatch(why);
  });
});

describe('headers', () => {
  it('X-Request-ID must be a UUID', () => {
    expect(requireRequestId({ 'x-request-id': '6EDE3B9D-A81B-4C75-9D77-E1D64D85C323' })).toBe(
      '6ede3b9d-a81b-4c75-9d77-e1d64d85c323',
    );
    expect(refusal(() => requireRequestId({}))).toMatchObject({
      status: 400,
      code: 'PRECONDITION_FAILED',
      field: 'X-Request-ID',
    });
    expect(refusal(() => requireRequestId({ 'x-request-id': 'abc' }))).toMatchObject({
      status: 400,
      code: 'PRECONDITION_FAILED',
    });
  });

  it('IsUnscheduledAccessEvent is true when absent, and only true or false', () => {
    expect(readUnscheduled({})).toBe(true);
    expect(readUnscheduled({ isunscheduledaccessevent: 'TRUE' })).toBe(true);
    expect(readUnscheduled({ isunscheduledaccessevent: 'false' })).toBe(false);
    expect(refusal(() => readUnscheduled({ isunscheduledaccessevent: 'no' }))).toMatchObject({
      status: 400,
      code: 'PRECONDITION_FAILED',
      field: 'IsUnscheduledAccessEvent',
    });
  });

  it('reads UTF-8 sent raw or percent-encoded', () => {
    expect(headerText({ 'nhsd-safeguarding-lead': 'Si%C3%A2n Jones' }, 'NHSD-Safeguarding-Lead')).toBe(
      'Siân Jones',
    );
    const raw = Buffer.from('Siân Jones', 'utf8').toString('latin1');
    expect(headerText({ 'nhsd-safeguarding-lead': raw }, 'NHSD-Safeguarding-Lead')).toBe('Siân Jones');
  });

  it('asks for agents to be included only with _include=AuditEvent:…', () => {
    expect(wantsAgentIncludes({})).toBe(false);
    expect(wantsAgentIncludes({ _include: 'AuditEvent:agent' })).toBe(true);
    expect(
      wantsAgentIncludes({
        _include: 'AuditEvent:entity-type=http://terminology.hl7.org/CodeSystem/v3-RoleClass|ASSIGNED',
      }),
    ).toBe(true);
  });
});

describe('RBAC', () => {
  it('B0107 is unscheduled unless the caller asks for a silent read', () => {
    expect(decideMode(user(['B0107']), true)).toEqual({ mode: 'unscheduled', activity: 'B0107' });
    expect(decideMode(user(['B0107']), false)).toEqual({ mode: 'silent', activity: 'B0107' });
    expect(decideMode(user(['B0107', 'B0170']), true)).toEqual({ mode: 'unscheduled', activity: 'B0107' });
  });

  it('B0170 alone is always silent', () => {
    expect(decideMode(user(['B0170']), true)).toEqual({ mode: 'silent', activity: 'B0170' });
    expect(decideMode(user(['B0170']), false)).toEqual({ mode: 'silent', activity: 'B0170' });
  });

  it('neither is refused: 403 ACCESS_DENIED', () => {
    expect(refusal(() => decideMode(user(['B0360']), true))).toMatchObject({
      status: 403,
      code: 'ACCESS_DENIED',
    });
    expect(refusal(() => decideMode(user([]), false))).toMatchObject({ status: 403, code: 'ACCESS_DENIED' });
  });
});

describe('the caller', () => {
  const rp = { name: 'Sam Reed', jobRole: { code: 'R8003', display: 'Health Professional Access Role' } };

  it('a user is their own responsible person and may not name another', () => {
    const c = readCaller(user(['B0107']), {});
    expect(c.accessor).toMatchObject({
      kind: 'health-user',
      personKey: 'user:555000000101',
      name: 'Dr Priya Shah',
    });
    expect(
      refusal(() => readCaller(user(['B0107']), { 'nhsd-responsible-person': 'Someone Else' })),
    ).toMatchObject({
      status: 400,
      field: 'NHSD-Responsible-Person',
    });
  });

  it("a system's responsible person comes from its token, or from the headers, which win", () => {
    expect(readCaller(system(rp), {}).accessor).toMatchObject({
      kind: 'health-system',
      name: 'Sam Reed',
      personKey: 'system:200000001234:sam reed',
      asid: '200000001234',
    });
    const over = readCaller(system(rp), {
      'nhsd-responsible-person': 'Alex Khan',
      'nhsd-responsible-person-role': 'R8001|Nurse Access Role',
    });
    expect(over.accessor).toMatchObject({
      name: 'Alex Khan',
      jobRole: { code: 'R8001', display: 'Nurse Access Role' },
    });
    expect(over.responsiblePersonFrom).toBe('header');
  });

  it('a system must name someone, with a role', () => {
    expect(refusal(() => readCaller(system(null), {}))).toMatchObject({
      status: 400,
      code: 'PRECONDITION_FAILED',
      field: 'NHSD-Responsible-Person',
    });
    expect(refusal(() => readCaller(system(null), { 'nhsd-responsible-person': 'Alex Khan' }))).toMatchObject(
      {
        field: 'NHSD-Responsible-Person-Role',
      },
    );
    expect(
      refusal(() =>
        readCaller(system(null), {
          'nhsd-responsible-person': 'Alex Khan',
          'nhsd-responsible-person-role': 'x y|z',
        }),
      ),
    ).toMatchObject({ field: 'NHSD-Responsible-Person-Role' });
  });

  it('takes the patient location and the safeguarding lead, checking each', () => {
    const c = readCaller(system(rp), {
      'nhsd-patient-location': 'rje01',
      'nhsd-safeguarding-lead': 'Jo Bloggs',
      'nhsd-safeguarding-lead-role': 'Named nurse for safeguarding',
      'nhsd-safeguarding-lead-phone': '0121 496 0999',
    });
    expect(c.patientLocation).toBe('RJE01');
    expect(c.safeguardingLead).toEqual({
      name: 'Jo Bloggs',
      role: 'Named nurse for safeguarding',
      phone: '0121 496 0999',
    });
    expect(
      refusal(() => readCaller(system(rp), { 'nhsd-patient-location': 'not an ods code' })),
    ).toMatchObject({
      status: 400,
      field: 'NHSD-Patient-Location',
    });
    expect(
      refusal(() =>
        readCaller(system(rp), { 'nhsd-safeguarding-lead': 'Jo', 'nhsd-safeguarding-lead-phone': 'call me' }),
      ),
    ).toMatchObject({ field: 'NHSD-Safeguarding-Lead-Phone' });
    expect(
      refusal(() => readCaller(system(rp), { 'nhsd-safeguarding-lead-phone': '0121 496 0999' })),
    ).toMatchObject({
      field: 'NHSD-Safeguarding-Lead',
    });
  });
});
