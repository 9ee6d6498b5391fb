import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { STORABLE_PATTERN } from '../domain/validate.ts';
import { fieldPath, frameworkErrorHandler, registerErrorHandling, validationOutcome } from './errors.ts';

const expressionOf = (oo: { issue: { expression?: string[] }[] }) => oo.issue[0]?.expression?.[0];

describe('naming the field at fault', () => {
  it('writes JSON pointers as the contract writes fields', () => {
    expect(fieldPath('/records/1/birthDate')).toBe('records[1].birthDate');
    expect(fieldPath('/patternThresholds', 'episodes')).toBe('patternThresholds.episodes');
  });

  it('names an empty, numeric or odd key instead of leaving the field blank or passing it off as an index', () => {
    // Found by fuzzing: {"": 1} was refused with no expression at all; {"9": …} was named [9], an array index.
    expect(fieldPath('', '')).toBe('[""]');
    expect(fieldPath('', '9')).toBe('["9"]');
    expect(fieldPath('/town', 'a.b')).toBe('town["a.b"]');
    expect(fieldPath('/a~1b/c~0d')).toBe('["a/b"]["c~d"]');
    expect(fieldPath('', 'a\u0000b')).toBe('["a\\u0000b"]');
  });

  it('names the body when the body as a whole is wrong, not "request body"', () => {
    const oo = validationOutcome('body', [
      { keyword: 'type', instancePath: '', message: 'must be object', params: {} },
    ]);
    expect(expressionOf(oo)).toBe('body');
    const extra = validationOutcome('querystring', [
      { keyword: 'additionalProperties', instancePath: '', params: { additionalProperty: '' } },
    ]);
    expect(expressionOf(extra)).toBe('[""]');
  });

  it('says text cannot be stored rather than quoting the pattern', () => {
    const oo = validationOutcome('body', [
      {
        keyword: 'pattern',
        instancePath: '/reason',
        message: 'must match pattern',
        params: { pattern: STORABLE_PATTERN },
      },
    ]);
    expect(expressionOf(oo)).toBe('reason');
    expect(oo.issue[0]?.diagnostics).toContain('cannot be stored');
  });
});

describe("Fastify's own refusals before routing", () => {
  // Found by fuzzing: these were Fastify's plain JSON ({"code":"FST_ERR_BAD_URL",…}), not OperationOutcomes.
  async function app() {
    const a = Fastify({ frameworkErrors: frameworkErrorHandler });
    registerErrorHandling(a);
    a.get('/things/:id', async (req) => req.params);
    await a.ready();
    return a;
  }

  it('answers a path that is not percent-encoded UTF-8 with a 400 OperationOutcome naming the path', async () => {
    const a = await app();
    for (const bad of ['%FF', '%ED%A0%80', '%', 'a%2']) {
      const res = await a.inject({ method: 'GET', url: `/things/${bad}` });
      expect(res.statusCode).toBe(400);
      expect(res.json().resourceType).toBe('OperationOutcome');
      expect(expressionOf(res.json())).toBe('path');
    }
    await a.close();
  });

  it('answers a path parameter over the length limit with a 414 OperationOutcome', async () => {
    const a = await app();
    const res = await a.inject({ method: 'GET', url: `/things/${'A'.repeat(500)}` });
    expect(res.statusCode).toBe(414);
    expect(res.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'too-long' }] });
    await a.close();
  });
});
