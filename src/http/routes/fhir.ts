/**
 * INTERFACE §5, the health query API (FHIR R4) under /FHIR/R4: CareTeam, AuditEvent and Flag
 * searches for health users and health systems, and the public CapabilityStatement.
 *
 * Every request under /FHIR/R4 is audited. A search that is answered is audited by the query
 * capability in the same transaction as its read; anything else — refused by authentication (401),
 * by the caller's kind or activity (403), by a bad header or parameter (400), not found (404), or
 * failed — is audited by the onSend hook below before the answer leaves.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { notFound } from '../../domain/outcomes.ts';
import { isStorableText, quoted } from '../../domain/validate.ts';
import { auditEventBundle, capabilityStatement, careTeamBundle, flagBundle } from '../../query/fhir.ts';
import {
  decideMode,
  HEADERS,
  headerText,
  isHealthCaller,
  patientIdentifierIfValid,
  type QueryParams,
  readCaller,
  readUnscheduled,
  requirePatientIdentifier,
  requireRequestId,
  wantsAgentIncludes,
} from '../../query/request.ts';
import type { HttpFacts, SearchResource } from '../../query/service.ts';
import { principalOf } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';
import { FHIR_JSON } from '../errors.ts';

export const FHIR_BASE = '/FHIR/R4';
// Refusals here are audited by the onSend hook below, with the request's NHS number.
const HEALTH = { allow: ['health-user', 'health-system'] as const, auditsRefusals: true };
const PUBLIC = { allow: 'public' as const };

const VERSION = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

function httpFacts(req: FastifyRequest): HttpFacts {
  let requestId: string | null = null;
  try {
    const given = headerText(req.headers, HEADERS.requestId)?.slice(0, 100);
    // Kept as sent when the audit trail can hold it (a %00 decodes to NUL, which it cannot), else escaped.
    if (given !== undefined) requestId = isStorableText(given) ? given : quoted(given);
  } catch {
    requestId = null;
  }
  return { method: req.method, url: req.url, ip: req.ip, requestId };
}

function baseUrl(req: FastifyRequest): string {
  return `${req.protocol}://${req.host}${FHIR_BASE}`;
}

/** `CareTeam.search`, `CapabilityStatement.read`…: what a request under /FHIR/R4 was, for the audit trail. */
function actionOf(req: FastifyRequest): string {
  const path = req.url.split('?')[0]!.slice(FHIR_BASE.length).replace(/^\/+/, '');
  const first = path.split('/')[0] ?? '';
  if (first === 'metadata') return 'CapabilityStatement.read';
  if (first === '') return 'base.request';
  const name = /^[A-Za-z]{1,40}$/.test(first) ? first : 'unknown';
  return path.includes('/') ? `${name}.request` : `${name}.search`;
}

function refusalOf(payload: unknown): { code: string | null; message: string | null } {
  if (typeof payload !== 'string') return { code: null, message: null };
  try {
    const body = JSON.parse(payload) as {
      issue?: { diagnostics?: string; details?: { coding?: { code?: string }[] } }[];
    };
    const issue = body.issue?.[0];
    return { code: issue?.details?.coding?.[0]?.code ?? null, message: issue?.diagnostics ?? null };
  } catch {
    return { code: null, message: null };
  }
}

export function fhirRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const started = new Date().toISOString();

  app.register(
    async (fhir) => {
      // Requests the query capability has audited with their read; every other one is audited here.
      const audited = new WeakSet<FastifyRequest>();

      fhir.addHook('onSend', async (req, reply, payload) => {
        if (audited.has(req)) return payload;
        audited.add(req);
        const status = reply.statusCode;
        const { code, message } = status >= 400 ? refusalOf(payload) : { code: null, message: null };
        try {
          await deps.query.record({
            action: actionOf(req),
            principal: req.principal,
            status,
            code,
            message,
            nhsNumber: patientIdentifierIfValid(req.query as QueryParams),
            http: httpFacts(req),
          });
        } catch (err) {
          req.log.error({ err }, 'could not audit a FHIR request');
          if (status < 400) throw err;
        }
        return payload;
      });

      fhir.setNotFoundHandler(async (req) => {
        throw notFound(
          `no such FHIR interaction: ${req.method} ${req.url.split('?')[0]}; this server supports ` +
            `GET ${FHIR_BASE}/CareTeam, ${FHIR_BASE}/AuditEvent and ${FHIR_BASE}/Flag searches and ${FHIR_BASE}/metadata`,
        );
      });

      fhir.get('/metadata', { config: PUBLIC }, async (req, reply) =>
        reply.type(FHIR_JSON).send(capabilityStatement(VERSION, started, baseUrl(req))),
      );

      const search = (resource: SearchResource) => async (req: FastifyRequest, reply: FastifyReply) => {
        const principal = principalOf(req);
        if (!isHealthCaller(principal)) throw new Error('route allows health callers only');
        // The order of checks is the contract's: token (already), X-Request-ID, activity, then the rest.
        requireRequestId(req.headers);
        const unscheduled = readUnscheduled(req.headers);
        const decision = decideMode(principal, unscheduled);
        const caller = readCaller(principal, req.headers);
        const query = req.query as QueryParams;
        const nhsNumber = requirePatientIdentifier(query);
        const http = httpFacts(req);
        const selfUrl = `${req.protocol}://${req.host}${req.url}`;
        if (resource === 'AuditEvent') {
          const result = await deps.query.search({ resource, nhsNumber, decision, caller, http });
          audited.add(req);
          return reply.type(FHIR_JSON).send(auditEventBundle(result, selfUrl, wantsAgentIncludes(query)));
        }
        const result = await deps.query.search({ resource, nhsNumber, decision, caller, http });
        audited.add(req);
        const bundle =
          resource === 'Flag'
            ? flagBundle(result, selfUrl, result.today)
            : careTeamBundle(result, selfUrl, result.today);
        return reply.type(FHIR_JSON).send(bundle);
      };

      fhir.get('/CareTeam', { config: HEALTH }, search('CareTeam'));
      fhir.get('/AuditEvent', { config: HEALTH }, search('AuditEvent'));
      fhir.get('/Flag', { config: HEALTH }, search('Flag'));
    },
    { prefix: FHIR_BASE },
  );
}
