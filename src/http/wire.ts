/** Mapping domain objects to the JSON the contract shows. */
import type { RegisteredPerson } from '../demographics/register.ts';
import type { LocalAuthority, OrganisationRecord } from '../directory/directory.ts';
import type { OrganisationInput } from '../directory/types.ts';

export function personWire(p: RegisteredPerson) {
  return {
    nhsNumber: p.nhsNumber,
    familyName: p.familyName,
    givenNames: p.givenNames,
    birthDate: p.birthDate,
    gender: p.gender,
    sensitive: p.sensitive,
    deathDate: p.deathDate,
    motherNhsNumber: p.motherNhsNumber,
    status: p.status,
    supersededBy: p.supersededBy,
    postcode: p.postcode,
  };
}

export function organisationWire(o: OrganisationRecord | OrganisationInput) {
  return {
    odsCode: o.odsCode,
    name: o.name,
    setting: o.setting,
    parentOdsCode: o.parentOdsCode ?? null,
    town: o.town ?? null,
    phone: o.phone ?? null,
    postcode: o.postcode ?? null,
  };
}

export function localAuthorityWire(la: LocalAuthority) {
  return {
    laCode: la.laCode,
    name: la.name,
    officeHoursPhone: la.officeHoursPhone,
    emergencyDutyPhone: la.emergencyDutyPhone,
    notificationCadence: la.notificationCadence,
    episodeGapHours: la.episodeGapHours,
    patternThresholds: la.patternThresholds,
    webhook: la.webhookUrl ? { url: la.webhookUrl, secretSet: true } : null,
  };
}
