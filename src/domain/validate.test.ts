import { describe, expect, it } from 'vitest';
import { isStorableText, memberPath, quoted, requireName } from './validate.ts';

describe('text the store can hold', () => {
  it('refuses NUL and unpaired surrogates, and accepts every other character', () => {
    expect(isStorableText('Siân O\u2019Brien 🙂 محمد \u202e')).toBe(true);
    expect(isStorableText('SMITH\u0000')).toBe(false);
    expect(isStorableText('x\ud800')).toBe(false);
    expect(isStorableText('\udc00x')).toBe(false);
    expect(isStorableText('\udc00\ud800')).toBe(false);
  });

  it('refuses a name with an unpaired surrogate instead of storing it altered (as U+FFFD)', () => {
    expect(() => requireName('familyName', 'SMI\ud800TH')).toThrow(/not allowed in a name/);
    expect(requireName('familyName', ' SMITH  JONES ')).toBe('SMITH JONES');
  });
});

describe('field paths for keys a caller chose', () => {
  it('keeps plain names plain and quotes the rest, escaping what a log or the store would choke on', () => {
    expect(memberPath('records[0]', 'localId')).toBe('records[0].localId');
    expect(memberPath('', 'x')).toBe('x');
    expect(memberPath('', '')).toBe('[""]');
    expect(memberPath('records[0]', 'a b')).toBe('records[0]["a b"]');
    expect(memberPath('', '\u0000')).toBe('["\\u0000"]');
    expect(quoted('A'.repeat(300))).toHaveLength(100 + 3);
  });
});
