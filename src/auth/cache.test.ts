import { describe, expect, it } from 'vitest';
import { cachingVerifier } from './cache.ts';
import { DemoTokenService } from './tokens.ts';

const clinician = {
  kind: 'health-user' as const,
  sdsUserId: '555000000101',
  name: 'Dr Priya Shah',
  jobRole: { code: 'R8000', display: 'Clinical Practitioner Access Role' },
  organisation: { odsCode: 'R1H12' },
  activities: ['B0107'],
};

describe('remembering verified tokens', () => {
  it('checks a token once, then answers from memory until it expires', async () => {
    const tokens = await DemoTokenService.ephemeral();
    let checks = 0;
    let clock = Date.now() / 1000;
    const verifier = cachingVerifier(
      {
        verify: (t) => {
          checks++;
          return tokens.verifier.verify(t);
        },
      },
      { now: () => clock, clockToleranceS: 0 },
    );
    const { access_token } = await tokens.issue(clinician, 60);
    const first = await verifier.verify(access_token);
    const second = await verifier.verify(access_token);
    expect(second).toBe(first);
    expect(second).toMatchObject({ kind: 'health-user', sdsUserId: '555000000101' });
    expect(checks).toBe(1);
    clock += 61;
    await verifier.verify(access_token).catch(() => {});
    expect(checks).toBe(2);
  });

  it('never remembers a refusal, and a token differing in any character is checked afresh', async () => {
    const tokens = await DemoTokenService.ephemeral();
    let checks = 0;
    const verifier = cachingVerifier({
      verify: (t) => {
        checks++;
        return tokens.verifier.verify(t);
      },
    });
    const { access_token } = await tokens.issue(clinician);
    await verifier.verify(access_token);
    const tampered = `${access_token.slice(0, -2)}${access_token.endsWith('A') ? 'BB' : 'AA'}`;
    await expect(verifier.verify(tampered)).rejects.toThrow();
    await expect(verifier.verify(tampered)).rejects.toThrow();
    expect(checks).toBe(3);
  });

  it('forgets the least recently used beyond its size', async () => {
    const tokens = await DemoTokenService.ephemeral();
    let checks = 0;
    const verifier = cachingVerifier(
      {
        verify: (t) => {
          checks++;
          return tokens.verifier.verify(t);
        },
      },
      { maxEntries: 2 },
    );
    const [a, b, c] = await Promise.all(
      ['1', '2', '3'].map(
        async (n) => (await tokens.issue({ ...clinician, sdsUserId: `55500000010${n}` })).access_token,
      ),
    );
    for (const t of [a!, b!, a!, c!]) await verifier.verify(t);
    expect(checks).toBe(3); // a, b, c; the second a was remembered
    await verifier.verify(a!); // a was used more recently than b
    expect(checks).toBe(3);
    await verifier.verify(b!); // b was forgotten when c came
    expect(checks).toBe(4);
  });
});
