/** INTERFACE §3 and §4: a local authority's uploads, mailbox and data quality (LA token; the LA is the token's). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Static, Type } from 'typebox';
import { auditActor } from '../../auth/principal.ts';
import { londonDateOf } from '../../domain/dates.ts';
import { invalidValue, notFound } from '../../domain/outcomes.ts';
import { laAcknowledgeMessage, laReadMessage, listMessages, MAX_LISTING } from '../../notify/mailbox.ts';
import { dataQuality } from '../../upload/data-quality.ts';
import { fileRefusal, receiveUpload, type UploadFormat } from '../../upload/upload.ts';
import { principalOf } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';

const LA = { allow: ['local-authority'] as const };

function laOf(req: FastifyRequest) {
  const p = principalOf(req);
  if (p.kind !== 'local-authority') throw new Error('unreachable: route allows local authorities only');
  return p;
}

function formatOf(contentType: string | undefined): UploadFormat | null {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json') return 'json';
  if (type === 'text/csv') return 'csv';
  return null;
}

const MailboxQuery = Type.Object(
  { limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })) },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String() });

export function laRoutes(app: FastifyInstance, deps: HttpDeps): void {
  // Uploads read the body as a stream (files may hold the whole national cohort), so this scope
  // hands JSON and CSV bodies to the capability unparsed; authentication has already run.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    scope.post('/la/v1/uploads', { config: LA }, async (req) => {
      const la = laOf(req);
      const format = formatOf(req.headers['content-type']);
      if (!format)
        throw fileRefusal(
          'CPF01',
          415,
          'uploads must be sent as application/json or text/csv',
          'Content-Type',
        );
      const query = req.query as Record<string, string>;
      for (const k of Object.keys(query)) {
        if (k !== 'sequence' && k !== 'mode')
          throw fileRefusal('CPF01', 400, `${k} is not a parameter of an upload`, k);
      }
      const result = await receiveUpload(
        {
          db: deps.db,
          clock: deps.clock,
          demographics: deps.demographics,
          ...(deps.uploadHold ? { midFile: deps.uploadHold.reached } : {}),
        },
        {
          laCode: la.laCode,
          actor: auditActor(la),
          format,
          body: req.body as AsyncIterable<Buffer>,
          ...(query.sequence !== undefined ? { sequence: query.sequence } : {}),
          ...(query.mode !== undefined ? { mode: query.mode } : {}),
        },
      );
      return result.acknowledgement;
    });
  });

  app.get<{ Querystring: Static<typeof MailboxQuery> }>(
    '/la/v1/mailbox',
    { config: LA, schema: { querystring: MailboxQuery } },
    async (req) => {
      const limit = req.query.limit === undefined ? MAX_LISTING : Number(req.query.limit);
      if (limit < 1 || limit > MAX_LISTING)
        throw invalidValue('limit', `limit must be between 1 and ${MAX_LISTING}`);
      return { messages: await listMessages(deps.db, laOf(req).laCode, limit) };
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/la/v1/mailbox/:id',
    { config: LA, schema: { params: IdParams } },
    async (req) => {
      const la = laOf(req);
      const message = await laReadMessage(deps, la.laCode, auditActor(la), req.params.id);
      if (!message) throw notFound(`no message ${req.params.id} in this local authority's mailbox`);
      return message;
    },
  );

  app.put<{ Params: Static<typeof IdParams> }>(
    '/la/v1/mailbox/:id/acknowledged',
    { config: LA, schema: { params: IdParams } },
    async (req) => {
      const la = laOf(req);
      if (!(await laAcknowledgeMessage(deps, la.laCode, auditActor(la), req.params.id))) {
        throw notFound(`no message ${req.params.id} in this local authority's mailbox`);
      }
      return { id: req.params.id, acknowledged: true };
    },
  );

  app.get('/la/v1/data-quality', { config: LA }, async (req) =>
    dataQuality(deps.db, laOf(req).laCode, londonDateOf(deps.clock.now())),
  );
}
