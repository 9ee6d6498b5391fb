/**
 * Reading a demo persona (POST /dev/token) with errors that name the field. Organisation and LA
 * codes need not be in the directory: real tokens carry codes the directory may not know yet.
 */
import { invalidValue, missingValue } from '../domain/outcomes.ts';
import type { Persona } from './claims.ts';
import type { JobRole } from './principal.ts';

type Obj = Record<string, unknown>;

function obj(field: string, v: unknown): Obj {
  if (v === undefined || v === null) throw missingValue(field);
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidValue(field, `${field} must be an object`);
  return v as Obj;
}

function str(field: string, v: unknown, re?: RegExp, hint?: string): string {
  if (v === undefined || v === null || v === '') throw missingValue(field);
  if (typeof v !== 'string') throw invalidValue(field, `${field} must be a string`);
  if (re && !re.test(v)) throw invalidValue(field, `${field} ${hint ?? 'is not valid'}`);
  return v;
}

function onlyKeys(field: string, o: Obj, allowed: string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k))
      throw invalidValue(
        field ? `${field}.${k}` : k,
        `${field ? `${field}.` : ''}${k} is not a recognised field`,
      );
  }
}

const CODE = /^[A-Za-z0-9]{3,10}$/;
const ACTIVITY = /^[A-Z][0-9]{4}$/;

function jobRole(field: string, v: unknown): JobRole {
  const o = obj(field, v);
  onlyKeys(field, o, ['code', 'display']);
  return { code: str(`${field}.code`, o.code), display: str(`${field}.display`, o.display) };
}

function activities(v: unknown): string[] {
  if (v === undefined)
    throw missingValue('activities', 'activities must list RBAC activity codes (it may be empty)');
  if (!Array.isArray(v))
    throw invalidValue('activities', 'activities must be an array of RBAC activity codes');
  return v.map((a, i) => str(`activities[${i}]`, a, ACTIVITY, 'must be an RBAC activity code like B0107'));
}

export function parsePersona(body: unknown): Persona {
  const o = obj('body', body);
  const kind = str('kind', o.kind);
  switch (kind) {
    case 'health-user': {
      onlyKeys('', o, ['kind', 'sdsUserId', 'name', 'jobRole', 'organisation', 'activities']);
      const org = obj('organisation', o.organisation);
      onlyKeys('organisation', org, ['odsCode']);
      return {
        kind,
        sdsUserId: str(
          'sdsUserId',
          o.sdsUserId,
          /^[0-9A-Za-z-]{1,40}$/,
          'must be an SDS user id (letters, digits)',
        ),
        name: str('name', o.name),
        jobRole: jobRole('jobRole', o.jobRole),
        organisation: {
          odsCode: str('organisation.odsCode', org.odsCode, CODE, 'must be an ODS code').toUpperCase(),
        },
        activities: activities(o.activities),
      };
    }
    case 'health-system': {
      onlyKeys('', o, ['kind', 'asid', 'organisation', 'responsiblePerson', 'activities']);
      const org = obj('organisation', o.organisation);
      onlyKeys('organisation', org, ['odsCode']);
      let responsiblePerson: { name: string; jobRole: JobRole } | undefined;
      if (o.responsiblePerson !== undefined) {
        const rp = obj('responsiblePerson', o.responsiblePerson);
        onlyKeys('responsiblePerson', rp, ['name', 'jobRole']);
        responsiblePerson = {
          name: str('responsiblePerson.name', rp.name),
          jobRole: jobRole('responsiblePerson.jobRole', rp.jobRole),
        };
      }
      return {
        kind,
        asid: str('asid', o.asid, /^[0-9]{1,20}$/, 'must be a Spine ASID (digits)'),
        organisation: {
          odsCode: str('organisation.odsCode', org.odsCode, CODE, 'must be an ODS code').toUpperCase(),
        },
        ...(responsiblePerson ? { responsiblePerson } : {}),
        activities: activities(o.activities),
      };
    }
    case 'local-authority':
      onlyKeys('', o, ['kind', 'laCode']);
      return { kind, laCode: str('laCode', o.laCode, CODE, 'must be an LA organisation code').toUpperCase() };
    case 'admin':
      onlyKeys('', o, ['kind']);
      return { kind };
    default:
      throw invalidValue('kind', 'kind must be health-user, health-system, local-authority or admin');
  }
}
