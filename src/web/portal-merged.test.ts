/**
 * A number PDS has merged into another while the LA's record is still under the old one: the
 * portal must find the plan exactly as the API does (the query follows the merge and reads both
 * numbers), record the access and tell the LA — not show "No CP-IS information".
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestBrowser, textOf } from '../../test/browser.ts';
import { buildTestApp, type TestApp } from '../../test/helper.ts';
import { johnnyCpp, TOWER_HAMLETS, uploadAs } from '../../test/storyboard.ts';
import { LocalRegister } from '../demographics/register.ts';
import type { DemographicsService, Trace, TraceContext } from '../demographics/types.ts';
import type { NhsNumber } from '../domain/nhs-number.ts';

const OLD = johnnyCpp.nhsNumber; // Johnny, whose plan Tower Hamlets holds under this number
const NEW = '9990000093'; // the number PDS now says he is known by

/** The local register, except that PDS has merged OLD into NEW (the store has not heard yet). */
class MergedInPds implements DemographicsService {
  readonly kind = 'pds' as const;
  readonly inner = new LocalRegister();
  merged = false;
  async trace(numbers: readonly NhsNumber[], ctx: TraceContext): Promise<Map<string, Trace>> {
    const out = await this.inner.trace(numbers, ctx);
    if (this.merged && out.has(OLD)) {
      const current = (await this.inner.trace([NEW as NhsNumber], ctx)).get(NEW);
      out.set(OLD, {
        status: 'superseded',
        nhsNumber: OLD,
        replacementNhsNumber: NEW,
        person: current?.status === 'found' ? current.person : null,
      });
    }
    return out;
  }
  search: DemographicsService['search'] = (q, ctx) => this.inner.search(q, ctx);
}

describe('portal look-up of a merged number', () => {
  let t: TestApp;
  const pds = new MergedInPds();

  beforeAll(async () => {
    t = await buildTestApp('pglite', { demoWorld: true, demoPeople: 20, demographics: pds });
    await uploadAs(t, TOWER_HAMLETS, [johnnyCpp]);
    pds.merged = true;
  });
  afterAll(() => t?.close());

  it('finds the plan held under the old number, records the access and tells the LA, as the API does', async () => {
    const b = new TestBrowser(t.service.http);
    const search = await b.signIn('555000000302');
    const confirm = await b.submit(search, '/search', { by: 'nhs-number', nhsNumber: OLD });
    expect(textOf(confirm.html)).toContain('NHS number 999 000 0018 was merged into 999 000 0093');
    const flag = await b.submit(confirm, /\/view$/, { notify: 'yes' });
    const text = textOf(flag.html);
    expect(text).toContain('Child protection plan');
    expect(text).toContain('London Borough of Tower Hamlets has been told');
    const access = await sql<{ queried_nhs_number: string }>`
      select queried_nhs_number from access_event order by accessed_at desc limit 1`.execute(
      t.service.store.db,
    );
    expect(access.rows[0]?.queried_nhs_number).toBe(OLD);
  });
});
