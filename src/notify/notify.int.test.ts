import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../../test/engines.ts';
import { admin, buildTestApp, la, T0, type TestApp } from '../../test/helper.ts';
import { sealPlainSecrets, webhookSecretBinding } from '../store/secret-box.ts';
import { signature } from './webhook.ts';

const BHAM = 'E08000025';
const SANDWELL = 'E08000028';
const LEEDS = 'E08000035';

describe.each(engines())('messages to local authorities on %s', (engine) => {
  let t: TestApp;
  let seq = 0;
  const upload = (laCode: string, records: unknown[]) =>
    t.as(la(laCode)).post('/la/v1/uploads', { sequence: ++seq, records });
  const messages = async (laCode: string, type: string) => {
    const list = (await t.as(la(laCode)).get('/la/v1/mailbox')).json().messages as {
      id: string;
      type: string;
    }[];
    const out = [];
    for (const m of list.filter((x) => x.type === type))
      out.push((await t.as(la(laCode)).get(`/la/v1/mailbox/${m.id}`)).json());
    return out;
  };
  const clear = async (laCode: string) => {
    for (const m of (await t.as(la(laCode)).get('/la/v1/mailbox')).json().messages) {
      await t.as(la(laCode)).put(`/la/v1/mailbox/${m.id}/acknowledged`);
    }
  };

  beforeAll(async () => {
    t = await buildTestApp(engine, { demoWorld: true, demoPeople: 10 });
  });
  afterAll(() => t?.close());

  describe('inactive NHS numbers', () => {
    it('tells every LA holding records for a superseded number, with the replacement, and moves the records', async () => {
      await t.as(admin).put('/admin/v1/demographics/9990000190', {
        familyName: 'KHAN',
        givenNames: ['Zara'],
        birthDate: '2015-05-05',
      });
      const zara = {
        subject: 'child',
        nhsNumber: '9990000190',
        localId: 'Z-1',
        familyName: 'KHAN',
        givenNames: ['Zara'],
        birthDate: '2015-05-05',
      };
      await upload(BHAM, [{ ...zara, plans: [{ type: 'CPP', startDate: '2026-06-01' }] }]);
      await upload(SANDWELL, [
        { ...zara, localId: 'S-9', plans: [{ type: 'LAC', startDate: '2026-07-01' }] },
      ]);
      await Promise.all([clear(BHAM), clear(SANDWELL), clear(LEEDS)]);
      expect(
        (
          await t
            .as(admin)
            .post('/admin/v1/demographics/9990000190/supersede', { newNhsNumber: '9990000204' })
        ).statusCode,
      ).toBe(200);
      for (const [laCode, localId, plans] of [
        [BHAM, 'Z-1', ['CPP']],
        [SANDWELL, 'S-9', ['LAC']],
      ] as const) {
        const [m] = await messages(laCode, 'inactive-nhs-number');
        expect(m).toMatchObject({
          type: 'inactive-nhs-number',
          nhsNumber: '9990000190',
          replacementNhsNumber: '9990000204',
          reason: 'superseded',
          localId,
          planTypes: plans,
        });
      }
      expect(await messages(LEEDS, 'inactive-nhs-number')).toEqual([]);
      // From then on, uploads for the old number are CPR05 with the replacement.
      const res = await upload(BHAM, [{ ...zara, plans: [{ type: 'CPP', startDate: '2026-06-01' }] }]);
      expect(res.json().records[0]).toMatchObject({ code: 'CPR05', replacementNhsNumber: '9990000204' });
    });

    it('tells LAs of an invalidated number with no replacement and links nothing', async () => {
      await t.as(admin).put('/admin/v1/demographics/9990000212', {
        familyName: 'HALL',
        givenNames: ['Ben'],
        birthDate: '2018-08-08',
      });
      await upload(BHAM, [
        {
          subject: 'child',
          nhsNumber: '9990000212',
          familyName: 'HALL',
          givenNames: ['Ben'],
          birthDate: '2018-08-08',
          plans: [{ type: 'LAC', startDate: '2026-05-01' }],
        },
      ]);
      await clear(BHAM);
      await t.as(admin).post('/admin/v1/demographics/9990000212/invalidate');
      const [m] = await messages(BHAM, 'inactive-nhs-number');
      expect(m).toMatchObject({
        nhsNumber: '9990000212',
        replacementNhsNumber: null,
        reason: 'invalidated',
        planTypes: ['LAC'],
      });
      const res = await upload(BHAM, [
        {
          subject: 'child',
          nhsNumber: '9990000212',
          familyName: 'HALL',
          givenNames: ['Ben'],
          birthDate: '2018-08-08',
          plans: [{ type: 'LAC', startDate: '2026-05-01' }],
        },
      ]);
      expect(res.json().records[0]).toMatchObject({ code: 'CPR05', replacementNhsNumber: null });
    });
  });

  describe('births', () => {
    it('tells each LA holding a visible UCPP for the mother, with the baby, and no other LA', async () => {
      const tracy = {
        subject: 'unborn',
        nhsNumber: '9990000026',
        familyName: 'JONES',
        givenNames: ['Tracy'],
        birthDate: '2007-03-14',
        expectedDeliveryDate: '2026-12-20',
      };
      await upload(BHAM, [{ ...tracy, localId: 'U-33', plans: [{ type: 'UCPP', startDate: '2026-09-12' }] }]);
      // Sandwell's UCPP ended long ago and is no longer visible: it is not told.
      await upload(SANDWELL, [
        { ...tracy, plans: [{ type: 'UCPP', startDate: '2024-01-01', endDate: '2024-06-01' }] },
      ]);
      await Promise.all([clear(BHAM), clear(SANDWELL)]);
      const res = await t.as(admin).post('/admin/v1/births', {
        motherNhsNumber: '9990000026',
        nhsNumber: '9990000050',
        familyName: 'JONES',
        givenNames: ['Kyle'],
        birthDate: '2026-11-19',
        gender: 'male',
      });
      expect(res.statusCode).toBe(201);
      const [m] = await messages(BHAM, 'birth');
      expect(m).toMatchObject({
        type: 'birth',
        motherNhsNumber: '9990000026',
        localId: 'U-33',
        baby: { nhsNumber: '9990000050', familyName: 'JONES', givenNames: ['Kyle'], birthDate: '2026-11-19' },
      });
      expect(await messages(SANDWELL, 'birth')).toEqual([]);
      // The LA can now end the UCPP and upload a CPP for the baby.
      const next = await upload(BHAM, [
        {
          ...tracy,
          localId: 'U-33',
          plans: [{ type: 'UCPP', startDate: '2026-09-12', endDate: '2026-11-19' }],
        },
        {
          subject: 'child',
          nhsNumber: '9990000050',
          familyName: 'JONES',
          givenNames: ['Kyle'],
          birthDate: '2026-11-19',
          plans: [{ type: 'CPP', startDate: '2026-11-20' }],
        },
      ]);
      expect(next.json().fileCode).toBe('CPF02');
    });
  });

  describe('webhooks', () => {
    let server: Server;
    let received: { headers: IncomingHttpHeaders; body: string }[] = [];
    let failuresLeft = 0;
    const secret = 'a-webhook-secret-of-at-least-32-characters';
    beforeAll(async () => {
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (d) => {
          body += d;
        });
        req.on('end', () => {
          received.push({ headers: req.headers, body });
          res.statusCode = failuresLeft-- > 0 ? 500 : 204;
          res.end();
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('pushes each message signed, retries with backoff after failures, and still keeps it in the mailbox', async () => {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cpis`;
      const put = await t.as(admin).put(`/admin/v1/local-authorities/${LEEDS}`, {
        name: 'Leeds City Council',
        officeHoursPhone: '0113 496 0500',
        emergencyDutyPhone: '07700 900130',
        webhook: { url, secret },
      });
      expect(put.json().webhook).toEqual({ url, secretSet: true });
      expect(put.body).not.toContain(secret);
      received = [];
      failuresLeft = 2;
      await upload(LEEDS, [
        {
          subject: 'child',
          nhsNumber: '9990000018',
          familyName: 'SMITH',
          givenNames: ['Johnny'],
          birthDate: '2021-05-02',
          plans: [{ type: 'CPP', startDate: '2026-10-01' }],
        },
      ]);
      await t.service.scheduler.tick();
      expect(received).toHaveLength(1); // first attempt: 500
      await t.service.scheduler.tick();
      expect(received).toHaveLength(1); // not due again yet
      t.clock.set(new Date(T0.getTime() + 31_000));
      await t.service.scheduler.tick();
      expect(received).toHaveLength(2); // second attempt after 30 s: 500
      t.clock.set(new Date(T0.getTime() + 31_000 + 61_000));
      await t.service.scheduler.tick();
      expect(received).toHaveLength(3); // third attempt after 1 min: 204
      t.clock.set(new Date(T0.getTime() + 3_600_000));
      await t.service.scheduler.tick();
      expect(received).toHaveLength(3); // delivered: never again
      t.clock.set(T0);

      const last = received[2]!;
      const ts = String(last.headers['x-cpis-timestamp']);
      expect(last.headers['x-cpis-signature']).toBe(signature(secret, ts, last.body));
      expect(last.headers['x-cpis-signature']).not.toBe(
        signature('another secret of at least 32 chars!!', ts, last.body),
      );
      const pushed = JSON.parse(last.body);
      expect(pushed).toMatchObject({
        type: 'upload-acknowledgement',
        fileCode: 'CPF02',
        id: last.headers['x-cpis-message-id'],
      });
      const listed = (await t.as(la(LEEDS)).get('/la/v1/mailbox'))
        .json()
        .messages.map((m: { id: string }) => m.id);
      expect(listed).toContain(pushed.id);
    });

    it('keeps the secret sealed at rest and bound to its LA: a copy in another row signs nothing', async () => {
      const db = t.service.store.db;
      const stored = async (code: string) =>
        (
          await db
            .selectFrom('local_authority')
            .select('webhook_secret')
            .where('la_code', '=', code)
            .executeTakeFirstOrThrow()
        ).webhook_secret!;
      const leeds = await stored(LEEDS);
      expect(leeds).toMatch(/^enc:v1:/);
      expect(leeds).not.toContain(secret);
      expect(leeds).not.toContain(Buffer.from(secret).toString('base64url').slice(0, 20));

      // Someone with database rights copies Leeds's sealed secret into Sandwell's row.
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cpis`;
      await t.as(admin).put(`/admin/v1/local-authorities/${SANDWELL}`, {
        name: 'Sandwell Metropolitan Borough Council',
        officeHoursPhone: '0121 569 3100',
        emergencyDutyPhone: '07700 900131',
        webhook: { url, secret: 'sandwell-own-secret-of-32-characters-or-more' },
      });
      await db
        .updateTable('local_authority')
        .set({ webhook_secret: leeds })
        .where('la_code', '=', SANDWELL)
        .execute();
      received = [];
      failuresLeft = 0;
      const before = (await t.as(la(SANDWELL)).get('/la/v1/mailbox')).json().messages.length;
      await upload(SANDWELL, [
        {
          subject: 'child',
          nhsNumber: '9990000026',
          familyName: 'JONES',
          givenNames: ['Amy'],
          birthDate: '2020-02-02',
          plans: [{ type: 'CPP', startDate: '2026-10-01' }],
        },
      ]);
      await t.service.scheduler.tick();
      // Nothing was pushed, the failure says why and it will be tried again; the mailbox has the message.
      expect(received).toHaveLength(0);
      const delivery = await db
        .selectFrom('webhook_delivery')
        .select(['last_error', 'given_up_at', 'delivered_at'])
        .where('la_code', '=', SANDWELL)
        .orderBy('next_attempt_at', 'desc')
        .executeTakeFirstOrThrow();
      expect(delivery.last_error).toMatch(/cannot be decrypted.*CPIS_SECRET_KEY/);
      expect(delivery.given_up_at).toBeNull();
      expect(delivery.delivered_at).toBeNull();
      expect((await t.as(la(SANDWELL)).get('/la/v1/mailbox')).json().messages.length).toBe(before + 1);
      await t.as(admin).put(`/admin/v1/local-authorities/${SANDWELL}`, {
        name: 'Sandwell Metropolitan Borough Council',
        officeHoursPhone: '0121 569 3100',
        emergencyDutyPhone: '07700 900131',
      });
    });

    it('seals a secret an earlier version stored in plain text, at start-up, and still signs with it', async () => {
      const db = t.service.store.db;
      await db
        .updateTable('local_authority')
        .set({ webhook_secret: secret })
        .where('la_code', '=', LEEDS)
        .execute();
      expect(await sealPlainSecrets(db, t.service.deps.secrets)).toBe(1);
      expect(await sealPlainSecrets(db, t.service.deps.secrets)).toBe(0);
      const row = await db
        .selectFrom('local_authority')
        .select('webhook_secret')
        .where('la_code', '=', LEEDS)
        .executeTakeFirstOrThrow();
      expect(row.webhook_secret).toMatch(/^enc:v1:/);
      expect(t.service.deps.secrets.open(row.webhook_secret!, webhookSecretBinding(LEEDS))).toBe(secret);
    });

    it('refuses a webhook without a long enough secret or with a bad URL', async () => {
      const base = {
        name: 'Leeds City Council',
        officeHoursPhone: '0113 496 0500',
        emergencyDutyPhone: '07700 900130',
      };
      const short = await t.as(admin).put(`/admin/v1/local-authorities/${LEEDS}`, {
        ...base,
        webhook: { url: 'https://leeds.example/cpis', secret: 'short' },
      });
      expect(short.statusCode).toBe(400);
      expect(short.json().issue[0].expression).toEqual(['webhook.secret']);
      const bad = await t
        .as(admin)
        .put(`/admin/v1/local-authorities/${LEEDS}`, { ...base, webhook: { url: 'not a url', secret } });
      expect(bad.json().issue[0].expression).toEqual(['webhook.url']);
    });
  });
});
