/** INTERFACE §3 and §4: a local authority's uploads, mailbox and data quality (LA token; the LA is the token's). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Static, Type } from 'typebox';
import { auditActor } from '../../auth/principal.ts';
import { londonDateOf } from '../../domain/dates.ts';
import { conflict, invalidValue, notFound } from '../../domain/outcomes.ts';
import { isStorableText, memberPath, STORABLE_PATTERN } from '../../domain/validate.ts';
import {
  changeEpisode,
  type EpisodeChange,
  type EpisodeDetail,
  type EpisodeSummary,
  type InboxViewer,
  listEpisodes,
  readEpisode,
  readFilters,
} from '../../inbox/inbox.ts';
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

/** The LA's own case system, working the same inbox as its staff do in the portal. */
function systemViewer(req: FastifyRequest): InboxViewer {
  const la = laOf(req);
  return {
    laCode: la.laCode,
    role: 'system',
    team: null,
    userId: null,
    name: `${la.laCode} case management system`,
    actor: auditActor(la),
  };
}

const EpisodeBody = Type.Object(
  {
    version: Type.Integer(),
    state: Type.Optional(Type.String({ maxLength: 100, pattern: STORABLE_PATTERN })),
    reason: Type.Optional(Type.String({ maxLength: 2000, pattern: STORABLE_PATTERN })),
    team: Type.Optional(Type.String({ maxLength: 200, pattern: STORABLE_PATTERN })),
  },
  { additionalProperties: false },
);

const MailboxQuery = Type.Object(
  { limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })) },
  { additionalProperties: false },
);
// Ids are UUIDs, but anything else is still answered (404) and audited: only text the trail can hold.
const IdParams = Type.Object({ id: Type.String({ pattern: STORABLE_PATTERN }) });

export function laRoutes(app: FastifyInstance, deps: HttpDeps): void {
  // Uploads read the body as a stream (files may hold the whole national cohort), so this scope
  // hands JSON and CSV bodies to the capability unparsed; authentication has already run.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    scope.post('/la/v1/uploads', { config: LA }, async (req, reply) => {
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
          throw fileRefusal(
            'CPF01',
            400,
            `${memberPath('', k)} is not a parameter of an upload`,
            memberPath('', k),
          );
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
      // Serialised once by the upload (it is also the mailbox message).
      return reply.type('application/json; charset=utf-8').send(result.json);
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

  // Episodes: the inbox the portal shows, for an LA's own case system (issue 9 §3).
  app.get('/la/v1/episodes', { config: LA }, async (req) => {
    const q = (req.query ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(q)) {
      if (!['state', 'queue', 'pattern', 'from', 'to', 'page', 'pageSize'].includes(k))
        throw invalidValue(
          memberPath('', k),
          `${memberPath('', k)} is not a parameter of the episode listing`,
        );
      // A repeated parameter would otherwise be dropped without a word, widening the listing.
      if (typeof v !== 'string') throw invalidValue(k, `${k} must be given once`);
      if (!isStorableText(v)) throw invalidValue(k, `${k} contains characters that cannot be stored`);
    }
    const { filters, errors } = readFilters(q);
    if (errors.length) throw invalidValue(errors[0]!, `${errors[0]} is not a valid filter value`);
    const page = q.page === undefined ? 1 : Number(q.page);
    const pageSize = q.pageSize === undefined ? 100 : Number(q.pageSize);
    if (!Number.isInteger(page) || page < 1) throw invalidValue('page', 'page must be a whole number from 1');
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 500)
      throw invalidValue('pageSize', 'pageSize must be between 1 and 500');
    const result = await listEpisodes(
      deps.db,
      deps.clock.now(),
      systemViewer(req),
      filters,
      page,
      pageSize,
      false,
    );
    return {
      total: result.total,
      page: result.page,
      pages: result.pages,
      episodes: result.episodes.map(episodeOut),
    };
  });

  app.get<{ Params: Static<typeof IdParams> }>(
    '/la/v1/episodes/:id',
    { config: LA, schema: { params: IdParams } },
    async (req) => {
      const episode = await readEpisode(deps.db, deps.clock.now(), systemViewer(req), req.params.id);
      if (!episode) throw notFound(`no episode ${req.params.id} in this local authority`);
      return episodeOut(episode);
    },
  );

  app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof EpisodeBody> }>(
    '/la/v1/episodes/:id',
    { config: LA, schema: { params: IdParams, body: EpisodeBody } },
    async (req) => {
      const result = await changeEpisode(
        deps.db,
        deps.clock.now(),
        systemViewer(req),
        req.params.id,
        req.body as EpisodeChange,
      );
      switch (result.kind) {
        case 'invalid':
          throw invalidValue(result.field, result.message);
        case 'not-found':
          throw notFound(`no episode ${req.params.id} in this local authority`);
        case 'conflict':
          throw conflict(
            `the episode is at version ${result.episode.version}, not ${req.body.version}: read it again before changing it`,
            'version',
          );
        case 'changed':
          return episodeOut(result.episode);
      }
    },
  );

  app.get('/la/v1/data-quality', { config: LA }, async (req) =>
    dataQuality(deps.db, laOf(req).laCode, londonDateOf(deps.clock.now())),
  );
}

/** An episode on the wire: the summary, and for a single read its timeline and history. */
function episodeOut(e: EpisodeSummary | EpisodeDetail): Record<string, unknown> {
  const { startedAt, lastAt, ...rest } = e;
  const out: Record<string, unknown> = { ...rest, start: startedAt.toISOString(), end: lastAt.toISOString() };
  delete out.routing;
  delete out.can;
  return out;
}
