/**
 * Signing in and out, as an NHS CIS2 relying party: the authorisation-code flow with PKCE
 * (state, nonce and verifier kept in the server-side session, never in the browser), a new
 * session id once signed in, the role choice CIS2's own role selection makes, and a sign-out that
 * ends the portal session at once and then the identity provider's.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LA_ROLE_LABELS, laRoleOf } from '../auth/la-roles.ts';
import { getLocalAuthority, getOrganisation } from '../directory/directory.ts';
import type { HttpDeps } from '../http/deps.ts';
import { recordStaffEvent } from '../inbox/inbox.ts';
import { canNotify, hasCpisActivity } from '../query/request.ts';
import { httpFacts, laViewerOf, messagePage, type PortalDeps, render, toSignIn, viewerOf } from './portal.ts';
import { SIGN_IN_WINDOW_MS } from './session.ts';

/**
 * Where to go after signing in: a path on this service only. It is resolved as a browser resolves
 * a Location header (which drops tabs and newlines and reads `\\` as `/`), and anything that would
 * leave this origin, or that holds control characters or spaces, goes to the search instead.
 */
export function safeReturnTo(raw: unknown): string {
  const fallback = '/search';
  if (typeof raw !== 'string' || raw.length > 500 || !raw.startsWith('/')) return fallback;
  for (const ch of raw) {
    const code = ch.charCodeAt(0);
    if (code <= 0x20 || code === 0x7f || ch === '\\') return fallback; // controls, spaces, backslashes
  }
  const base = 'https://portal.invalid';
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    return fallback;
  }
  if (url.origin !== base) return fallback;
  const path = url.pathname + url.search;
  if (path === '/' || path.startsWith('/sign-') || path.startsWith('/signed-out')) return fallback;
  return path;
}

const session = { config: { allow: 'session' as const } };

export function signInRoutes(app: FastifyInstance, deps: HttpDeps, portal: PortalDeps): void {
  const signInPage = async (
    req: FastifyRequest,
    reply: FastifyReply,
    extra: Record<string, unknown> = {},
    status = 200,
  ) => {
    const q = req.query as Record<string, string | undefined>;
    return render(
      req,
      reply,
      'sign-in.njk',
      {
        returnTo: safeReturnTo(q.returnTo),
        timedOut: q.timedOut === '1' || req.session.expired,
        signedOut: false,
        idleMinutes: Math.round(portal.idleMs / 60_000),
        signInAvailable: portal.signIn() !== null,
        standIn: portal.standIn !== null,
        ...extra,
      },
      status,
    );
  };

  const landing = async (req: FastifyRequest, reply: FastifyReply) => {
    const user = req.session.user;
    const q = req.query as Record<string, string | undefined>;
    if (user) {
      const returnTo = safeReturnTo(q.returnTo);
      if (!user.selectedRoleId)
        return reply.redirect(`/select-role?returnTo=${encodeURIComponent(returnTo)}`);
      return reply.redirect(returnTo);
    }
    return signInPage(req, reply);
  };
  app.get('/', session, landing);
  app.get('/sign-in', session, landing);
  app.get('/signed-out', session, (req, reply) =>
    // Only someone who is not signed in is told they have signed out.
    req.session.user
      ? reply.redirect('/', 303)
      : signInPage(req, reply, { signedOut: true, timedOut: false }),
  );

  app.get('/sign-in/start', session, async (req, reply) => {
    const client = portal.signIn();
    if (!client) return signInPage(req, reply, {}, 503);
    const start = await client.start();
    req.session.signIn = {
      state: start.state,
      nonce: start.nonce,
      codeVerifier: start.codeVerifier,
      returnTo: safeReturnTo((req.query as Record<string, unknown>).returnTo),
      startedAt: portal.now(),
    };
    return reply.redirect(start.url, 303);
  });

  app.get('/sign-in/callback', session, async (req, reply) => {
    const pending = req.session.signIn;
    const client = portal.signIn();
    if (!client) return signInPage(req, reply, {}, 503);
    if (!pending || portal.now() - pending.startedAt > SIGN_IN_WINDOW_MS) {
      req.session.signIn = undefined;
      return signInPage(
        req,
        reply,
        { problem: 'Sign-in took too long, or was started in another window. Sign in again.' },
        400,
      );
    }
    req.session.signIn = undefined;
    let identity: Awaited<ReturnType<typeof client.finish>>;
    try {
      identity = await client.finish(new URL(req.url, portal.publicUrl()), pending);
    } catch (err) {
      req.log.warn({ err: (err as Error).message }, 'portal sign-in refused');
      return signInPage(
        req,
        reply,
        { problem: 'The identity provider did not confirm who you are. Sign in again.' },
        400,
      );
    }
    // A new session id for the signed-in person: an id known before sign-in is worth nothing after it.
    req.session.regenerate();
    req.session.user = {
      sub: identity.sub,
      sdsUserId: identity.sdsUserId,
      name: identity.name,
      roles: identity.roles,
      selectedRoleId: identity.roles.length === 1 ? identity.roles[0]!.person_roleid : null,
      signedInAt: portal.now(),
      idToken: identity.idToken,
    };
    // The session's CSRF secret is made now, with the session, rather than by whichever page is
    // rendered first: two tabs opening at once cannot then each write a different one.
    req.session._csrf = undefined;
    reply.generateCsrf();
    if (identity.roles.length === 1) {
      await recordRole(req, deps);
      return reply.redirect(pending.returnTo, 303);
    }
    return reply.redirect(`/select-role?returnTo=${encodeURIComponent(pending.returnTo)}`, 303);
  });

  const roleItems = async (req: FastifyRequest, chosen: string | null) => {
    const roles = req.session.user?.roles ?? [];
    const items = [];
    for (const r of roles) {
      const la = laRoleOf(r);
      if (la) {
        const row = await getLocalAuthority(deps.db, la.laCode);
        items.push({
          value: r.person_roleid,
          text: `${LA_ROLE_LABELS[la.role]}${la.team ? ` (${la.team})` : ''}, ${row?.name ?? la.laCode}`,
          hint: { text: `Role profile ${r.person_roleid}: the local authority's CP-IS inbox` },
          checked: chosen === r.person_roleid,
        });
        continue;
      }
      const org = await getOrganisation(deps.db, r.org_code);
      const role = { activities: r.activity_codes };
      const access = canNotify(role)
        ? 'can view CP-IS information; the local authority is told'
        : hasCpisActivity(role)
          ? 'can view CP-IS information without notifying'
          : 'no CP-IS access';
      items.push({
        value: r.person_roleid,
        text: `${r.role_name}, ${org?.name ?? r.org_code}`,
        hint: { text: `Role profile ${r.person_roleid}: ${access}` },
        checked: chosen === r.person_roleid,
      });
    }
    return items;
  };

  const requireUser = async (req: FastifyRequest, reply: FastifyReply) => {
    if (!req.session.user) return toSignIn(req, reply);
  };

  app.get('/select-role', { ...session, preHandler: requireUser }, async (req, reply) => {
    const user = req.session.user!;
    req.viewer = await viewerOf(req, deps);
    if (user.roles.length === 0) {
      return messagePage(req, reply, 403, 'You do not have access', [
        'Your NHS CIS2 account holds no role profile, so you cannot use this service.',
        'Ask your registration authority to give your role CP-IS access.',
      ]);
    }
    return render(req, reply, 'select-role.njk', {
      roleItems: await roleItems(req, user.selectedRoleId),
      returnTo: safeReturnTo((req.query as Record<string, unknown>).returnTo),
    });
  });

  app.post(
    '/select-role',
    { ...session, preHandler: [requireUser, app.csrfProtection] },
    async (req, reply) => {
      const user = req.session.user!;
      const body = (req.body ?? {}) as Record<string, unknown>;
      const role = user.roles.find((r) => r.person_roleid === body.roleId);
      if (!role) {
        req.viewer = await viewerOf(req, deps);
        return render(
          req,
          reply,
          'select-role.njk',
          {
            errors: [{ text: 'Choose the role you are working in', href: `#roleId` }],
            roleItems: await roleItems(req, null),
            returnTo: safeReturnTo(body.returnTo),
          },
          400,
        );
      }
      req.session.user = { ...user, selectedRoleId: role.person_roleid };
      await recordRole(req, deps);
      return reply.redirect(safeReturnTo(body.returnTo), 303);
    },
  );

  app.post(
    '/sign-out',
    {
      ...session,
      preHandler: [
        // Already signed out (or timed out): there is nothing to end, so no form check is needed.
        async (req, reply) => {
          if (!req.session.user) return reply.redirect('/signed-out', 303);
        },
        app.csrfProtection,
      ],
    },
    async (req, reply) => {
      const idToken = req.session.user?.idToken;
      req.session.destroy();
      const client = portal.signIn();
      const url = client ? await client.endSessionUrl(idToken).catch(() => null) : null;
      return reply.redirect(url ?? '/signed-out', 303);
    },
  );
}

/** The role a person works in is part of what the audit trail says about what they did next. */
async function recordRole(req: FastifyRequest, deps: HttpDeps): Promise<void> {
  const staff = await laViewerOf(req, deps);
  if (staff) {
    await recordStaffEvent(deps.db, deps.clock.now(), {
      action: 'portal.sign-in',
      actor: staff.inbox.actor,
      detail: { channel: 'la-portal', roleCount: req.session.user?.roles.length ?? 0, ip: req.ip },
    });
    return;
  }
  const viewer = await viewerOf(req, deps);
  if (!viewer) return;
  await deps.query.record({
    action: 'portal.sign-in',
    principal: viewer.principal,
    status: 200,
    http: httpFacts(req),
    detail: { channel: 'portal', roleCount: req.session.user?.roles.length ?? 0 },
  });
}
