/** INTERFACE §2 administration (admin token): demographics, births, organisations, local authorities. */
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import {
  adminGetPerson,
  adminInvalidate,
  adminPutPerson,
  adminRegisterBirth,
  adminSupersede,
} from '../../demographics/admin.ts';
import {
  adminImportOrganisations,
  adminPutLocalAuthority,
  adminPutOrganisation,
  requireOdsCode,
} from '../../directory/admin.ts';
import {
  getLocalAuthority,
  getOrganisation,
  listLocalAuthorities,
  listOrganisations,
} from '../../directory/directory.ts';
import { SETTINGS, type Setting } from '../../directory/types.ts';
import { invalidValue, notFound } from '../../domain/outcomes.ts';
import { memberPath, STORABLE_PATTERN } from '../../domain/validate.ts';
import { adminDispatch } from '../../notify/admin.ts';
import { unknownOrganisations } from '../../notify/dispatch.ts';
import { principalOf } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';
import { localAuthorityWire, organisationWire, personWire } from '../wire.ts';

const ADMIN = { allow: ['admin'] as const };
const nullableString = Type.Unsafe<string | null>({ type: ['string', 'null'] });

const PersonBody = Type.Object(
  {
    familyName: Type.String(),
    givenNames: Type.Array(Type.String()),
    birthDate: Type.String(),
    gender: Type.Optional(Type.String()),
    sensitive: Type.Optional(Type.Boolean()),
    deathDate: Type.Optional(nullableString),
    postcode: Type.Optional(nullableString),
  },
  { additionalProperties: false },
);

const SupersedeBody = Type.Object({ newNhsNumber: Type.String() }, { additionalProperties: false });

const BirthBody = Type.Object(
  {
    motherNhsNumber: Type.String(),
    nhsNumber: Type.String(),
    familyName: Type.String(),
    givenNames: Type.Unsafe<string[] | string>({ type: ['array', 'string'], items: { type: 'string' } }),
    birthDate: Type.String(),
    gender: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

const OrganisationFields = {
  name: Type.String(),
  setting: Type.String(),
  parentOdsCode: Type.Optional(nullableString),
  town: Type.Optional(nullableString),
  phone: Type.Optional(nullableString),
  postcode: Type.Optional(nullableString),
};
const OrganisationBody = Type.Object(OrganisationFields, { additionalProperties: false });
const ImportBody = Type.Object(
  {
    organisations: Type.Array(
      Type.Object({ odsCode: Type.String(), ...OrganisationFields }, { additionalProperties: false }),
      {
        maxItems: 50_000,
      },
    ),
  },
  { additionalProperties: false },
);

const LocalAuthorityBody = Type.Object(
  {
    name: Type.String(),
    officeHoursPhone: Type.String(),
    emergencyDutyPhone: Type.String(),
    notificationCadence: Type.Optional(Type.String()),
    episodeGapHours: Type.Optional(Type.Integer()),
    patternThresholds: Type.Optional(
      Type.Unsafe<Record<string, number> | null>({
        type: ['object', 'null'],
        properties: {
          episodes: { type: 'integer' },
          episodeDays: { type: 'integer' },
          areas: { type: 'integer' },
          areaDays: { type: 'integer' },
        },
        additionalProperties: false,
      }),
    ),
    webhook: Type.Optional(
      Type.Unsafe<{ url: string; secret: string } | null>({
        type: ['object', 'null'],
        properties: { url: { type: 'string' }, secret: { type: 'string' } },
        required: ['url', 'secret'],
        additionalProperties: false,
      }),
    ),
  },
  { additionalProperties: false },
);

const NhsParams = Type.Object({ nhsNumber: Type.String() });
const OdsParams = Type.Object({ odsCode: Type.String() });
const LaParams = Type.Object({ laCode: Type.String() });
const ListOrgsQuery = Type.Object(
  {
    setting: Type.Optional(Type.String({ pattern: STORABLE_PATTERN })),
    parent: Type.Optional(Type.String({ pattern: STORABLE_PATTERN })),
    after: Type.Optional(Type.String({ pattern: STORABLE_PATTERN })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
  },
  { additionalProperties: false },
);

/** The dispatch body is optional: none, or {"force": true|false}. */
function dispatchForce(body: unknown): boolean {
  if (body === undefined || body === null) return false;
  if (typeof body !== 'object' || Array.isArray(body))
    throw invalidValue('body', 'the body must be an object');
  for (const k of Object.keys(body))
    if (k !== 'force')
      throw invalidValue(memberPath('', k), `${memberPath('', k)} is not a recognised field`);
  const force = (body as { force?: unknown }).force;
  if (force !== undefined && typeof force !== 'boolean')
    throw invalidValue('force', 'force must be true or false');
  return force === true;
}

export function adminRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const adminDeps = { db: deps.db, clock: deps.clock, listeners: deps.demographicsListeners };

  app.put<{ Params: Static<typeof NhsParams>; Body: Static<typeof PersonBody> }>(
    '/admin/v1/demographics/:nhsNumber',
    { config: ADMIN, schema: { params: NhsParams, body: PersonBody } },
    async (req, reply) => {
      const r = await adminPutPerson(adminDeps, principalOf(req), req.params.nhsNumber, req.body);
      return reply.code(r.created ? 201 : 200).send(personWire(r.person));
    },
  );

  app.get<{ Params: Static<typeof NhsParams> }>(
    '/admin/v1/demographics/:nhsNumber',
    { config: ADMIN, schema: { params: NhsParams } },
    async (req) => personWire(await adminGetPerson(deps.db, req.params.nhsNumber)),
  );

  app.post<{ Params: Static<typeof NhsParams>; Body: Static<typeof SupersedeBody> }>(
    '/admin/v1/demographics/:nhsNumber/supersede',
    { config: ADMIN, schema: { params: NhsParams, body: SupersedeBody } },
    async (req) => {
      const r = await adminSupersede(
        adminDeps,
        principalOf(req),
        req.params.nhsNumber,
        req.body.newNhsNumber,
      );
      return { old: personWire(r.old), replacement: personWire(r.replacement) };
    },
  );

  app.post<{ Params: Static<typeof NhsParams> }>(
    '/admin/v1/demographics/:nhsNumber/invalidate',
    { config: ADMIN, schema: { params: NhsParams } },
    async (req) => personWire(await adminInvalidate(adminDeps, principalOf(req), req.params.nhsNumber)),
  );

  app.post<{ Body: Static<typeof BirthBody> }>(
    '/admin/v1/births',
    { config: ADMIN, schema: { body: BirthBody } },
    async (req, reply) => {
      const r = await adminRegisterBirth(adminDeps, principalOf(req), req.body);
      return reply.code(201).send({ baby: personWire(r.baby), motherNhsNumber: r.mother.nhsNumber });
    },
  );

  app.put<{ Params: Static<typeof OdsParams>; Body: Static<typeof OrganisationBody> }>(
    '/admin/v1/organisations/:odsCode',
    { config: ADMIN, schema: { params: OdsParams, body: OrganisationBody } },
    async (req, reply) => {
      const r = await adminPutOrganisation(adminDeps, principalOf(req), req.params.odsCode, req.body);
      return reply.code(r.created ? 201 : 200).send(organisationWire(r.organisation));
    },
  );

  app.get<{ Params: Static<typeof OdsParams> }>(
    '/admin/v1/organisations/:odsCode',
    { config: ADMIN, schema: { params: OdsParams } },
    async (req) => {
      const code = requireOdsCode('odsCode', req.params.odsCode);
      const org = await getOrganisation(deps.db, code);
      if (!org) throw notFound(`organisation ${code} is not in the directory`);
      return organisationWire(org);
    },
  );

  app.get<{ Querystring: Static<typeof ListOrgsQuery> }>(
    '/admin/v1/organisations',
    { config: ADMIN, schema: { querystring: ListOrgsQuery } },
    async (req) => {
      const q = req.query;
      if (q.setting && !SETTINGS.includes(q.setting as Setting)) {
        throw invalidValue('setting', `setting must be one of ${SETTINGS.join(', ')}`);
      }
      const limit = Math.min(Number(q.limit ?? 100), 1000);
      const orgs = await listOrganisations(deps.db, {
        limit,
        ...(q.setting ? { setting: q.setting as Setting } : {}),
        ...(q.parent ? { parentOdsCode: requireOdsCode('parent', q.parent) } : {}),
        ...(q.after ? { after: q.after.toUpperCase() } : {}),
      });
      return {
        organisations: orgs.map(organisationWire),
        next: orgs.length === limit ? orgs.at(-1)?.odsCode : null,
      };
    },
  );

  app.post<{ Body: Static<typeof ImportBody> }>(
    '/admin/v1/organisations/import',
    { config: ADMIN, schema: { body: ImportBody }, bodyLimit: 64 * 1024 * 1024 },
    async (req) => adminImportOrganisations(adminDeps, principalOf(req), req.body.organisations),
  );

  app.put<{ Params: Static<typeof LaParams>; Body: Static<typeof LocalAuthorityBody> }>(
    '/admin/v1/local-authorities/:laCode',
    { config: ADMIN, schema: { params: LaParams, body: LocalAuthorityBody } },
    async (req, reply) => {
      const r = await adminPutLocalAuthority(
        { ...adminDeps, allowHttpWebhooks: deps.mode === 'demo', secrets: deps.secrets },
        principalOf(req),
        req.params.laCode,
        req.body,
      );
      return reply.code(r.created ? 201 : 200).send(localAuthorityWire(r.localAuthority));
    },
  );

  app.get<{ Params: Static<typeof LaParams> }>(
    '/admin/v1/local-authorities/:laCode',
    { config: ADMIN, schema: { params: LaParams } },
    async (req) => {
      const code = requireOdsCode('laCode', req.params.laCode);
      const la = await getLocalAuthority(deps.db, code);
      if (!la) throw notFound(`local authority ${code} is not in the directory`);
      return localAuthorityWire(la);
    },
  );

  app.get('/admin/v1/local-authorities', { config: ADMIN }, async () => ({
    localAuthorities: (await listLocalAuthorities(deps.db)).map(localAuthorityWire),
  }));

  app.post('/admin/v1/notifications/dispatch', { config: ADMIN }, async (req) =>
    adminDispatch({ db: deps.db, clock: deps.clock }, principalOf(req), dispatchForce(req.body)),
  );

  app.get('/admin/v1/reports/unknown-organisations', { config: ADMIN }, async () => ({
    organisations: await unknownOrganisations(deps.db),
  }));
}
