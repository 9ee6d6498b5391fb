/** The hazard log names only tests that exist, and names one for every hazard (tools/check-hazard-log.ts). */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkHazardLog, parseHazardLog } from '../tools/check-hazard-log.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('the hazard log', () => {
  it('names, for every hazard, tests that exist', () => {
    const { hazards, problems } = checkHazardLog(root);
    expect(problems).toEqual([]);
    const titles = hazards.map((h) => h.title.toLowerCase());
    for (const hazard of [
      'wrong child flagged',
      'flag missed',
      'stale flag shown',
      'notification lost or duplicated',
      'case detail leaked to health',
      'clinical detail leaked to the la',
      "an la sees another la's child",
      'service unavailable at 2 am',
    ]) {
      expect(titles).toContain(hazard);
    }
  });

  it('fails a log that names a test nobody wrote, or a hazard with no test', () => {
    const log = [
      '### H1 Wrong child flagged',
      '- **Tests:**',
      '  - `src/domain/nhs-number.test.ts` › computes check digits, with 11 meaning 0',
      '  - `src/domain/nhs-number.test.ts` › a test that was deleted',
      '### H2 Flag missed',
      '- **Effect:** none listed',
    ].join('\n');
    expect(parseHazardLog(log).map((h) => h.tests.length)).toEqual([2, 0]);
    expect(checkHazardLog(root, log).problems).toEqual([
      'H1: src/domain/nhs-number.test.ts has no test named "a test that was deleted"',
      'H2 (Flag missed) names no test',
    ]);
  });
});
