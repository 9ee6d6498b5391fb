import { DemoTokenService } from '../src/auth/tokens.ts';
import { loadDemoWorld } from '../src/demo/world.ts';
import { londonDateOf } from '../src/domain/dates.ts';
import type { Engine } from '../src/store/db.ts';
import { findForm, TestBrowser } from '../test/browser.ts';
import { benchChildren, benchService, benchStore } from './engines.ts';
import type { LoadRequest, LoadResult } from './loadgen.ts';
import { line, runLoadgen } from './query.ts';

const CHILDREN = 200;

export interface PortalBenchOptions {
  people: number;
  connections: number;
  seconds: number;
  warmupSeconds: number;
}

export interface PortalFigures {
  flag: LoadResult;
  search: LoadResult;
  api: LoadResult;
}

export async function benchPortal(
  engines: Engine[],
  opts: PortalBenchOptions,
): Promise<Record<string, PortalFigures>> {
  const out: Record<string, PortalFigures> = {};
  for (const engine of engines) {
    const { store, dataDir, cleanup } = await benchStore(engine);
    const tokens = await DemoTokenService.ephemeral();
    const service = await benchService(store, dataDir, tokens, { scheduler: false });
    try {
      const world = await loadDemoWorld(store.db, service.clock.now(), {
        people: opts.people,
        seed: 20261122,
      });
      const la = `Bearer ${(await tokens.issue({ kind: 'local-authority', laCode: 'E09000030' })).access_token}`;
      // 200 children with a plan (Tower Hamlets), each looked at in turn: a child looked at by the
      // same person thousands of times a day is not what a department does (and its history would
      // cost a scan of them all: see the closing note of the portal's issue).
      const today = londonDateOf(service.clock.now());
      const children = await benchChildren(store.db, today, CHILDREN);
      const upload = await service.http.inject({
        method: 'POST',
        url: '/la/v1/uploads',
        headers: { authorization: la },
        payload: {
          sequence: 1,
          records: children.map((c) => ({
            subject: 'child',
            nhsNumber: c.nhs_number,
            familyName: c.family_name,
            givenNames: c.given_names,
            birthDate: c.birth_date,
            plans: [{ type: 'CPP', startDate: '2026-09-01' }],
          })),
        },
      });
      if (upload.json().fileCode !== 'CPF02') throw new Error(`upload failed: ${upload.body}`);

      // Each worker is one member of staff, signed in through the stand-in (in-process), with the
      // confirm page's form in hand; the timed requests then go over loopback HTTP.
      const base = service.url!;
      const staff = await Promise.all(
        Array.from({ length: opts.connections }, async () => {
          const b = new TestBrowser(service.http, base);
          const search = await b.signIn('555000000302');
          const looks: { action: string; body: string }[] = [];
          for (const child of children) {
            const confirm = await b.submit(search, '/search', {
              by: 'nhs-number',
              nhsNumber: child.nhs_number,
            });
            const form = findForm(confirm.html, /\/view$/);
            looks.push({
              action: form.action,
              body: new URLSearchParams({ ...form.hidden, notify: 'yes' }).toString(),
            });
          }
          return { cookie: [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; '), looks };
        }),
      );
      const clinician = `Bearer ${(await tokens.issue({ kind: 'health-user', sdsUserId: '555000000302', name: 'Sam Patel', jobRole: { code: 'R8016', display: 'Registration clerk' }, organisation: { odsCode: 'R1H12' }, activities: ['B0107'] })).access_token}`;

      const plan = {
        base,
        connections: opts.connections,
        warmupMs: opts.warmupSeconds * 1000,
        durationMs: opts.seconds * 1000,
        ttfb: true,
      };
      const form = 'application/x-www-form-urlencoded';
      const flagRequests: LoadRequest[] = staff.flatMap((s) =>
        s.looks.map((l) => ({
          path: l.action,
          method: 'POST' as const,
          headers: { cookie: s.cookie, 'content-type': form },
          body: l.body,
        })),
      );
      const flag = await runLoadgen({ ...plan, requests: flagRequests, requestIds: false });
      const search = await runLoadgen({
        ...plan,
        requests: staff.map((s) => ({ path: '/search', headers: { cookie: s.cookie } })),
        requestIds: false,
      });
      // The API's two calls for the same page, each timed on its own: their sum is the comparison.
      const api = await runLoadgen({
        ...plan,
        requests: children.flatMap((c) => {
          const q = `patient:identifier=https://fhir.nhs.uk/Id/nhs-number%7C${c.nhs_number}`;
          return [
            { path: `/FHIR/R4/CareTeam?${q}`, headers: { authorization: clinician } },
            { path: `/FHIR/R4/AuditEvent?${q}`, headers: { authorization: clinician } },
          ];
        }),
        requestIds: true,
      });
      console.log(
        `portal ${engine}: ${world.people.toLocaleString('en-GB')} people; ${opts.connections} staff at once; time to first byte`,
      );
      console.log(line('flag page (notifying)', flag));
      console.log(line('search page', search));
      console.log(line('API CareTeam|AuditEvent', api));
      console.log(
        `portal ${engine} ratio flag page p50 / (2 x API call p50): ${(flag.p50 / (2 * api.p50)).toFixed(2)}x`,
      );
      out[engine] = { flag, search, api };
    } finally {
      await service.stop();
      await cleanup();
    }
  }
  return out;
}
