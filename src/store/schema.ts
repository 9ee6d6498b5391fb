/**
 * Row types of every table, as the database returns them (snake_case; date columns as 'YYYY-MM-DD'
 * strings and int8 as numbers on both engines — see `openStore`). Capability modules map rows to
 * domain objects; nothing outside src/store depends on column names except through these types.
 */
import type { Generated } from 'kysely';

/** timestamptz: a Date on both engines. */
type Timestamp = Date;

export interface PersonTable {
  nhs_number: string;
  family_name: string;
  given_names: string[];
  birth_date: string;
  gender: string;
  sensitive: boolean;
  death_date: string | null;
  mother_nhs_number: string | null;
  /** The home address's postcode (migration 0006); never shown for a sensitive record. */
  postcode: string | null;
  status: 'active' | 'superseded' | 'invalidated';
  superseded_by: string | null;
  inactive_since: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface OrganisationTable {
  ods_code: string;
  name: string;
  setting: string;
  parent_ods_code: string | null;
  town: string | null;
  phone: string | null;
  postcode: string | null;
  updated_at: Timestamp;
}

export interface LocalAuthorityTable {
  la_code: string;
  name: string;
  office_hours_phone: string;
  emergency_duty_phone: string;
  notification_cadence: 'daily' | 'immediate';
  updated_at: Timestamp;
  episode_gap_hours: Generated<number>;
  webhook_url: string | null;
  webhook_secret: string | null;
  /** PatternThresholds as JSON, or null for the defaults. */
  pattern_thresholds: unknown;
  /** LaRouting as JSON (migration 0007), or null for the defaults. */
  routing: unknown;
}

export interface ServiceStateTable {
  key: string;
  value: unknown;
  updated_at: Timestamp;
}

export interface WebSessionTable {
  id_hash: string;
  data: unknown;
  user_key: string | null;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  expires_at: Timestamp;
}

export interface AuditLogTable {
  seq: number;
  recorded_at: Timestamp;
  category: string;
  action: string;
  outcome: string;
  actor: unknown;
  nhs_number: string | null;
  detail: unknown;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadTable {
  id: number;
  seq: number;
  hash: string;
}

export interface AuditCheckpointTable {
  tree_size: number;
  root_hash: string;
  published_at: Timestamp;
  key_id: string;
  signature: string;
  /** The tree's right edge: its perfect subtrees' hashes (hex), largest first. */
  frontier: unknown;
}

export interface AuditMerkleNodeTable {
  level: number;
  idx: number;
  hash: string;
}

export interface LaRecordTable {
  la_code: string;
  nhs_number: string;
  subject: 'child' | 'unborn';
  local_id: string | null;
  /** The LA's own team for the child (migration 0007); LA-private. */
  team: string | null;
  family_name: string;
  given_names: string[];
  birth_date: string;
  expected_delivery_date: string | null;
  upload_id: number;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** A file being staged (migration 0010): for the sweep of files whose process died. */
export interface UploadStagingTable {
  id: string;
  la_code: string;
  created_at: Timestamp;
}

/** One staged decision about one record of a file (migration 0010, src/upload/upload.ts). */
export interface UploadStageTable {
  stage_id: string;
  idx: number;
  op: 'put' | 'remove' | 'reject' | 'named';
  nhs_number: string;
  clears: boolean;
  subject: string | null;
  local_id: string | null;
  team: string | null;
  family_name: string | null;
  given_names: string[] | null;
  birth_date: string | null;
  expected_delivery_date: string | null;
  /** put: [{plan_type, start_date, end_date, visible_until, delete_date}] */
  plans: unknown;
  code: string | null;
  detail: string | null;
  field: string | null;
  message: string | null;
  replacement_nhs_number: string | null;
}

export interface LaPlanTable {
  la_code: string;
  nhs_number: string;
  plan_type: 'CPP' | 'LAC' | 'UCPP';
  start_date: string;
  end_date: string | null;
  visible_until: string | null;
  delete_date: string | null;
}

export interface UploadTable {
  id: Generated<number>;
  la_code: string;
  sequence: number;
  body_sha256: string;
  mode: 'delta' | 'snapshot';
  received_at: Timestamp;
  file_code: string;
  received: number;
  accepted: number;
  rejected: number;
  acknowledgement: unknown;
}

export interface RecordRejectionTable {
  la_code: string;
  nhs_number: string;
  local_id: string | null;
  code: string;
  detail: string | null;
  field: string | null;
  message: string;
  replacement_nhs_number: string | null;
  upload_id: number;
  sequence: number;
  rejected_at: Timestamp;
}

export interface MailboxMessageTable {
  id: string;
  seq: Generated<number>;
  la_code: string;
  type: 'upload-acknowledgement' | 'access-notification' | 'inactive-nhs-number' | 'birth';
  created_at: Timestamp;
  body: unknown;
  acknowledged_at: Timestamp | null;
}

export interface NotificationBatchTable {
  la_code: string;
  batch_date: string;
  message_id: string;
  created_at: Timestamp;
}

export interface WebhookDeliveryTable {
  message_id: string;
  la_code: string;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  delivered_at: Timestamp | null;
  given_up_at: Timestamp | null;
  last_status: number | null;
  last_error: string | null;
  created_at: Timestamp;
}

export interface AccessEventTable {
  id: string;
  nhs_number: string;
  queried_nhs_number: string;
  accessed_at: Timestamp;
  resource: 'CareTeam' | 'Flag';
  request_id: string;
  person_key: string;
  accessor_kind: 'health-user' | 'health-system';
  accessor_name: string;
  job_role_code: string;
  job_role_display: string;
  user_id: string | null;
  role_profile_id: string | null;
  asid: string | null;
  org_code: string;
  patient_location: string | null;
  safeguarding_lead: unknown;
  la_codes: string[];
  plan_types: string[];
}

export interface AccessNoticeTable {
  access_id: string;
  la_code: string;
  plan_types: string[];
  created_at: Timestamp;
  message_id: string | null;
  /** The LA episode this look-up belongs to (migration 0007); null until episodes are brought up to date. */
  episode_id: string | null;
}

export type EpisodeState = 'new' | 'reviewed' | 'follow-up-recorded' | 'no-action-needed';

export interface LaEpisodeTable {
  id: string;
  la_code: string;
  nhs_number: string;
  started_at: Timestamp;
  last_at: Timestamp;
  access_count: number;
  team: string;
  edt: boolean;
  out_of_hours: boolean;
  state: EpisodeState;
  state_reason: string | null;
  /** { id, name } of the worker it is assigned to, or null. */
  worker: unknown;
  /** Concern[] as of the episode's latest look-up. */
  concerns: unknown;
  version: number;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface LaEpisodeEventTable {
  episode_id: string;
  seq: number;
  at: Timestamp;
  actor: unknown;
  action: string;
  detail: unknown;
}

export interface AccessSubjectTable {
  nhs_number: string;
  /** The day the retention job first found no plan for the child (IsoDate), or null. */
  plans_gone_on: string | null;
}

export interface Database {
  person: PersonTable;
  organisation: OrganisationTable;
  local_authority: LocalAuthorityTable;
  service_state: ServiceStateTable;
  web_session: WebSessionTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
  audit_checkpoint: AuditCheckpointTable;
  audit_merkle_node: AuditMerkleNodeTable;
  access_subject: AccessSubjectTable;
  la_record: LaRecordTable;
  la_plan: LaPlanTable;
  upload: UploadTable;
  upload_staging: UploadStagingTable;
  upload_stage: UploadStageTable;
  record_rejection: RecordRejectionTable;
  mailbox_message: MailboxMessageTable;
  notification_batch: NotificationBatchTable;
  webhook_delivery: WebhookDeliveryTable;
  access_event: AccessEventTable;
  access_notice: AccessNoticeTable;
  la_episode: LaEpisodeTable;
  la_episode_event: LaEpisodeEventTable;
}
