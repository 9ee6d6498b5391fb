/**
 * The audit trail for administrators: verify the hash chain (and the log against its published
 * checkpoints), export entries as FHIR AuditEvents (NDJSON, BALP shapes), and the signed
 * checkpoints with the Merkle proofs that let a monitor check them (src/audit/checkpoint.ts). All
 * are themselves recorded in the trail.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import {
  AuditLogTamperedError,
  type CheckpointSigner,
  proveConsistency,
  proveInclusion,
  publishCheckpoint,
} from '../../audit/checkpoint.ts';
import { exportAuditNdjson, FHIR_NDJSON } from '../../audit/export.ts';
import { auditTrailAccess, verifyAuditChain } from '../../audit/verify.ts';
import { conflict, invalidValue, unavailable } from '../../domain/outcomes.ts';
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

const Hex = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Checkpoint = Type.Object({
  origin: Type.String(),
  treeSize: Type.Integer({ minimum: 0, description: 'entries 1 to treeSize are covered' }),
  rootHash: Type.String({ ...Hex, description: 'RFC 6962 Merkle root of those entries' }),
  timestamp: Type.String({ format: 'date-time' }),
  keyId: Type.String({ description: "SHA-256 of the signing key's SubjectPublicKeyInfo" }),
  signature: Type.String({
    description: 'Ed25519 over "origin\\ntreeSize\\nrootHash\\ntimestamp\\n", base64',
  }),
});
const PublicKey = Type.Object({
  keyId: Type.String(),
  algorithm: Type.Literal('Ed25519'),
  jwk: Type.Object({ kty: Type.String(), crv: Type.String(), x: Type.String() }),
  pem: Type.String(),
});
const InclusionQuery = Type.Object(
  {
    seq: Type.String({ description: 'the entry to prove' }),
    treeSize: Type.String({ description: 'the size of the tree (a checkpoint) to prove it in' }),
  },
  { additionalProperties: false },
);
const InclusionProof = Type.Object({
  seq: Type.Integer(),
  treeSize: Type.Integer(),
  leafIndex: Type.Integer({ description: 'seq - 1' }),
  entryHash: Hex,
  proof: Type.Array(Hex, { description: 'RFC 6962 audit path, bottom up' }),
});
const ConsistencyQuery = Type.Object(
  {
    from: Type.String({ description: 'the older tree size (a saved checkpoint)' }),
    to: Type.String({ description: 'the newer tree size' }),
  },
  { additionalProperties: false },
);
const ConsistencyProof = Type.Object({
  from: Type.Integer(),
  to: Type.Integer(),
  proof: Type.Array(Hex, { description: 'RFC 6962 consistency proof' }),
});

function wholeNumber(field: string, raw: string, min: number): number {
  if (!/^\d{1,15}$/.test(raw) || Number(raw) < min) {
    throw invalidValue(field, `${field} must be a whole number${min > 0 ? ` of at least ${min}` : ''}`);
  }
  return Number(raw);
}

/** A log that no longer matches its checkpoints is a conflict to report, not a server fault. */
async function unlessTampered<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AuditLogTamperedError)
      throw conflict(`the audit log has been tampered with: ${err.message}`);
    throw err;
  }
}

export function auditRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const signer = (): CheckpointSigner => {
    if (!deps.checkpointSigner) {
      throw unavailable('audit checkpoints are not published: no signing key (set CPIS_CHECKPOINT_KEY_FILE)');
    }
    return deps.checkpointSigner;
  };

  app.get('/admin/v1/audit/verify', { config: ADMIN }, async (req) => {
    const result = await verifyAuditChain(deps.db, {
      checkpointKey: deps.checkpointSigner?.publicKey ?? null,
    });
    await auditTrailAccess(deps.db, deps.clock, principalOf(req), 'audit.verify', {
      ok: result.ok,
      ...(result.ok
        ? { entries: result.entries, headSeq: result.headSeq, headHash: result.headHash }
        : { seq: result.seq, problem: result.problem }),
    });
    return result;
  });

  app.get(
    '/admin/v1/audit/checkpoint',
    {
      config: ADMIN,
      schema: {
        description: 'the latest signed checkpoint, published now if the log has grown since the last one',
        response: { 200: Checkpoint },
      },
    },
    async (req) => {
      const { checkpoint, published } = await unlessTampered(() =>
        publishCheckpoint(deps.db, signer(), deps.clock.now()),
      );
      await auditTrailAccess(deps.db, deps.clock, principalOf(req), 'audit.checkpoint', {
        treeSize: checkpoint.treeSize,
        rootHash: checkpoint.rootHash,
        published,
      });
      return checkpoint;
    },
  );

  app.get(
    '/admin/v1/audit/checkpoint/public-key',
    {
      config: ADMIN,
      schema: { description: 'the Ed25519 key checkpoints are signed with', response: { 200: PublicKey } },
    },
    async (req) => {
      const info = signer().publicKeyInfo();
      await auditTrailAccess(deps.db, deps.clock, principalOf(req), 'audit.checkpoint', {
        publicKey: info.keyId,
      });
      return info;
    },
  );

  app.get<{ Querystring: { seq: string; treeSize: string } }>(
    '/admin/v1/audit/proof/inclusion',
    {
      config: ADMIN,
      schema: {
        description: 'the Merkle audit path of one entry in the tree of the first treeSize entries',
        querystring: InclusionQuery,
        response: { 200: InclusionProof },
      },
    },
    async (req) => {
      const seq = wholeNumber('seq', req.query.seq, 1);
      const treeSize = wholeNumber('treeSize', req.query.treeSize, 1);
      const proof = await unlessTampered(() => proveInclusion(deps.db, seq, treeSize));
      await auditTrailAccess(deps.db, deps.clock, principalOf(req), 'audit.proof', {
        kind: 'inclusion',
        seq,
        treeSize,
      });
      return proof;
    },
  );

  app.get<{ Querystring: { from: string; to: string } }>(
    '/admin/v1/audit/proof/consistency',
    {
      config: ADMIN,
      schema: {
        description:
          'the Merkle proof that the tree of the first `from` entries is a prefix of the first `to`',
        querystring: ConsistencyQuery,
        response: { 200: ConsistencyProof },
      },
    },
    async (req) => {
      const from = wholeNumber('from', req.query.from, 0);
      const to = wholeNumber('to', req.query.to, 0);
      const proof = await unlessTampered(() => proveConsistency(deps.db, from, to));
      await auditTrailAccess(deps.db, deps.clock, principalOf(req), 'audit.proof', {
        kind: 'consistency',
        from,
        to,
      });
      return proof;
    },
  );

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
