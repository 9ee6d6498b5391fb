/**
 * The portal's pages for a signed-in person in a chosen role: find a patient (by NHS number, or by
 * details answered as a PDS trace answers), check it is the right person, then look. Every route
 * checks the session and the role's CP-IS activity on the server; every form carries a CSRF token.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseDemographicsForm } from '../demographics/search.ts';
import { GENDERS } from '../demographics/types.ts';
import { londonDateOf } from '../domain/dates.ts';
import { checkNhsNumber, type NhsNumberProblem } from '../domain/nhs-number.ts';
import type { HttpDeps } from '../http/deps.ts';
import {
  type FindResult,
  findByDetails,
  findByNhsNumber,
  personFor,
  readLookChoice,
  SILENT_REASONS,
  viewFlag,
} from '../query/portal.ts';
import { canNotify, hasCpisActivity } from '../query/request.ts';
import {
  type Form,
  formOf,
  httpFacts,
  laRoleSelected,
  messagePage,
  type PortalDeps,
  render,
  toSignIn,
  viewerOf,
} from './portal.ts';

const session = { config: { allow: 'session' as const } };

/** A patient reference opens only for this person, in this role, in this session. */
function bindingOf(req: FastifyRequest): string {
  const p = req.viewer!.principal;
  return `${p.sdsUserId}|${p.roleProfileId}|${req.session.bindingId ?? ''}`;
}

/** NHS design system messages for an NHS number that cannot be used. */
const NHS_NUMBER_MESSAGES: Record<NhsNumberProblem, string> = {
  missing: 'Enter an NHS number',
  'not-digits': 'NHS number must only include numbers and spaces',
  'wrong-length': 'NHS number must be 10 digits',
  'check-digit-is-ten': 'Enter a valid NHS number: this one is not a real NHS number',
  'wrong-check-digit': 'Enter a valid NHS number: check each digit, this one is not a real NHS number',
};

const GENDER_LABELS: Record<string, string> = {
  female: 'Female',
  male: 'Male',
  other: 'Other',
  unknown: 'Not known',
};

export function pageRoutes(app: FastifyInstance, deps: HttpDeps, portal: PortalDeps): void {
  const qdeps = { db: deps.db, demographics: deps.demographics, query: deps.query };

  /** Signed in, in a role with a CP-IS activity; otherwise to sign-in, role choice, or "no access" (audited). */
  const needViewer = async (req: FastifyRequest, reply: FastifyReply) => {
    const user = req.session.user;
    if (!user) return toSignIn(req, reply);
    // Local authority staff work in their inbox; the flag search is for health staff.
    if (laRoleSelected(req)) return reply.redirect('/la/inbox', 303);
    const viewer = await viewerOf(req, deps);
    if (!viewer) {
      const to = req.method === 'GET' ? req.url : '/search';
      return reply.redirect(`/select-role?returnTo=${encodeURIComponent(to)}`, 303);
    }
    req.viewer = viewer;
    if (!hasCpisActivity(viewer.principal)) {
      await deps.query.record({
        action: 'portal.access',
        principal: viewer.principal,
        status: 403,
        code: 'ACCESS_DENIED',
        message: 'no CP-IS activity (B0107 or B0170) in the selected role',
        http: httpFacts(req),
        detail: { channel: 'portal' },
      });
      return messagePage(
        req,
        reply,
        403,
        'You do not have access',
        [
          `Your role (${viewer.roleName}, ${viewer.orgName}) does not include access to child protection information.`,
          'To use this service your role needs the CP-IS activity B0107 (View CP-IS flag) or B0170 (View CP-IS flag without sending a notification). Ask your registration authority.',
          'This attempt has been recorded.',
        ],
        viewer.roleCount > 1 ? { href: '/select-role', text: 'Choose another role' } : undefined,
      );
    }
  };
  const guarded = { ...session, preHandler: needViewer };
  const guardedForm = { ...session, preHandler: [needViewer, app.csrfProtection] };

  const searchPage = (
    req: FastifyRequest,
    reply: FastifyReply,
    data: Record<string, unknown>,
    status = 200,
  ) => {
    const values = (data.values as Form | undefined) ?? {};
    return render(
      req,
      reply,
      'search.njk',
      {
        values,
        fieldErrors: {},
        canNotify: canNotify(req.viewer!.principal),
        genderItems: [
          { value: '', text: 'Not given', selected: !values.gender },
          ...GENDERS.map((g) => ({ value: g, text: GENDER_LABELS[g], selected: values.gender === g })),
        ],
        ...data,
      },
      status,
    );
  };

  app.get('/search', guarded, (req, reply) => searchPage(req, reply, {}));

  app.post('/search', guardedForm, async (req, reply) => {
    const viewer = req.viewer!;
    const form = formOf(req);
    let found: FindResult;
    if (form.by === 'details') {
      const today = londonDateOf(deps.clock.now());
      const parsed = parseDemographicsForm(form, today);
      if (!parsed.ok) {
        const fieldErrors: Record<string, string> = {};
        let birthDatePart: string | undefined;
        const errors = parsed.errors.map((e) => {
          fieldErrors[e.field] ??= e.message;
          if (e.field === 'birthDate' && e.part && birthDatePart === undefined) birthDatePart = e.part;
          const href = e.field === 'birthDate' ? `#birthDate-${e.part ?? 'day'}` : `#${e.field}`;
          return { text: e.message, href };
        });
        return searchPage(req, reply, { values: form, errors, fieldErrors, birthDatePart }, 400);
      }
      found = await findByDetails(qdeps, viewer.principal, parsed.query, httpFacts(req));
    } else {
      const check = checkNhsNumber(form.nhsNumber?.trim() ?? '');
      if (!check.ok) {
        const text = NHS_NUMBER_MESSAGES[check.problem];
        return searchPage(
          req,
          reply,
          { values: form, errors: [{ text, href: '#nhsNumber' }], fieldErrors: { nhsNumber: text } },
          400,
        );
      }
      found = await findByNhsNumber(qdeps, viewer.principal, check.nhsNumber, httpFacts(req));
    }
    if (found.status !== 'found') {
      return searchPage(req, reply, {
        values: form,
        outcome: found.status,
        notFoundText:
          form.by === 'details'
            ? 'No one was found with these details. Check the spelling and the date of birth, try the start of a name followed by *, or search by NHS number.'
            : 'No one has this NHS number. Check it against the patient’s records, or search by their details.',
      });
    }
    const ref = portal.refs.seal(
      { nhsNumber: found.nhsNumber, note: found.note },
      bindingOf(req),
      portal.now(),
    );
    return reply.redirect(`/patient/${ref}`, 303);
  });

  const openRef = async (req: FastifyRequest, reply: FastifyReply) => {
    const ref = (req.params as { ref: string }).ref;
    const content = portal.refs.open(ref, bindingOf(req), portal.now());
    if (!content) {
      await messagePage(
        req,
        reply,
        404,
        'This page is no longer available',
        ['Links to a patient work only for the person who searched, and only for a while. Search again.'],
        { href: '/search', text: 'Find a patient' },
      );
      return null;
    }
    return { ref, content };
  };

  const patientPage = async (
    req: FastifyRequest,
    reply: FastifyReply,
    opened: NonNullable<Awaited<ReturnType<typeof openRef>>>,
    extra: Record<string, unknown> = {},
    status = 200,
  ) => {
    const person = await personFor(qdeps, opened.content.nhsNumber);
    return render(
      req,
      reply,
      'patient.njk',
      {
        ref: opened.ref,
        nhsNumber: opened.content.nhsNumber,
        person,
        note: opened.content.note,
        canNotify: canNotify(req.viewer!.principal),
        values: {},
        fieldErrors: {},
        reasonItems: [
          { value: '', text: 'Choose a reason' },
          ...Object.entries(SILENT_REASONS).map(([value, text]) => ({
            value,
            text,
            selected: (extra.values as Form | undefined)?.silentReason === value,
          })),
        ],
        ...extra,
      },
      status,
    );
  };

  app.get('/patient/:ref', guarded, async (req, reply) => {
    const opened = await openRef(req, reply);
    if (!opened) return reply;
    // Who the person is was shown: that is recorded too, though CP-IS information is not yet.
    await deps.query.record({
      action: 'portal.show-person',
      principal: req.viewer!.principal,
      status: 200,
      nhsNumber: opened.content.nhsNumber,
      http: httpFacts(req),
      detail: { channel: 'portal' },
    });
    return patientPage(req, reply, opened);
  });

  app.post('/patient/:ref/view', guardedForm, async (req, reply) => {
    const opened = await openRef(req, reply);
    if (!opened) return reply;
    const viewer = req.viewer!;
    const form = formOf(req);
    const choice = readLookChoice(viewer.principal, form);
    if (!choice.ok) {
      const { field, text } = choice;
      const errors = [{ text, href: `#${field}` }];
      return patientPage(req, reply, opened, { values: form, errors, fieldErrors: { [field]: text } }, 400);
    }
    const view = await viewFlag(qdeps, viewer.principal, {
      nhsNumber: opened.content.nhsNumber,
      notify: choice.notify,
      silentReason: choice.silentReason,
      http: httpFacts(req),
    });
    const person = await personFor(qdeps, view.nhsNumber);
    const laNames = [...new Set(view.plans.map((p) => p.laName ?? `local authority ${p.laCode}`))];
    return render(req, reply, 'flag.njk', {
      view,
      person,
      laNames: joinNames(laNames),
    });
  });
}

function joinNames(names: string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}
