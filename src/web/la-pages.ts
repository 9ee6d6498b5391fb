/**
 * The LA portal: the CP-IS notification module a local authority's social care team works in.
 * Inbox of episodes (one row per incident), an episode's timeline with each place's phone number
 * and the team's work on it, the child's history, uploads and data quality (admins), and the LA's
 * routing and thresholds (admins). Every page checks on the server that the signed-in person is
 * in an LA role, and sees only their LA (and, below admin, their team); every form carries a CSRF
 * token. Routes stay thin: each calls one capability (src/inbox, src/upload) and renders.
 */
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { londonDateOf } from '../domain/dates.ts';
import { describeOfficeHours } from '../domain/office-hours.ts';
import type { HttpDeps } from '../http/deps.ts';
import {
  changeEpisode,
  childHistory,
  EPISODE_STATES,
  type EpisodeChange,
  type EpisodeDetail,
  type InboxFilters,
  listEpisodes,
  readEpisode,
  readFilters,
  recordStaffEvent,
  STATE_LABELS,
  teamsOf,
} from '../inbox/inbox.ts';
import { readSettings, saveSettings } from '../inbox/settings.ts';
import type { EpisodeState } from '../store/schema.ts';
import { dataQuality } from '../upload/data-quality.ts';
import { type Acknowledgement, receiveUpload } from '../upload/upload.ts';
import { type Form, formOf, laViewerOf, messagePage, render, toSignIn, viewerOf } from './portal.ts';

const session = { config: { allow: 'session' as const } };
const UPLOAD_MAX_BYTES = 20 * 1024 * 1024;
const GO_LIVE_MATCH_RATE = 0.95;

/** What to do about a rejected record, by code (and rule, for CPR07). */
const CORRECTIONS: Record<string, string> = {
  CPR01:
    'Demographics does not know this NHS number. Check it against the child’s NHS record and correct it in your case system.',
  CPR02:
    'The child has a restricted (sensitive) record, which cannot hold CP-IS information. Follow your local procedure for restricted records.',
  CPR03:
    'The name or date of birth does not match the child’s NHS record. Check both in your case system against demographics, correct the one that is wrong and send the record again.',
  CPR04:
    'The NHS number is not a valid NHS number (wrong length or check digit). Correct it in your case system.',
  CPR05: 'The NHS number has been replaced. Send the record again under the replacement number.',
  CPR07: 'Correct the field named and send the record again.',
};

const FILE_CODES: Record<string, string> = {
  CPF01: 'File unreadable: nothing applied',
  CPF02: 'All records accepted',
  CPF03: 'Some records rejected',
  CPF04: 'No record accepted',
  CPF05: 'Demographics unavailable: nothing applied, send again',
  CPF06: 'Client version no longer supported',
};

const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const londonMonth = (d: Date) => londonDateOf(d).slice(0, 7);
const monthLabel = (m: string) => `${MONTH_NAMES[Number(m.slice(5, 7)) - 1]} ${m.slice(0, 4)}`;

export function laPageRoutes(app: FastifyInstance, deps: HttpDeps): void {
  /** Signed in, in an LA role; a health role is refused (audited), no role yet goes to role choice. */
  const needStaff = async (req: FastifyRequest, reply: FastifyReply) => {
    if (!req.session.user) return toSignIn(req, reply);
    const staff = await laViewerOf(req, deps);
    if (staff) {
      req.laViewer = staff;
      return;
    }
    const health = await viewerOf(req, deps);
    if (!health) {
      const to = req.method === 'GET' ? req.url : '/la/inbox';
      return reply.redirect(`/select-role?returnTo=${encodeURIComponent(to)}`, 303);
    }
    req.viewer = health;
    await refuse(req, 'not a local authority role');
    return messagePage(
      req,
      reply,
      403,
      'You do not have access',
      [
        `These pages are for local authority staff. Your role (${health.roleName}, ${health.orgName}) is an NHS role.`,
        'This attempt has been recorded.',
      ],
      { href: '/search', text: 'Find a patient instead' },
    );
  };
  const needAdmin = async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.laViewer?.isAdmin) return;
    await refuse(req, 'safeguarding admin role needed');
    return messagePage(
      req,
      reply,
      403,
      'You do not have access',
      [
        'Only your local authority’s safeguarding admins can see uploads and change settings.',
        'This attempt has been recorded.',
      ],
      { href: '/la/inbox', text: 'Go to your inbox' },
    );
  };
  const refuse = (req: FastifyRequest, reason: string) =>
    recordStaffEvent(deps.db, deps.clock.now(), {
      action: 'la-portal.access',
      refused: true,
      actor: req.laViewer?.inbox.actor ?? {
        kind: 'portal-user',
        sdsUserId: req.session.user?.sdsUserId,
        name: req.session.user?.name,
      },
      detail: { url: req.routeOptions.url, method: req.method, reason },
    });
  const staff = { ...session, preHandler: needStaff };
  const staffForm = { ...session, preHandler: [needStaff, app.csrfProtection] };
  const admin = { ...session, preHandler: [needStaff, needAdmin] };

  // ---------------------------------------------------------------- inbox
  app.get('/la', staff, (_req, reply) => reply.redirect('/la/inbox', 303));
  app.get('/la/inbox', staff, async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const { filters, errors } = readFilters(q);
    const page = Math.max(1, Math.min(1_000_000, Number.parseInt(String(q.page ?? '1'), 10) || 1));
    const result = await listEpisodes(deps.db, deps.clock.now(), req.laViewer!.inbox, filters, page);
    const base = filterQuery(filters);
    return render(req, reply, 'la-inbox.njk', {
      title: 'Inbox',
      nav: 'inbox',
      isAdmin: req.laViewer!.isAdmin,
      errors: errors.map((f) => ({
        text: `The ${f} filter was not understood, so it was left out`,
        href: `#${f}`,
      })),
      filters,
      result,
      rows: result.episodes.map((e) => ({
        ...e,
        stateLabel: STATE_LABELS[e.state],
        name: childName(e.child),
      })),
      stateItems: [
        { value: '', text: 'Any state' },
        ...EPISODE_STATES.map((s) => ({ value: s, text: STATE_LABELS[s], selected: filters.state === s })),
      ],
      queueItems: [
        { value: '', text: 'All queues' },
        ...result.queues.map((q2) => ({ ...q2, selected: filters.queue === q2.value })),
      ],
      patternItems: [
        { value: '', text: 'Any' },
        { value: 'any', text: 'Any pattern of concern', selected: filters.pattern === 'any' },
        {
          value: 'REPEAT_EPISODES',
          text: 'Repeated episodes',
          selected: filters.pattern === 'REPEAT_EPISODES',
        },
        {
          value: 'SEVERAL_AREAS',
          text: 'Seen in several areas',
          selected: filters.pattern === 'SEVERAL_AREAS',
        },
      ],
      previous: result.page > 1 ? `/la/inbox?${base}page=${result.page - 1}` : null,
      next: result.page < result.pages ? `/la/inbox?${base}page=${result.page + 1}` : null,
      filtered: Object.keys(filters).length > 0,
    });
  });

  // ---------------------------------------------------------------- an episode
  const episodePage = async (
    req: FastifyRequest,
    reply: FastifyReply,
    episode: EpisodeDetail,
    extra: Record<string, unknown> = {},
    status = 200,
  ) =>
    render(
      req,
      reply,
      'la-episode.njk',
      {
        title: `Episode: ${childName(episode.child)}`,
        nav: 'inbox',
        isAdmin: req.laViewer!.isAdmin,
        episode,
        name: childName(episode.child),
        stateLabel: STATE_LABELS[episode.state],
        stateItems: (['reviewed', 'follow-up-recorded', 'no-action-needed'] as EpisodeState[]).map((s) => ({
          value: s,
          text: STATE_LABELS[s],
          checked: (extra.form as Form | undefined)?.state === s,
        })),
        events: episode.events.map((e) => ({ ...e, text: eventText(e.action, e.detail) })),
        viewerIsWorker: episode.worker?.id === req.laViewer!.inbox.userId,
        teamItems: episode.can.reassignTeam
          ? (await teamsOf(deps.db, req.laViewer!.inbox.laCode)).map((team) => ({
              value: team,
              text: team,
              selected: team === episode.team,
            }))
          : [],
        ...extra,
      },
      status,
    );

  app.get('/la/episodes/:id', staff, async (req, reply) => {
    const { id } = req.params as { id: string };
    const episode = await readEpisode(deps.db, deps.clock.now(), req.laViewer!.inbox, id);
    if (!episode) return notFoundPage(req, reply);
    const saved = (req.query as Record<string, unknown>).saved;
    return episodePage(req, reply, episode, { saved: typeof saved === 'string' ? saved : null });
  });

  app.post('/la/episodes/:id', staffForm, async (req, reply) => {
    const { id } = req.params as { id: string };
    const form = formOf(req, 2000);
    const change: EpisodeChange = { version: Number(form.version) };
    if (form.action === 'state') {
      if (!form.state) {
        const current = await readEpisode(deps.db, deps.clock.now(), req.laViewer!.inbox, id);
        if (!current) return notFoundPage(req, reply);
        return episodePage(
          req,
          reply,
          current,
          {
            errors: [{ text: 'Choose what has been done', href: '#state' }],
            fieldErrors: { state: 'Choose what has been done' },
            form,
          },
          400,
        );
      }
      change.state = form.state as EpisodeState;
      change.reason = form.reason ?? '';
    } else if (form.action === 'team') change.team = form.team ?? '';
    else if (form.action === 'take') change.worker = 'me';
    else if (form.action === 'release') change.worker = 'nobody';
    const result = await changeEpisode(deps.db, deps.clock.now(), req.laViewer!.inbox, id, change);
    if (result.kind === 'not-found') return notFoundPage(req, reply);
    if (result.kind === 'invalid') {
      const current = await readEpisode(deps.db, deps.clock.now(), req.laViewer!.inbox, id);
      if (!current) return notFoundPage(req, reply);
      const field = result.field === 'version' ? 'state' : result.field;
      return episodePage(
        req,
        reply,
        current,
        {
          errors: [{ text: result.message, href: `#${field}` }],
          fieldErrors: { [field]: result.message },
          form,
        },
        400,
      );
    }
    if (result.kind === 'conflict') {
      const e = result.episode;
      return episodePage(
        req,
        reply,
        e,
        {
          conflict: true,
          errors: [
            {
              text: `This episode changed after you opened it (it is now “${STATE_LABELS[e.state]}”${e.worker ? `, with ${e.worker.name}` : ''}). Nothing you entered was saved. Check the history below, then try again.`,
              href: '#history',
            },
          ],
          form,
        },
        409,
      );
    }
    const what = change.state ? 'state' : change.team !== undefined ? 'team' : 'worker';
    return reply.redirect(`/la/episodes/${encodeURIComponent(id)}?saved=${what}`, 303);
  });

  // ---------------------------------------------------------------- the child
  app.get('/la/episodes/:id/child', staff, async (req, reply) => {
    const { id } = req.params as { id: string };
    const child = await childHistory(deps.db, deps.clock.now(), req.laViewer!.inbox, id, londonMonth);
    if (!child) return notFoundPage(req, reply);
    const max = Math.max(1, ...child.months.map((m) => m.episodes));
    return render(req, reply, 'la-child.njk', {
      title: childName(child.child),
      nav: 'inbox',
      isAdmin: req.laViewer!.isAdmin,
      child,
      name: childName(child.child),
      episodes: child.episodes.map((e) => ({ ...e, stateLabel: STATE_LABELS[e.state] })),
      chart: barChart(
        child.months.map((m) => ({
          label: `${monthLabel(m.month).slice(0, 4)}’${m.month.slice(2, 4)}`,
          value: m.episodes,
        })),
        max,
      ),
      months: child.months.map((m) => ({ ...m, label: monthLabel(m.month) })),
      fileCodes: FILE_CODES,
    });
  });

  // ---------------------------------------------------------------- uploads and data quality
  const uploadsPage = async (
    req: FastifyRequest,
    reply: FastifyReply,
    extra: Record<string, unknown> = {},
    status = 200,
  ) => {
    const laCode = req.laViewer!.inbox.laCode;
    const dq = await dataQuality(deps.db, laCode, londonDateOf(deps.clock.now()), 500, 24);
    await recordStaffEvent(deps.db, deps.clock.now(), {
      action: 'data-quality.read',
      actor: req.laViewer!.inbox.actor,
      detail: { laCode, rejected: dq.rejected.length },
    });
    const points = [...dq.uploads].reverse().filter((u) => u.matchRate !== null);
    return render(
      req,
      reply,
      'la-uploads.njk',
      {
        title: 'Uploads and data quality',
        nav: 'uploads',
        isAdmin: true,
        dq,
        goLive: GO_LIVE_MATCH_RATE,
        nextSequence: (dq.uploads[0]?.sequence ?? 0) + 1,
        meetsGoLive: dq.matchRate !== null && dq.matchRate >= GO_LIVE_MATCH_RATE,
        fileCodes: FILE_CODES,
        worklist: dq.rejected.map((r) => ({
          ...r,
          message: capitalise(r.message),
          correction:
            r.code === 'CPR05' && r.replacementNhsNumber
              ? `The NHS number has been replaced by ${r.replacementNhsNumber}. Send the record again under that number.`
              : (CORRECTIONS[r.code] ?? 'Correct the record and send it again.'),
        })),
        chart: barChart(
          points.map((u) => ({
            label: `No. ${u.sequence}`,
            value: Math.round((u.matchRate ?? 0) * 1000) / 10,
          })),
          100,
          GO_LIVE_MATCH_RATE * 100,
        ),
        points,
        ...extra,
      },
      status,
    );
  };

  app.get('/la/uploads', admin, (req, reply) => uploadsPage(req, reply));

  app.register(async (scope) => {
    await scope.register(multipart, {
      attachFieldsToBody: 'keyValues',
      limits: { fileSize: UPLOAD_MAX_BYTES, files: 1, fields: 5 },
    });
    scope.post(
      '/la/uploads',
      // Who is asking is settled before the body is read (the multipart parser reads it before
      // preHandler); the CSRF token is in the body, so it is checked after.
      { ...session, onRequest: [needStaff, needAdmin], preHandler: [app.csrfProtection] },
      async (req, reply) => {
        const body = (req.body ?? {}) as Record<string, unknown>;
        const file = body.file;
        // Changes only: a snapshot (which ends every record not in the file) goes through the API,
        // where a case system sends the whole cohort; one wrong click here must not end them all.
        const mode = 'delta';
        if (!Buffer.isBuffer(file) || file.length === 0) {
          return uploadsPage(
            req,
            reply,
            {
              errors: [{ text: 'Choose a CSV file to upload', href: '#file' }],
              fileError: 'Choose a CSV file to upload',
            },
            400,
          );
        }
        const laCode = req.laViewer!.inbox.laCode;
        const last = await deps.db
          .selectFrom('upload')
          .select((eb) => eb.fn.max('sequence').as('last'))
          .where('la_code', '=', laCode)
          .executeTakeFirst();
        const sequence = Number(last?.last ?? 0) + 1;
        let ack: Acknowledgement;
        try {
          const result = await receiveUpload(
            { db: deps.db, clock: deps.clock, demographics: deps.demographics },
            {
              laCode,
              actor: { ...req.laViewer!.inbox.actor, channel: 'la-portal' },
              format: 'csv',
              body: (async function* () {
                yield file;
              })(),
              sequence: String(sequence),
              mode,
            },
          );
          ack = result.acknowledgement;
        } catch (err) {
          const issue = (err as { outcome?: { issue?: { diagnostics?: string; expression?: string[] }[] } })
            .outcome?.issue?.[0];
          if (!issue) throw err;
          const text = `The file was not applied: ${issue.diagnostics ?? 'it could not be read'}${issue.expression?.[0] ? ` (${issue.expression[0]})` : ''}. Nothing has changed.`;
          return uploadsPage(req, reply, { errors: [{ text, href: '#file' }], fileError: text }, 400);
        }
        return uploadsPage(req, reply, {
          ack,
          ackLabel: FILE_CODES[ack.fileCode] ?? ack.fileCode,
          ackProblems: ack.records
            .filter((r) => r.code !== 'CPR06')
            .map((r) => ({
              ...r,
              where: r.lines?.length ? `Line ${r.lines.join(', ')}` : `Record ${r.index + 1}`,
              message: capitalise(r.message ?? ''),
            })),
        });
      },
    );
  });

  // ---------------------------------------------------------------- settings
  app.get('/la/settings', admin, async (req, reply) => {
    const settings = await readSettings(deps.db, req.laViewer!.inbox.laCode);
    if (!settings) return notFoundPage(req, reply);
    return settingsPage(req, reply, settingsForm(settings), {
      saved: (req.query as Record<string, unknown>).saved === '1',
    });
  });
  app.post(
    '/la/settings',
    { ...session, preHandler: [needStaff, needAdmin, app.csrfProtection] },
    async (req, reply) => {
      const form = formOf(req, 2000);
      const days = (form.days ?? '')
        .split(',')
        .filter(Boolean)
        .map((d) => Number(d));
      const int = (v: string | undefined) =>
        v !== undefined && /^\d{1,4}$/.test(v.trim()) ? Number(v) : Number.NaN;
      const result = await saveSettings(
        deps.db,
        deps.clock.now(),
        req.laViewer!.inbox.laCode,
        req.laViewer!.inbox.actor,
        {
          routing: {
            officeHours: { days, open: form.open ?? '', close: form.close ?? '' },
            outOfHoursToEdt: form.outOfHoursToEdt === 'yes',
            screeningTeam: form.screeningTeam ?? '',
            edtTeam: form.edtTeam ?? '',
          },
          episodeGapHours: int(form.episodeGapHours),
          thresholds: {
            episodes: int(form.episodes),
            episodeDays: int(form.episodeDays),
            areas: int(form.areas),
            areaDays: int(form.areaDays),
          },
        },
      );
      if (!result.ok) {
        const id = result.field.replace('officeHours.', '');
        return settingsPage(
          req,
          reply,
          { ...form, days: days.map(String) },
          { errors: [{ text: result.message, href: `#${id}` }], fieldErrors: { [id]: result.message } },
          400,
        );
      }
      return reply.redirect('/la/settings?saved=1', 303);
    },
  );

  const settingsPage = async (
    req: FastifyRequest,
    reply: FastifyReply,
    form: Record<string, unknown>,
    extra: Record<string, unknown> = {},
    status = 200,
  ) => {
    const current = await readSettings(deps.db, req.laViewer!.inbox.laCode);
    const days = (form.days as string[]) ?? [];
    return render(
      req,
      reply,
      'la-settings.njk',
      {
        title: 'Settings',
        nav: 'settings',
        isAdmin: true,
        form,
        current: current ? describeOfficeHours(current.routing.officeHours) : '',
        dayItems: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'].map(
          (d, i) => ({
            value: String(i + 1),
            text: d,
            checked: days.includes(String(i + 1)),
          }),
        ),
        ...extra,
      },
      status,
    );
  };

  const notFoundPage = (req: FastifyRequest, reply: FastifyReply) =>
    messagePage(
      req,
      reply,
      404,
      'Episode not found',
      [
        'There is no episode at this address that you can see. It may belong to another team or another local authority.',
      ],
      { href: '/la/inbox', text: 'Go to your inbox' },
    );
}

function settingsForm(s: NonNullable<Awaited<ReturnType<typeof readSettings>>>): Record<string, unknown> {
  return {
    days: s.routing.officeHours.days.map(String),
    open: s.routing.officeHours.open,
    close: s.routing.officeHours.close,
    outOfHoursToEdt: s.routing.outOfHoursToEdt ? 'yes' : 'no',
    screeningTeam: s.routing.screeningTeam,
    edtTeam: s.routing.edtTeam,
    episodeGapHours: String(s.episodeGapHours),
    episodes: String(s.thresholds.episodes),
    episodeDays: String(s.thresholds.episodeDays),
    areas: String(s.thresholds.areas),
    areaDays: String(s.thresholds.areaDays),
  };
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function childName(c: { familyName: string | null; givenNames: string[] }): string {
  const family = c.familyName ?? '';
  return (
    [c.givenNames.join(' '), family ? family.toUpperCase() : ''].filter(Boolean).join(' ') || 'Name not known'
  );
}

function filterQuery(f: InboxFilters): string {
  const parts = Object.entries(f)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`);
  return parts.length ? `${parts.join('&')}&` : '';
}

const EVENT_TEXTS: Record<string, (d: Record<string, unknown>) => string> = {
  routed: (d) =>
    `Routed to ${d.team}${d.edt ? ' and to the emergency duty team (it began out of hours)' : d.outOfHours ? ' (it began out of hours)' : ''}; ${d.lookUps} look-up${d.lookUps === 1 ? '' : 's'}`,
  'look-ups-added': (d) =>
    `${d.lookUps} more look-up${d.lookUps === 1 ? '' : 's'}${d.reopenedFrom ? `; back to New (it was “${STATE_LABELS[d.reopenedFrom as EpisodeState]}”)` : ''}${d.toEdt ? '; out of hours, so to the emergency duty team too' : ''}`,
  state: (d) =>
    `${STATE_LABELS[d.from as EpisodeState]} → ${STATE_LABELS[d.to as EpisodeState]}${d.reason ? `: ${d.reason}` : ''}`,
  team: (d) => `Moved from ${d.fromTeam} to ${d.toTeam}`,
  worker: (d) => (d.worker ? `Assigned to ${d.worker}` : 'No longer assigned to anyone'),
};

function eventText(action: string, detail: Record<string, unknown>): string {
  return EVENT_TEXTS[action]?.(detail) ?? action;
}

/**
 * A bar chart as SVG, drawn on the server (it needs no script, prints, and reads without colour:
 * every bar is labelled with its value, and the same numbers are in a table beside it). `mark` draws
 * a dashed line at that value (the go-live threshold).
 */
function barChart(points: { label: string; value: number }[], max: number, mark?: number) {
  const width = 520;
  const height = 230;
  const left = 40;
  const bottom = 40;
  const plotH = height - bottom - 16;
  const right = 28; // room for the newest bar's label
  const step = points.length ? (width - left - right) / points.length : 0;
  const bars = points.map((p, i) => {
    const h = max > 0 ? Math.round((p.value / max) * plotH) : 0;
    return {
      x: Math.round(left + i * step + step * 0.15),
      y: height - bottom - h,
      w: Math.max(2, Math.round(step * 0.7)),
      h,
      label: p.label,
      value: p.value,
      cx: Math.round(left + i * step + step / 2),
      // At most six labels along the axis, counted back from the newest (always labelled), so none overlap.
      showLabel: (points.length - 1 - i) % Math.ceil(points.length / 6) === 0,
    };
  });
  return {
    width,
    height,
    base: height - bottom,
    left,
    bars,
    max,
    mark: mark === undefined ? null : { y: height - bottom - Math.round((mark / max) * plotH), value: mark },
    empty: points.every((p) => p.value === 0),
  };
}
