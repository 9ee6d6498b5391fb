/**
 * The health query capability (CPIS.md §6, INTERFACE §5): search a subject's visible plans
 * (CareTeam, Flag) or its access history (AuditEvent), record unscheduled accesses with their LA
 * notices, and audit every request — answered, empty, silent or refused. All of it goes through
 * the group committer, so each answer leaves only after its read, access and audit entry have
 * committed together.
 */
import { randomUUID } from 'node:crypto';
import type { AuditEntryInput, AuditOutcome } from '../audit/log.ts';
import { auditActor, type Principal } from '../auth/principal.ts';
import type { Clock } from '../domain/clock.ts';
import type { Executor } from '../store/db.ts';
import { type AccessSummary, accessHistory } from './access.ts';
import {
  type BatchContext,
  type BatchWrites,
  type CommitterStats,
  GroupCommitter,
  type Job,
} from './batch.ts';
import type { VisiblePlan } from './lookup.ts';
import { PlanIndex, type PlanIndexStats } from './plan-index.ts';
import type { AccessMode, ModeDecision, QueryCaller } from './request.ts';

export type SearchResource = 'CareTeam' | 'Flag' | 'AuditEvent';

/** What the audit trail keeps about the HTTP exchange (enough to rebuild a BALP query record). */
export interface HttpFacts {
  method: string;
  /** The path and query string exactly as received. */
  url: string;
  /** The caller's address as the server saw it. */
  ip: string;
  requestId: string | null;
}

export interface SearchRequest {
  resource: SearchResource;
  nhsNumber: string;
  decision: ModeDecision;
  caller: QueryCaller;
  http: HttpFacts;
  /** Where the search came from when not the FHIR API (the health portal), for the audit trail. */
  channel?: 'portal';
  /** Why a person who could have notified chose a silent read (the portal asks), for the audit trail. */
  silentReason?: string;
}

export interface SubjectRef {
  queried: string;
  current: string;
}

export interface PlanSearchResult {
  resource: 'CareTeam' | 'Flag';
  at: Date;
  /** The London calendar date the answer was decided on. */
  today: string;
  subject: SubjectRef;
  plans: VisiblePlan[];
  mode: AccessMode;
  /** The access this search recorded (unscheduled, with a visible plan), else null. */
  accessId: string | null;
}

export interface HistorySearchResult {
  resource: 'AuditEvent';
  at: Date;
  subject: SubjectRef;
  accesses: AccessSummary[];
}

export type SearchResult = PlanSearchResult | HistorySearchResult;

/** A FHIR request that is not a search answered here: refused ones, and reads like /metadata. */
export interface RequestRecord {
  action: string;
  principal: Principal | null;
  status: number;
  /** The Spine error code of a refusal, if any. */
  code?: string | null;
  message?: string | null;
  nhsNumber?: string | null;
  http: HttpFacts;
  /** Anything else the entry should say (kept as given; never a token). */
  detail?: Record<string, unknown>;
}

export interface QueryServiceOptions {
  db: Executor;
  clock: Clock;
  maxBatch?: number;
  concurrency?: number;
}

export class QueryService {
  readonly #committer: GroupCommitter;
  /** Plans in memory, kept exact by the store (plan-index.ts). */
  readonly #plans: PlanIndex;

  constructor(opts: QueryServiceOptions) {
    this.#plans = new PlanIndex(opts.db);
    this.#committer = new GroupCommitter(opts.db, opts.clock, {
      maxBatch: opts.maxBatch ?? 256,
      concurrency: opts.concurrency ?? 1,
      plans: this.#plans,
    });
  }

  get planIndexStats(): PlanIndexStats {
    return this.#plans.stats;
  }

  get stats(): CommitterStats {
    return this.#committer.stats;
  }

  search(req: SearchRequest & { resource: 'CareTeam' | 'Flag' }): Promise<PlanSearchResult>;
  search(req: SearchRequest & { resource: 'AuditEvent' }): Promise<HistorySearchResult>;
  search(req: SearchRequest): Promise<SearchResult>;
  search(req: SearchRequest): Promise<SearchResult> {
    return this.#committer.submit(searchJob(req));
  }

  /** Audit a FHIR request that was refused, failed, or read something other than a subject. */
  record(rec: RequestRecord): Promise<void> {
    return this.#committer.submit(recordJob(rec));
  }

  async close(): Promise<void> {
    await this.#committer.close();
    await this.#plans.close();
  }
}

function actorOf(caller: QueryCaller): Record<string, unknown> {
  const actor = auditActor(caller.principal);
  if (caller.accessor.kind === 'health-system') {
    actor.responsiblePerson = { name: caller.accessor.name, jobRole: caller.accessor.jobRole };
    actor.responsiblePersonFrom = caller.responsiblePersonFrom;
  }
  return actor;
}

/** The search as a client normally writes it; the raw URL is kept only when it differs. */
export function canonicalSearchUrl(resource: string, nhsNumber: string): string {
  return `/FHIR/R4/${resource}?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|${nhsNumber}`;
}

function httpDetail(http: HttpFacts, status: number, canonical?: string): Record<string, unknown> {
  return {
    ...(http.method === 'GET' ? {} : { method: http.method }),
    ...(http.url === canonical ? {} : { url: http.url }),
    ip: http.ip,
    status,
  };
}

function searchJob(req: SearchRequest): Job<SearchResult> {
  return {
    numbers: [req.nhsNumber],
    async run(ctx: BatchContext, writes: BatchWrites): Promise<SearchResult> {
      const subject = ctx.subjects.get(req.nhsNumber) ?? {
        queried: req.nhsNumber,
        current: req.nhsNumber,
        plans: [],
      };
      const ref = { queried: subject.queried, current: subject.current };
      const laCodes = [...new Set(subject.plans.map((p) => p.laCode))].sort();
      const planTypes = [...new Set(subject.plans.map((p) => p.planType))];
      const detail: Record<string, unknown> = {
        resource: req.resource,
        requestId: req.http.requestId,
        mode: req.decision.mode,
        activity: req.decision.activity,
        http: httpDetail(req.http, 200, canonicalSearchUrl(req.resource, req.nhsNumber)),
        ...(subject.queried !== subject.current ? { queriedNhsNumber: subject.queried } : {}),
        ...(req.caller.patientLocation ? { patientLocation: req.caller.patientLocation } : {}),
        ...(req.caller.safeguardingLead ? { safeguardingLead: req.caller.safeguardingLead } : {}),
        ...(req.channel ? { channel: req.channel } : {}),
        ...(req.silentReason ? { silentReason: req.silentReason } : {}),
      };
      const entry: AuditEntryInput = {
        category: 'query',
        action: `${req.resource}.search`,
        outcome: 'success',
        actor: actorOf(req.caller),
        nhsNumber: subject.current,
        detail,
      };
      writes.audit.push(entry);

      if (req.resource === 'AuditEvent') {
        // The history is shown only beside a visible plan: once retention ends, health no longer
        // learns that the subject ever had one, from its history either.
        const accesses = subject.plans.length > 0 ? await accessHistory(ctx.db, subject.current) : [];
        detail.visiblePlans = subject.plans.length;
        detail.accessesShown = accesses.length;
        return { resource: 'AuditEvent', at: ctx.now, subject: ref, accesses };
      }

      let accessId: string | null = null;
      if (req.decision.mode === 'unscheduled' && subject.plans.length > 0) {
        accessId = randomUUID();
        const a = req.caller.accessor;
        writes.accesses.push({
          id: accessId,
          nhs_number: subject.current,
          queried_nhs_number: subject.queried,
          accessed_at: ctx.now,
          resource: req.resource,
          request_id: req.http.requestId ?? '',
          person_key: a.personKey,
          accessor_kind: a.kind,
          accessor_name: a.name,
          job_role_code: a.jobRole.code,
          job_role_display: a.jobRole.display,
          user_id: a.userId,
          role_profile_id: a.roleProfileId,
          asid: a.asid,
          org_code: a.orgCode,
          patient_location: req.caller.patientLocation,
          safeguarding_lead: req.caller.safeguardingLead,
          la_codes: laCodes,
          plan_types: planTypes,
        });
        for (const la of laCodes) {
          const own = [
            ...new Set(subject.plans.filter((p) => p.laCode === la).map((p) => p.planType)),
          ].sort();
          writes.notices.push({
            access_id: accessId,
            la_code: la,
            plan_types: own,
            created_at: ctx.now,
            message_id: null,
            episode_id: null,
          });
        }
      }
      detail.visiblePlans = subject.plans.length;
      detail.laCodes = laCodes;
      detail.planTypes = planTypes;
      detail.accessId = accessId;
      return {
        resource: req.resource,
        at: ctx.now,
        today: ctx.today,
        subject: ref,
        plans: subject.plans,
        mode: req.decision.mode,
        accessId,
      };
    },
  };
}

function recordJob(rec: RequestRecord): Job<void> {
  return {
    numbers: [],
    run(_ctx, writes) {
      const refused = rec.status === 401 || rec.status === 403;
      const outcome: AuditOutcome = rec.status < 400 ? 'success' : rec.status < 500 ? 'refused' : 'failure';
      writes.audit.push({
        category: refused ? 'access-denied' : 'query',
        action: rec.action,
        outcome,
        actor: auditActor(rec.principal),
        nhsNumber: rec.nhsNumber ?? null,
        detail: {
          requestId: rec.http.requestId,
          http: httpDetail(rec.http, rec.status),
          ...(rec.code ? { code: rec.code } : {}),
          ...(rec.message ? { message: rec.message.slice(0, 500) } : {}),
          ...rec.detail,
        },
      });
    },
  };
}
