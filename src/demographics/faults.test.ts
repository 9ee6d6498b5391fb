import { describe, expect, it } from 'vitest';
import { nhsNumber } from '../domain/nhs-number.ts';
import { SwitchableDemographics } from './faults.ts';
import { type DemographicsService, DemographicsUnavailable, type TraceContext } from './types.ts';

const ctx: TraceContext = { db: undefined as never };
const query = { familyName: 'JONES', givenName: 'Tracy', birthDate: '2007-03-14' };

describe('SwitchableDemographics', () => {
  const inner: DemographicsService = {
    kind: 'local',
    trace: async (numbers) => new Map(numbers.map((n) => [n, { status: 'not-found', nhsNumber: n }])),
    search: async () => ({ status: 'none' }),
  };

  it('passes trace and search through while on', async () => {
    const d = new SwitchableDemographics(inner);
    expect(d.kind).toBe('local');
    expect((await d.trace([nhsNumber('9990000018')], ctx)).size).toBe(1);
    expect(await d.search(query, ctx)).toEqual({ status: 'none' });
  });

  it('fails trace and search as an outage would while off, and recovers when switched back', async () => {
    const d = new SwitchableDemographics(inner);
    d.setAvailable(false);
    await expect(d.trace([nhsNumber('9990000018')], ctx)).rejects.toBeInstanceOf(DemographicsUnavailable);
    await expect(d.search(query, ctx)).rejects.toBeInstanceOf(DemographicsUnavailable);
    d.setAvailable(true);
    expect(await d.search(query, ctx)).toEqual({ status: 'none' });
  });
});
