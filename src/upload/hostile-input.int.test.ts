/**
 * Upload input found by fuzzing (src/http/fuzz.test.ts) to crash the service (500) or be stored
 * altered. Each is now refused, naming where, and nothing of it is applied.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../../test/engines.ts';
import { admin, buildTestApp, issueOf, la, type TestApp } from '../../test/helper.ts';
import { johnnyCpp } from '../../test/storyboard.ts';

const BHAM = 'E08000025';
const HEADER =
  'subject,nhs_number,local_id,family_name,given_names,birth_date,plan_type,start_date,end_date,delete_date,expected_delivery_date';
const JOHNNY_ROW = 'child,9990000018,C-1042,SMITH,Johnny,2021-05-02,CPP,2026-10-01,,,';
const johnny = johnnyCpp;

describe.each(engines())('hostile uploads on %s', (engine) => {
  let t: TestApp;
  let seq = 0;
  beforeAll(async () => {
    t = await buildTestApp(engine, { scheduler: false });
    await t.as(admin).put('/admin/v1/demographics/9990000018', {
      familyName: 'SMITH',
      givenNames: ['Johnny'],
      birthDate: '2021-05-02',
    });
  });
  afterAll(() => t?.close());

  const records = async () =>
    (await sql<{ n: number }>`select count(*)::int as n from la_record`.execute(t.service.store.db)).rows[0]!
      .n;
  const csv = (payload: string | Buffer) =>
    t.as(la(BHAM)).inject({
      method: 'POST',
      url: `/la/v1/uploads?sequence=${++seq}`,
      payload,
      headers: { 'content-type': 'text/csv' },
    });
  const json = (payload: string, query = '') =>
    t.as(la(BHAM)).inject({
      method: 'POST',
      url: `/la/v1/uploads${query}`,
      payload,
      headers: { 'content-type': 'application/json' },
    });

  it('refuses a UTF-16 CSV file (NUL bytes) as unreadable instead of failing to store its refusal (was 500)', async () => {
    const text = `${HEADER}\n${JOHNNY_ROW}\n`;
    const res = await csv(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    expect(res.statusCode).toBe(400);
    expect(res.json().fileCode).toBe('CPF01');
    expect(issueOf(res).field).toBe('body');
    expect(await records()).toBe(0);
  });

  it('refuses a CSV file that is not UTF-8 rather than applying its names with U+FFFD in them', async () => {
    const res = await csv(
      Buffer.from(`${HEADER}\nchild,9990000018,C-\xe9,SMITH,Johnny,2021-05-02,CPP,2026-10-01,,,\n`, 'latin1'),
    );
    expect(res.statusCode).toBe(400);
    expect(issueOf(res).text).toContain('not UTF-8');
    expect(await records()).toBe(0);
  });

  it('refuses a deeply nested sequence that disagrees with the query (was 500: String() overflowed the stack)', async () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const res = await json(`{"sequence":${deep},"records":[]}`, '?sequence=1');
    expect(res.statusCode).toBe(400);
    expect(issueOf(res).field).toBe('sequence');
  });

  it('names an empty top-level member instead of refusing with no field', async () => {
    const res = await json(`{"sequence":${++seq},"records":[],"":1}`);
    expect(res.statusCode).toBe(400);
    expect(issueOf(res).field).toBe('[""]');
  });

  it('rejects records whose text cannot be stored, naming the field, and applies nothing of them', async () => {
    const body = {
      sequence: ++seq,
      records: [
        { ...johnny, localId: 'C-\u0000' },
        { ...johnny, nhsNumber: '9990000026', familyName: 'SMITH\u0000' },
        { ...johnny, nhsNumber: '9990000034', givenNames: ['J\ud800'] },
        { ...johnny, nhsNumber: '9990000042', 'a\u0000b': 1 },
      ],
    };
    const res = await json(JSON.stringify(body));
    expect(res.statusCode).toBe(200);
    const ack = res.json();
    expect(ack.accepted).toBe(0);
    expect(ack.records.map((r: { field: string }) => r.field)).toEqual([
      'records[0].localId',
      'records[1].familyName',
      'records[2].givenNames[0]',
      'records[3]["a\\u0000b"]',
    ]);
    expect(await records()).toBe(0);
    // The acknowledgement reached the mailbox too (it could not be stored before).
    const box = await t.as(la(BHAM)).get('/la/v1/mailbox');
    expect(box.json().messages.length).toBeGreaterThan(0);
  });

  it('still accepts a good record after all that', async () => {
    const res = await json(
      JSON.stringify({ sequence: ++seq, records: [{ ...johnny, localId: "=cmd|' /C calc'!A0" }] }),
    );
    expect(res.json().accepted).toBe(1);
    const { rows } = await sql<{ local_id: string }>`select local_id from la_record`.execute(
      t.service.store.db,
    );
    expect(rows).toEqual([{ local_id: "=cmd|' /C calc'!A0" }]);
  });
});
