/**
 * The audit trail, end to end on both engines: verify the chain over HTTP and with `cpis audit
 * verify`, then tamper with it the way an insider with database rights could (the append-only
 * trigger disabled) and see verification name the entry; export it as FHIR AuditEvents.
 */
import { randomUUID } from 'node:crypto';
import type { AuditEvent, AuditEventAgent, AuditEventEntity } from 'fhir/r4.js';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.ts';
import { engines } from '../../test/engines.ts';
import { expectValidFhir } from '../../test/fhir.ts';
import { admin, buildTestApp, clinician, issueOf, T0, type TestApp } from '../../test/helper.ts';
import { transact } from '../store/db.ts';
import type { AuditLogTable } from '../store/schema.ts';
import { putRecord } from '../upload/records.ts';

const SYS = 'https://fhir.nhs.uk/Id/nhs-number';
const CHILD = '9990000018';

const cli = runCli;

describe.each(engines())('the audit trail on %s', (engine) => {
  let t: TestApp;
  let url: string;

  beforeAll(async () => {
    // No scheduler: nothing else may write to the trail while the tests count its entries.
    t = await buildTestApp(engine, { scheduler: false });
    url = await t.service.http.listen({ host: '127.0.0.1', port: 0 });
    await t.as(admin).put('/admin/v1/local-authorities/E08000025', {
      name: 'Birmingham City Council',
      officeHoursPhone: '0121 496 0500',
      emergencyDutyPhone: '07700 900 100',
    });
    await transact(t.service.store.db, (trx) =>
      putRecord(trx, T0, 0, {
        laCode: 'E08000025',
        nhsNumber: CHILD,
        subject: 'child',
        localId: null,
        familyName: 'SMITH',
        givenNames: ['Johnny'],
        birthDate: '2021-05-02',
        expectedDeliveryDate: null,
        plans: [{ type: 'CPP', startDate: '2026-10-01', endDate: null, deleteDate: null }],
      }),
    );
    // Some history: an unscheduled access, a silent read, a refusal, at three different times.
    for (const [i, persona] of [
      clinician(),
      clinician({ activities: ['B0170'] }),
      clinician({ activities: [] }),
    ].entries()) {
      t.clock.set(new Date(T0.getTime() + i * 3_600_000));
      await t
        .as(persona)
        .get(`/FHIR/R4/CareTeam?patient:identifier=${SYS}|${CHILD}`, { 'x-request-id': randomUUID() });
    }
    t.clock.set(T0);
  });
  afterAll(() => t?.close());

  const db = () => t.service.store.db;

  async function head(): Promise<{ seq: number; hash: string }> {
    const h = await db().selectFrom('audit_head').select(['seq', 'hash']).executeTakeFirstOrThrow();
    return { seq: Number(h.seq), hash: h.hash };
  }

  async function row(seq: number): Promise<AuditLogTable> {
    return db().selectFrom('audit_log').selectAll().where('seq', '=', seq).executeTakeFirstOrThrow();
  }

  /** Run `fn` with the append-only trigger off, as only someone with rights over the database could. */
  async function tamper(fn: () => Promise<unknown>): Promise<void> {
    await sql`alter table audit_log disable trigger audit_log_append_only`.execute(db());
    try {
      await fn();
    } finally {
      await sql`alter table audit_log enable trigger audit_log_append_only`.execute(db());
    }
  }

  async function restore(original: AuditLogTable): Promise<void> {
    await tamper(async () => {
      await db().deleteFrom('audit_log').where('seq', '=', original.seq).execute();
      await db()
        .insertInto('audit_log')
        .values({
          ...original,
          actor: JSON.stringify(original.actor),
          detail: JSON.stringify(original.detail),
        })
        .execute();
    });
  }

  async function verify() {
    const res = await t.as(admin).get('/admin/v1/audit/verify');
    expect(res.statusCode).toBe(200);
    return res.json();
  }

  it('an intact chain: ok, with the count and the head hash', async () => {
    const before = await head();
    const r = await verify();
    expect(r).toEqual({
      ok: true,
      entries: before.seq,
      headSeq: before.seq,
      headHash: before.hash,
      checkpoints: expect.objectContaining({ signaturesChecked: true }),
    });
    // Verifying is itself recorded.
    const after = await row(before.seq + 1);
    expect(after).toMatchObject({ category: 'admin', action: 'audit.verify' });
    expect(after.detail).toMatchObject({ ok: true, entries: before.seq });
  });

  it('the database refuses changes while the trigger is on', async () => {
    await expect(sql`update audit_log set outcome = 'success' where seq = 2`.execute(db())).rejects.toThrow(
      /append-only/,
    );
    await expect(sql`delete from audit_log where seq = 2`.execute(db())).rejects.toThrow(/append-only/);
  });

  it('an altered entry is named', async () => {
    // Entry 2 is the unscheduled search: pass it off as a silent read.
    const original = await row(2);
    expect(original.detail).toMatchObject({ mode: 'unscheduled' });
    await tamper(() =>
      db()
        .updateTable('audit_log')
        .set({ detail: JSON.stringify({ ...(original.detail as object), mode: 'silent' }) })
        .where('seq', '=', 2)
        .execute(),
    );
    expect(await verify()).toMatchObject({ ok: false, seq: 2, problem: 'altered', entriesChecked: 1 });
    await restore(original);
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('an altered entry whose hash was recomputed breaks the link to the next one', async () => {
    const original = await row(2);
    await tamper(() =>
      db()
        .updateTable('audit_log')
        .set({ hash: 'f'.repeat(64) })
        .where('seq', '=', 2)
        .execute(),
    );
    const r = await verify();
    expect(r).toMatchObject({ ok: false, seq: 2, problem: 'altered' });
    await restore(original);
  });

  it('a removed entry is reported as a gap', async () => {
    const original = await row(4);
    await tamper(() => db().deleteFrom('audit_log').where('seq', '=', 4).execute());
    const r = await verify();
    expect(r).toMatchObject({ ok: false, seq: 4, problem: 'missing', entriesChecked: 3 });
    expect(r.message).toMatch(/entry 4 is missing/);
    await restore(original);
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('reordered entries are named', async () => {
    const a = await row(2);
    const b = await row(3);
    await tamper(async () => {
      await db().deleteFrom('audit_log').where('seq', 'in', [2, 3]).execute();
      for (const [r, seq] of [
        [b, 2],
        [a, 3],
      ] as const) {
        await db()
          .insertInto('audit_log')
          .values({ ...r, seq, actor: JSON.stringify(r.actor), detail: JSON.stringify(r.detail) })
          .execute();
      }
    });
    expect(await verify()).toMatchObject({ ok: false, seq: 2, problem: 'broken-link' });
    await restore(a);
    await restore(b);
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('entries cut off the end are reported against the head', async () => {
    const { seq } = await head();
    const last = await row(seq);
    await tamper(() => db().deleteFrom('audit_log').where('seq', '=', seq).execute());
    expect(await verify()).toMatchObject({ ok: false, seq, problem: 'missing' });
    await restore(last);
  });

  it('cpis audit verify: exit 0 when intact, exit 1 naming the entry when not', async () => {
    const ok = await cli(['audit', 'verify'], url);
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^audit trail intact: \d+ entries; head \d+ [0-9a-f]{64}/);
    const original = await row(5);
    await tamper(() =>
      db().updateTable('audit_log').set({ nhs_number: '9990000026' }).where('seq', '=', 5).execute(),
    );
    const broken = await cli(['audit', 'verify'], url);
    expect(broken.code).toBe(1);
    expect(broken.err).toMatch(/audit trail BROKEN at entry 5 \(altered\)/);
    await restore(original);
  });

  it('cpis audit export: NDJSON AuditEvents on stdout, for the range asked', async () => {
    const since = new Date(T0.getTime() + 3_600_000).toISOString();
    const until = new Date(T0.getTime() + 7_200_000).toISOString();
    const r = await cli(['audit', 'export', '--since', since, '--until', until], url);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const events = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditEvent);
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.resourceType === 'AuditEvent' && e.recorded === since)).toBe(true);
    const bad = await cli(['audit', 'export', '--since', 'last tuesday'], url);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/since must be an ISO 8601 instant/);
  });

  it('only an administrator may verify or export', async () => {
    const res = await t.as(clinician()).get('/admin/v1/audit/verify');
    expect(res.statusCode).toBe(403);
    expect((await t.as(clinician()).get('/admin/v1/audit/export')).statusCode).toBe(403);
  });

  describe('export as FHIR AuditEvents (NDJSON)', () => {
    async function exported(qs = ''): Promise<AuditEvent[]> {
      const res = await t.as(admin).get(`/admin/v1/audit/export${qs}`);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/fhir\+ndjson/);
      const lines = res.body.split('\n');
      expect(lines.pop()).toBe('');
      return lines.map((l) => JSON.parse(l) as AuditEvent);
    }

    it('every line a valid AuditEvent; searches in the BALP patient-query shape, disclosures too', async () => {
      const events = await exported();
      for (const e of events) expectValidFhir(e);
      const queries = events.filter((e) => e.subtype?.some((c) => c.code === 'CareTeam.search'));
      const [unscheduled, silent, refused, disclosure] = [
        queries.find((e) => !e.id!.endsWith('-disclosure') && e.outcome === '0'),
        queries.filter((e) => !e.id!.endsWith('-disclosure') && e.outcome === '0')[1],
        queries.find((e) => e.outcome === '4'),
        queries.find((e) => e.id!.endsWith('-disclosure')),
      ];
      expect(unscheduled).toMatchObject({
        meta: {
          profile: ['https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientQuery'],
        },
        type: { code: 'rest' },
        action: 'E',
        recorded: T0.toISOString(),
      });
      expect(unscheduled!.agent.map((a: AuditEventAgent) => a.type?.coding?.[0]?.code)).toEqual([
        '110153',
        '110152',
        'IRCP',
      ]);
      const entity = (code: string) =>
        unscheduled!.entity!.find((x: AuditEventEntity) => x.role?.code === code)!;
      expect(entity('1').what!.identifier).toEqual({ system: SYS, value: CHILD });
      expect(Buffer.from(entity('24').query!, 'base64').toString()).toBe(
        `GET /FHIR/R4/CareTeam?patient:identifier=${SYS}|${CHILD}`,
      );
      expect(silent).toBeDefined();
      expect(refused).toMatchObject({ outcome: '4' });
      expect(refused!.meta).toBeUndefined();
      expect(refused!.outcomeDesc).toMatch(/ACCESS_DENIED/);
      // One disclosure: the unscheduled search and the silent one disclosed the plan; the refusal did not.
      expect(queries.filter((e) => e.id!.endsWith('-disclosure'))).toHaveLength(2);
      expect(disclosure).toMatchObject({
        meta: {
          profile: [
            'https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PrivacyDisclosure.Source',
          ],
        },
        type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110106' },
        action: 'R',
      });
    });

    it('since and until select by the time recorded', async () => {
      const hour = (h: number) => new Date(T0.getTime() + h * 3_600_000).toISOString();
      const events = await exported(`?since=${hour(1)}&until=${hour(2)}`);
      const searches = events.filter((e) => e.subtype?.some((c) => c.code === 'CareTeam.search'));
      expect(searches.length).toBeGreaterThan(0);
      expect(new Set(searches.map((e) => e.recorded))).toEqual(new Set([hour(1)]));
    });

    it('each exported entry names its place in the chain', async () => {
      const events = await exported();
      const first = events.find((e) => e.id === 'cpis-audit-1')!;
      const chain = first.entity!.find((x) => x.what?.identifier?.system === 'urn:open-cpis:audit-log')!;
      const stored = await row(1);
      expect(chain.detail).toEqual([
        { type: 'seq', valueString: '1' },
        { type: 'hash', valueString: stored.hash },
        { type: 'prev_hash', valueString: stored.prev_hash },
      ]);
    });

    it('refuses an unreadable range', async () => {
      const res = await t.as(admin).get('/admin/v1/audit/export?since=yesterday');
      expect(res.statusCode).toBe(400);
      expect(issueOf(res).field).toBe('since');
      const backwards = await t
        .as(admin)
        .get(`/admin/v1/audit/export?since=2026-11-21T00:00:00Z&until=2026-11-20T00:00:00Z`);
      expect(issueOf(backwards).field).toBe('until');
    });
  });
});
