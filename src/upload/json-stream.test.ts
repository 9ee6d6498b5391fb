import { describe, expect, it } from 'vitest';
import { type JsonEvent, RECORDS_STREAMED, scanUploadJson, UploadSyntaxError } from './json-stream.ts';

async function scan(chunks: string[]): Promise<JsonEvent[]> {
  const out: JsonEvent[] = [];
  for await (const e of scanUploadJson(
    (async function* () {
      yield* chunks;
    })(),
  ))
    out.push(e);
  return out;
}

const doc = `{ "records": [ {"nhsNumber":"9990000018","givenNames":["Jo\\"hnny","A]}"],"plans":[{"type":"CPP"}]},
  {"n": 1.5e3, "x": null, "t": true},
  [1, {"a": "}"}] ], "sequence": 7, "mode" : "delta", "extra": {"nested": [1,2,{"k":"v"}]}, "n": -12 }`;

describe('streaming JSON upload reader', () => {
  it('yields members and each record, whatever the chunk boundaries', async () => {
    const whole = await scan([doc]);
    expect(whole).toEqual([
      { kind: 'member', key: 'records', value: RECORDS_STREAMED },
      {
        kind: 'record',
        index: 0,
        value: { nhsNumber: '9990000018', givenNames: ['Jo"hnny', 'A]}'], plans: [{ type: 'CPP' }] },
      },
      { kind: 'record', index: 1, value: { n: 1500, x: null, t: true } },
      { kind: 'record', index: 2, value: [1, { a: '}' }] },
      { kind: 'member', key: 'sequence', value: 7 },
      { kind: 'member', key: 'mode', value: 'delta' },
      { kind: 'member', key: 'extra', value: { nested: [1, 2, { k: 'v' }] } },
      { kind: 'member', key: 'n', value: -12 },
    ]);
    for (let cut = 1; cut < doc.length; cut++) {
      expect(await scan([doc.slice(0, cut), doc.slice(cut)])).toEqual(whole);
    }
    expect(await scan(doc.split(''))).toEqual(whole);
  });

  it('accepts an empty records array, an empty object and a leading byte-order mark', async () => {
    expect(await scan(['\uFEFF{"sequence":1,"records":[]}'])).toHaveLength(2);
    expect(await scan(['{}'])).toEqual([]);
    expect(await scan(['{"sequence":', '12}'])).toEqual([{ kind: 'member', key: 'sequence', value: 12 }]);
  });

  it.each([
    ['not an object', '[1,2]', /must be a JSON object/],
    ['records not an array', '{"records": {"a":1}}', /records must be an array/],
    ['a broken record', '{"records": [{"a": tru}]}', /records\[0\] is not valid JSON/],
    [
      'a missing comma between records',
      '{"records": [{"a":1} {"b":2}]}',
      /expected ',' or '\]' after records\[0\]/,
    ],
    ['a trailing comma', '{"records": [{"a":1},]}', /trailing comma/],
    ['text after the end', '{"sequence": 1} x', /after the end/],
    ['an unterminated file', '{"sequence": 1, "records": [{"a":', /ends/],
    ['a missing colon', '{"sequence" 1}', /expected ':'/],
    ['an unquoted key', '{sequence: 1}', /member name in quotes/],
  ])('refuses %s with a syntax error saying where', async (_w, text, message) => {
    await expect(scan([text])).rejects.toThrow(UploadSyntaxError);
    await expect(scan([text])).rejects.toThrow(message);
  });
});
