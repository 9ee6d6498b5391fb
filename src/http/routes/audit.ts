/**
 * The audit trail for administrators: verify the hash chain, and export entries as FHIR
 * AuditEvents (NDJSON, BALP shapes). Both are themselves recorded in the trail.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { exportAuditNdjson, FHIR_NDJSON } from '../../audit/export.ts';
import { auditTrailAccess, verifyAuditChain } from '../../audit/verify.ts';
import { invalidValue } from '../../domain/outcomes.ts';
import { principalOf } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';

const ADMIN = { allow: ['admin'] as const };
const INSTANT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

function instant(field: string, raw: string | undefined): Date | null {
  if (raw === undefined || raw === '') return null;
  const t = Date.parse(raw);
  if (!INSTANT_RE.test(raw) || Number.isNaN(t)) {
    throw invalidValue(field, `${field} must be an ISO 8601 instant with a zone, e.g. 2026-11-20T00:00:00Z`);
  }
  return new Date(t);
}

const ExportQuery = Type.Object(
  { since: Type.Optional(Type.String()), until: Type.Optional(Type.String()) },
  { additionalProperties: false },
);

export function auditRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/admin/v1/audit/verify', { config: ADMIN }, async (req) => {
    const result = await verifyAuditChain(deps.db);
    await auditTrailAccess(deps.db, deps.clock, principalOf(req), 'audit.verify', {
      ok: result.ok,
      ...(result.ok
        ? { entries: result.entries, headSeq: result.headSeq, headHash: result.headHash }
        : { seq: result.seq, problem: result.problem }),
    });
    return result;
  });

  app.get<{ Querystring: { since?: string; until?: string } }>(
    '/admin/v1/audit/export',
    { config: ADMIN, schema: { querystring: ExportQuery } },
    async (req, reply) => {
      const since = instant('since', req.query.since);
      const until = instant('until', req.query.until);
      if (since && until && since >= until) throw invalidValue('until', 'until must be after since');
      await auditTrailAccess(deps.db, deps.clock, principalOf(req), 'audit.export', {
        since: since?.toISOString() ?? null,
        until: until?.toISOString() ?? null,
      });
      const site = `${req.protocol}://${req.host}`;
      return reply.type(FHIR_NDJSON).send(Readable.from(exportAuditNdjson(deps.db, { since, until }, site)));
    },
  );
}
