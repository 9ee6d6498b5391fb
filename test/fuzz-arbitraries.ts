/**
 * fast-check arbitraries for fuzzing the HTTP API: hostile strings, JSON built as text (so keys such
 * as `__proto__` stay own members, and numbers such as `1e400` reach the parser as written), bodies
 * mutated from a valid one, CSV files, and garbage query strings and path segments.
 */
import fc from 'fast-check';

/** Strings that have broken parsers, stores and spreadsheets before. */
export const NASTY_STRINGS: readonly string[] = [
  '',
  ' ',
  '   \t ',
  '\u0000',
  'SMITH\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\udc00\ud800',
  '\u202eHTIMS\u202c',
  'محمد',
  'שָׁלוֹם',
  '\ufeffSMITH',
  'SMI\u200bTH',
  '🙂',
  'e\u0301',
  'Ω≈ç√',
  '\u0085',
  '\u2028',
  "=cmd|' /C calc'!A0",
  '=HYPERLINK("http://x")',
  '+1+1',
  '-2+3',
  '@SUM(A1:A2)',
  '\t=1',
  '"',
  '""',
  '"a,b"',
  "'",
  '\\',
  '\\u0000',
  '\n',
  '\r\n',
  '\r',
  ',',
  ';',
  '|',
  '0',
  '1',
  '-1',
  '1.5',
  '1e309',
  '-0',
  '0x1F',
  '00000000000000000001',
  'NaN',
  'Infinity',
  '-Infinity',
  'null',
  'true',
  'false',
  'undefined',
  '[object Object]',
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  '%00',
  '%ZZ',
  '%E0%A4%A',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  '{}',
  '[]',
  '9990000018',
  '999 000 0018',
  '9990000019',
  '2027-02-30',
  '2026-11-20',
  '9999-12-31',
  '0000-00-00',
  '2026-11-20T10:00:00Z',
  'B15 2TT',
  'E08000025',
  'R1H12',
  'CPP',
  'UCPP',
  'child',
  'unborn',
  'daily',
  'immediate',
  'emergency-department',
  'https://example.org/hook',
  'http://127.0.0.1/',
  'javascript:alert(1)',
];

/** A string of UTF-16 code units that are all surrogate halves (lone, or paired by chance). */
const surrogates = fc.string({
  unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
});
/** Control characters, including NUL. */
const controls = fc.string({ unit: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)) });
const rtl = fc.string({
  unit: fc.constantFrom('\u202e', '\u202d', '\u200f', 'ا', 'ب', 'ש', '\u0301', '\u200d'),
});

export const hugeString = fc
  .tuple(fc.integer({ min: 300, max: 70_000 }), fc.constantFrom('A', 'é', '9', ' ', '🙂'))
  .map(([n, c]) => c.repeat(n));

export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.string() },
  { weight: 2, arbitrary: fc.string({ unit: 'binary' }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme' }) },
  { weight: 1, arbitrary: surrogates },
  { weight: 1, arbitrary: controls },
  { weight: 1, arbitrary: rtl },
  { weight: 1, arbitrary: hugeString },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...NASTY_STRINGS), fc.constantFrom(...NASTY_STRINGS))
      .map(([a, b]) => a + b),
  },
);

/** A JSON value written as text: never through JSON.stringify of an object, so any key survives. */
export class Raw {
  constructor(readonly text: string) {}
}
export type J = null | boolean | number | string | Raw | J[] | { entries: [string, J][] };

export function obj(o: Record<string, J>): { entries: [string, J][] } {
  return { entries: Object.entries(o) };
}

export function toJson(j: J): string {
  if (j instanceof Raw) return j.text;
  if (Array.isArray(j)) return `[${j.map(toJson).join(',')}]`;
  if (j !== null && typeof j === 'object') {
    return `{${j.entries.map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(',')}}`;
  }
  if (typeof j === 'number' && !Number.isFinite(j)) return 'null';
  return JSON.stringify(j);
}

const KEY_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', '', ' ', 'a'];
export const keyArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...KEY_NAMES) },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: nastyString.map((s) => s.slice(0, 300)) },
);

/** Numbers as the parser sees them: big, tiny, negative zero, not-quite-integers, past double range. */
const rawNumber = fc.constantFrom(
  '1e400',
  '-1e400',
  '-0',
  '0.0',
  '1.0',
  '1.5',
  '12345678901234567890123',
  '9007199254740993',
  '-9007199254740993',
  '5e-324',
  '1E2',
);

export const scalar: fc.Arbitrary<J> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  nastyString,
  rawNumber.map((t) => new Raw(t)),
);

/** Any JSON value, nested a few levels, with hostile keys. */
export const jsonValue: fc.Arbitrary<J> = fc.letrec<{ v: J }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('v'), { maxLength: 4 }),
    fc.array(fc.tuple(keyArb, tie('v')), { maxLength: 4 }).map((entries) => ({ entries })),
  ),
})).v;

/** Deeply nested JSON text (arrays or objects), past any sensible depth. */
export const deepJson: fc.Arbitrary<Raw> = fc
  .tuple(fc.integer({ min: 50, max: 2_000 }), fc.boolean())
  .map(([n, arrays]) =>
    arrays ? new Raw('['.repeat(n) + ']'.repeat(n)) : new Raw(`${'{"a":'.repeat(n)}1${'}'.repeat(n)}`),
  );

/**
 * A valid body made invalid (or left alone) in one or more ways: a field dropped, its value
 * replaced with anything, an unknown or prototype-polluting member added, or a nested object's
 * fields mutated the same way. `valid` gives the fields in order; nested objects are mutated too.
 */
export function mutatedBody(valid: fc.Arbitrary<Record<string, J>>): fc.Arbitrary<J> {
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }),
    fc.record({
      kind: fc.constant('replace' as const),
      pick: fc.nat(),
      value: fc.oneof(jsonValue, deepJson),
    }),
    fc.record({ kind: fc.constant('add' as const), key: keyArb, value: jsonValue }),
    fc.record({ kind: fc.constant('nested' as const), pick: fc.nat(), value: jsonValue, key: keyArb }),
  );
  return fc.oneof(
    { weight: 1, arbitrary: valid.map(obj) },
    {
      weight: 8,
      arbitrary: fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([v, ms]) => {
        const entries: [string, J][] = Object.entries(v);
        for (const m of ms) {
          if (m.kind === 'add') {
            entries.push([m.key, m.value]);
            continue;
          }
          if (entries.length === 0) continue;
          const i = m.pick % entries.length;
          if (m.kind === 'drop') entries.splice(i, 1);
          else if (m.kind === 'replace') entries[i] = [entries[i]![0], m.value];
          else {
            const inner = entries[i]![1];
            if (Array.isArray(inner)) {
              entries[i] = [entries[i]![0], [...inner, m.value]];
            } else if (inner && typeof inner === 'object' && !(inner instanceof Raw)) {
              entries[i] = [entries[i]![0], { entries: [...inner.entries, [m.key, m.value]] }];
            } else entries[i] = [entries[i]![0], m.value];
          }
        }
        return { entries } as J;
      }),
    },
    { weight: 1, arbitrary: jsonValue },
  );
}

/** A request body as sent: usually JSON text, sometimes broken JSON, sometimes over the body limit. */
export interface RawBody {
  payload: string | Buffer | undefined;
  contentType: string | undefined;
}

const BROKEN_JSON = [
  '{',
  '}',
  '{"a":}',
  '{"a":1,}',
  "{'a':1}",
  '{"a":1}{"b":2}',
  '{"a":NaN}',
  '{"a":Infinity}',
  '{"a":undefined}',
  '[1,2',
  '"unterminated',
  '\ufeff{}',
  '{"a":"\\x41"}',
  '{"a":"\\ud800"}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  'null',
  'true',
  '0',
  '""',
  ' ',
  '',
];

export const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/fhir+json',
  'APPLICATION/JSON',
  'application/json; charset=latin1',
  'text/plain',
  'text/csv',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/octet-stream',
  'application/json, text/csv',
  ';;;',
  '',
];

export function rawBody(body: fc.Arbitrary<J>, bodyLimit = 1024 * 1024): fc.Arbitrary<RawBody> {
  return fc.oneof(
    { weight: 20, arbitrary: body.map((j) => ({ payload: toJson(j), contentType: 'application/json' })) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(body, fc.constantFrom(...CONTENT_TYPES))
        .map(([j, ct]) => ({ payload: toJson(j), contentType: ct || undefined })),
    },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(...BROKEN_JSON)
        .map((payload) => ({ payload, contentType: 'application/json' })),
    },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => ({
        payload: Buffer.from(b),
        contentType: 'application/json',
      })),
    },
    { weight: 1, arbitrary: fc.constant({ payload: undefined, contentType: undefined }) },
    {
      // Over the body limit: refused before it is parsed.
      weight: 1,
      arbitrary: fc.integer({ min: 1, max: 4096 }).map((extra) => ({
        payload: `"${'x'.repeat(bodyLimit + extra)}"`,
        contentType: 'application/json',
      })),
    },
  );
}

/** A path segment: usually something plausible, often hostile, always percent-encoded byte by byte. */
export function pathSegment(plausible: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...plausible).map(encodeSegment) },
    { weight: 4, arbitrary: nastyString.filter((s) => s !== '').map((s) => encodeSegment(s.slice(0, 40))) },
    { weight: 1, arbitrary: fc.constantFrom('%2F', '..', '.', '%00', ';x', '%20', '%25') },
  );
}

/** Path segments the router itself cannot take: broken percent-encoding, not UTF-8, or too long. */
export const undecodableSegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('%', '%ZZ', '%ED%A0%80', '%FF', '%C0%AF', 'a%2', '%E0%A4%A', '%F4%90%80%80'),
  fc.integer({ min: 101, max: 3000 }).map((n) => 'A'.repeat(n)),
  hugeString.map((s) => encodeSegment(s.slice(0, 2000))).filter((s) => s.length > 300),
);

/** Percent-encode every byte that is not unreserved (lone surrogates become U+FFFD, as UTF-8 does). */
export function encodeSegment(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * A query string built from parameters: known names with plausible or hostile values, unknown
 * names, repeated names, bracket syntax, and broken percent-encoding.
 */
export function queryString(params: Record<string, readonly string[]>): fc.Arbitrary<string> {
  const names = Object.keys(params);
  const pair = fc.oneof(
    {
      weight: 4,
      arbitrary: names.length
        ? fc.constantFrom(...names).chain((n) =>
            fc
              .oneof(
                fc.constantFrom(...params[n]!, ''),
                nastyString.map((s) => s.slice(0, 500)),
              )
              .map((v) => `${encodeSegment(n)}=${encodeSegment(v)}`),
          )
        : fc.constant('x=1'),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(keyArb, nastyString)
        .map(([k, v]) => `${encodeSegment(k)}=${encodeSegment(v.slice(0, 200))}`),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '%',
        '%ZZ=1',
        'a=%ED%A0%80',
        'a=%FF%FE',
        '=',
        '&&',
        '__proto__[polluted]=1',
        'constructor[prototype][x]=1',
        'a[]=1',
        'limit=1&limit=2',
        'a=b=c',
        '%00=%00',
        '+=+',
      ),
    },
  );
  return fc.array(pair, { maxLength: 5 }).map((ps) => (ps.length ? `?${ps.join('&')}` : ''));
}

/** One line of CSV from cells, quoting as a careful or a careless writer would. */
export function csvLine(cells: readonly string[], quoting: 'minimal' | 'all' | 'none'): string {
  return cells
    .map((c) => {
      if (quoting === 'none') return c;
      if (quoting === 'all' || /[",\r\n]/.test(c)) return `"${c.replace(/"/g, '""')}"`;
      return c;
    })
    .join(',');
}
