/** The organisation directory (an ODS stand-in): organisations health users work in, and local authorities. */
import type { PatternThresholds } from '../domain/patterns.ts';

export const SETTINGS = [
  'emergency-department',
  'urgent-treatment-centre',
  'walk-in-centre',
  'minor-injuries-unit',
  'out-of-hours-gp',
  'nhs-111',
  'ambulance-service',
  'maternity-unit',
  'paediatric-ward',
  'gp-practice',
  'trust',
  'other',
] as const;
export type Setting = (typeof SETTINGS)[number];

/** Human-readable names of settings, for messages and the demo. */
export const SETTING_LABELS: Record<Setting, string> = {
  'emergency-department': 'Emergency department',
  'urgent-treatment-centre': 'Urgent treatment centre',
  'walk-in-centre': 'Walk-in centre',
  'minor-injuries-unit': 'Minor injuries unit',
  'out-of-hours-gp': 'Out-of-hours GP',
  'nhs-111': 'NHS 111',
  'ambulance-service': 'Ambulance service',
  'maternity-unit': 'Maternity unit',
  'paediatric-ward': 'Paediatric ward',
  'gp-practice': 'GP practice',
  trust: 'NHS trust',
  other: 'Other',
};

export interface OrganisationInput {
  odsCode: string;
  name: string;
  setting: Setting;
  parentOdsCode?: string | null;
  town?: string | null;
  phone?: string | null;
  postcode?: string | null;
}

export interface Organisation extends Required<OrganisationInput> {
  updatedAt: Date;
}

export type NotificationCadence = 'daily' | 'immediate';

export interface LocalAuthorityInput {
  laCode: string;
  name: string;
  officeHoursPhone: string;
  emergencyDutyPhone: string;
  notificationCadence?: NotificationCadence;
  /** Accesses to one child with less than this many hours between them form one episode (default 12). */
  episodeGapHours?: number;
  /** Push messages to this URL as well as the mailbox, signed with HMAC-SHA256 using the secret. */
  webhook?: { url: string; secret: string } | null;
  /** When a child's history is flagged as a pattern of concern (null or absent: the defaults). */
  patternThresholds?: PatternThresholds | null;
}

/** ODS organisation codes: 3 to 10 upper-case letters and digits (trusts "RJ1", sites "RJ122", practices "A81001", LAs "E09000030"). */
export const ODS_CODE_RE = /^[A-Z0-9]{3,10}$/;
