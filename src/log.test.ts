/**
 * Logs never say who a child is: a day of work through the real service, logged at info level,
 * and not one NHS number, name or date of birth from it in the log.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { admin, buildTestApp, clinician, la } from '../test/helper.ts';
import { createLogger, maskNhsNumbers } from './log.ts';

describe('logs', () => {
  it('masks NHS numbers however they are written', () => {
    expect(maskNhsNumbers('/admin/v1/demographics/9990000190/supersede')).toBe(
      '/admin/v1/demographics/[nhs-number]/supersede',
    );
    expect(maskNhsNumbers('999 000 0190 and 999-000-0204')).toBe('[nhs-number] and [nhs-number]');
    // Not part of a longer number (an SDS user id has twelve digits).
    expect(maskNhsNumbers('user 555000000302')).toBe('user 555000000302');
  });

  it('carries no NHS number, name or date of birth at info level after uploads, searches, changes and errors', async () => {
    let text = '';
    const sink = new Writable({
      write(chunk, _enc, done) {
        text += chunk;
        done();
      },
    });
    const t = await buildTestApp('pglite', { scheduler: false, logger: createLogger('info', sink) });
    try {
      const BHAM = 'E08000025';
      await t.as(admin).put(`/admin/v1/local-authorities/${BHAM}`, {
        name: 'Birmingham City Council',
        officeHoursPhone: '0121 496 0500',
        emergencyDutyPhone: '07700 900 100',
      });
      const zara = { familyName: 'QUENTINSON', givenNames: ['Zaraphine'], birthDate: '2015-05-05' };
      expect((await t.as(admin).put('/admin/v1/demographics/9990000190', zara)).statusCode).toBeLessThan(300);
      const up = await t.as(la(BHAM)).post('/la/v1/uploads', {
        sequence: 1,
        records: [
          {
            subject: 'child',
            nhsNumber: '9990000190',
            ...zara,
            plans: [{ type: 'CPP', startDate: '2026-06-01' }],
          },
          // Refused: does not match demographics (the rejection names the field, not the child, in the log).
          {
            subject: 'child',
            nhsNumber: '9990000204',
            familyName: 'ABERCROMBIX',
            givenNames: ['Ysolde'],
            birthDate: '2016-07-08',
            plans: [{ type: 'CPP', startDate: '2026-06-01' }],
          },
        ],
      });
      expect(up.statusCode).toBeLessThan(300);
      const search = (n: string) =>
        t.as(clinician()).get(`/FHIR/R4/CareTeam?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|${n}`, {
          'x-request-id': randomUUID(),
        });
      expect((await search('9990000190')).statusCode).toBe(200);
      expect((await search('9990000191')).statusCode).toBe(400); // a bad check digit
      await t.as(admin).get('/admin/v1/demographics/9990000190');
      await t.as(admin).post('/admin/v1/demographics/9990000190/supersede', { newNhsNumber: '9990000212' });
      await t.anonymous.get('/admin/v1/demographics/9990000190'); // refused
      await t
        .as(admin)
        .put('/admin/v1/demographics/9990000220', { familyName: 'X', birthDate: 'not a date' });
    } finally {
      await t.close();
    }
    expect(text).toContain('"level":30'); // info lines were written
    expect(text).toContain('[nhs-number]'); // paths with NHS numbers were logged, masked
    for (const secret of [
      '9990000190',
      '9990000191',
      '9990000204',
      '9990000212',
      '9990000220',
      'QUENTINSON',
      'Zaraphine',
      'ABERCROMBIX',
      'Ysolde',
      '2015-05-05',
      '2016-07-08',
    ]) {
      expect(text, secret).not.toContain(secret);
    }
  });
});
