/**
 * INTERFACE §1 demo-mode helpers. These routes are only registered in demo mode, so in production
 * mode every /dev/ path answers 404. They are open (no token): they exist to make tokens.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { parsePersona } from '../../auth/personas.ts';
import { invalidValue } from '../../domain/outcomes.ts';
import type { HttpDeps } from '../deps.ts';

const PUBLIC = { allow: 'public' as const };

export function devRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const tokens = deps.demoTokens;
  const clock = deps.settableClock;
  if (!tokens || !clock) throw new Error('dev routes need demo mode');

  app.post('/dev/token', { config: PUBLIC }, async (req) => tokens.issue(parsePersona(req.body)));

  app.get('/dev/clock', { config: PUBLIC }, async () => ({
    now: clock.now().toISOString(),
    fixed: clock.isFixed(),
  }));

  app.post(
    '/dev/clock',
    {
      config: PUBLIC,
      schema: {
        body: Type.Object(
          { now: Type.Unsafe<string | null>({ type: ['string', 'null'] }) },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      const { now } = req.body as { now: string | null };
      if (now === null) clock.set(null);
      else {
        // An instant with an explicit zone, as the contract says: "2027-01-05T09:00:00Z".
        const ok = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(now);
        const t = Date.parse(now);
        if (!ok || Number.isNaN(t))
          throw invalidValue('now', 'now must be an ISO 8601 instant with a zone, or null');
        clock.set(new Date(t));
      }
      return { now: clock.now().toISOString(), fixed: clock.isFixed() };
    },
  );

  const hold = deps.uploadHold;
  const faults = () => ({
    demographics: deps.demographics.available ? 'available' : 'unavailable',
    uploads: hold?.on ? 'hold-mid-file' : 'normal',
    uploadsHeld: hold?.held ?? 0,
  });

  app.get('/dev/faults', { config: PUBLIC }, async () => faults());

  // Each fault is set independently; a body naming none is refused.
  app.post(
    '/dev/faults',
    {
      config: PUBLIC,
      schema: {
        body: Type.Object(
          {
            demographics: Type.Optional(Type.Union([Type.Literal('available'), Type.Literal('unavailable')])),
            uploads: Type.Optional(Type.Union([Type.Literal('normal'), Type.Literal('hold-mid-file')])),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
      },
    },
    async (req) => {
      const body = req.body as {
        demographics?: 'available' | 'unavailable';
        uploads?: 'normal' | 'hold-mid-file';
      };
      if (body.demographics) deps.demographics.setAvailable(body.demographics === 'available');
      if (body.uploads) hold?.set(body.uploads === 'hold-mid-file');
      return faults();
    },
  );
}
