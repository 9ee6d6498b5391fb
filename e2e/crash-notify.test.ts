/**
 * No lost notification: an access answered just before the process dies is delivered after the
 * restart, exactly once, because its notice was written in the access's own transaction.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Persona } from '../src/auth/claims.ts';
import { engines } from '../test/engines.ts';
import {
  callAs,
  freshDatabaseUrl,
  killHard,
  type RunningService,
  startServiceProcess,
  stopGracefully,
} from '../test/processes.ts';

const BHAM = 'E08000025';
const nurse: Persona = {
  kind: 'health-user',
  sdsUserId: '555000000321',
  name: 'Nurse Jane Ward',
  jobRole: { code: 'R8001', display: 'Nurse Access Role' },
  organisation: { odsCode: 'R1H12' },
  activities: ['B0107'],
};

describe.each(engines())('a crash between access and dispatch on %s', (engine) => {
  const running: RunningService[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'cpis-crash-notify-'));
  afterAll(async () => {
    for (const r of running) await stopGracefully(r);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers the access after the restart, exactly once', async () => {
    const env = {
      CPIS_DATA_DIR: dataDir,
      DATABASE_URL: await freshDatabaseUrl(engine),
      CPIS_DEMO_PEOPLE: '50',
    };
    const first = await startServiceProcess(env);
    running.push(first);
    const call = callAs;
    const up = await call(first.url, { kind: 'local-authority', laCode: BHAM }, 'POST', '/la/v1/uploads', {
      sequence: 1,
      records: [
        {
          subject: 'child',
          nhsNumber: '9990000018',
          familyName: 'SMITH',
          givenNames: ['Johnny'],
          birthDate: '2021-05-02',
          plans: [{ type: 'CPP', startDate: '2026-10-01' }],
        },
      ],
    });
    expect(up.body.fileCode).toBe('CPF02');
    // Birmingham is a daily LA: the access waits for tomorrow morning's batch...
    const q = await call(
      first.url,
      nurse,
      'GET',
      '/FHIR/R4/CareTeam?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|9990000018',
      undefined,
      {
        'x-request-id': randomUUID(),
      },
    );
    expect(q.status).toBe(200);
    expect(q.body.total).toBe(1);
    // ...but the process dies first.
    await killHard(first);

    const second = await startServiceProcess(env);
    running.push(second);
    const dispatch = async () =>
      (await call(second.url, { kind: 'admin' }, 'POST', '/admin/v1/notifications/dispatch', { force: true }))
        .body;
    await dispatch();
    await dispatch();
    const la: Persona = { kind: 'local-authority', laCode: BHAM };
    const list = (await call(second.url, la, 'GET', '/la/v1/mailbox')).body.messages as {
      id: string;
      type: string;
    }[];
    const delivered: { nhsNumber: string; accessedBy: { name: string } }[] = [];
    for (const m of list.filter((x) => x.type === 'access-notification')) {
      const msg = (await call(second.url, la, 'GET', `/la/v1/mailbox/${m.id}`)).body as {
        accesses: typeof delivered;
      };
      delivered.push(...msg.accesses);
    }
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ nhsNumber: '9990000018', accessedBy: { name: 'Nurse Jane Ward' } });
  }, 240_000);
});
