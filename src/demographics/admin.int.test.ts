/** The demographics administration API's home postcode (PUT and GET /admin/v1/demographics/{nhsNumber}). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../../test/engines.ts';
import { admin, buildTestApp, issueOf, type TestApp } from '../../test/helper.ts';

const ELLA = { familyName: 'GREEN', givenNames: ['Ella'], birthDate: '2020-05-06', gender: 'female' };

describe.each(engines())('the home postcode over the admin API on %s', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(engine);
  });
  afterAll(() => t?.close());

  const get = async (n: string) => (await t.as(admin).get(`/admin/v1/demographics/${n}`)).json();

  it('takes a full postcode in any case, with or without its space, and gives it back normalised', async () => {
    const created = await t
      .as(admin)
      .put('/admin/v1/demographics/9990000344', { ...ELLA, postcode: ' ls13ex ' });
    expect(created.statusCode).toBe(201);
    expect(created.json().postcode).toBe('LS1 3EX');
    expect((await get('9990000344')).postcode).toBe('LS1 3EX');
  });

  it('keeps the postcode when an update leaves it out, and clears it on null', async () => {
    await t.as(admin).put('/admin/v1/demographics/9990000344', ELLA);
    expect((await get('9990000344')).postcode).toBe('LS1 3EX');
    const cleared = await t.as(admin).put('/admin/v1/demographics/9990000344', { ...ELLA, postcode: null });
    expect(cleared.statusCode).toBe(200);
    expect((await get('9990000344')).postcode).toBeNull();
  });

  it.each([['B15'], ['B15*'], ['not a postcode'], [''], ['B15 2TT X']])(
    'refuses %j with 400 naming postcode, and writes nothing',
    async (postcode) => {
      const res = await t.as(admin).put('/admin/v1/demographics/9990000352', { ...ELLA, postcode });
      expect(res.statusCode).toBe(400);
      const issue = issueOf(res);
      expect(issue.field).toBe('postcode');
      expect(issue.text).toMatch(/full UK postcode/);
      expect((await t.as(admin).get('/admin/v1/demographics/9990000352')).statusCode).toBe(404);
    },
  );

  it('refuses a postcode that is not a string', async () => {
    const res = await t.as(admin).put('/admin/v1/demographics/9990000352', { ...ELLA, postcode: 15 });
    expect(res.statusCode).toBe(400);
    expect(issueOf(res).field).toBe('postcode');
  });

  it("never shows a restricted person's postcode, though the register keeps it", async () => {
    const put = await t
      .as(admin)
      .put('/admin/v1/demographics/9990000360', { ...ELLA, sensitive: true, postcode: 'BS1 3NU' });
    expect(put.json()).toMatchObject({ sensitive: true, postcode: null });
    expect((await get('9990000360')).postcode).toBeNull();
    const unrestricted = await t
      .as(admin)
      .put('/admin/v1/demographics/9990000360', { ...ELLA, sensitive: false });
    expect(unrestricted.json().postcode).toBe('BS1 3NU');
  });
});
