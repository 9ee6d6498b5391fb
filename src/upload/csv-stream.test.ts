import { describe, expect, it } from 'vitest';
import { type CsvRow, scanCsv } from './csv-stream.ts';
import { UploadSyntaxError } from './json-stream.ts';

async function rows(chunks: string[]): Promise<CsvRow[]> {
  const out: CsvRow[] = [];
  for await (const r of scanCsv(
    (async function* () {
      yield* chunks;
    })(),
  ))
    out.push(r);
  return out;
}

const text =
  '\uFEFFsubject,nhs_number,given_names\r\nchild,9990000018,"Johnny ""JJ"" James"\r\n\r\nunborn,"9990000026","Tracy,\nAnn"\nchild,,\n';

describe('streaming CSV reader', () => {
  it('reads quoted fields, doubled quotes, commas and line breaks in quotes, CRLF and LF', async () => {
    const whole = await rows([text]);
    expect(whole).toEqual([
      { line: 1, fields: ['subject', 'nhs_number', 'given_names'] },
      { line: 2, fields: ['child', '9990000018', 'Johnny "JJ" James'] },
      { line: 4, fields: ['unborn', '9990000026', 'Tracy,\nAnn'] },
      { line: 6, fields: ['child', '', ''] },
    ]);
    for (let cut = 1; cut < text.length; cut++)
      expect(await rows([text.slice(0, cut), text.slice(cut)])).toEqual(whole);
  });

  it('reads a last row with no line break', async () => {
    expect(await rows(['a,b\nc,"d"'])).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['c', 'd'] },
    ]);
  });

  it.each([
    ['a quote inside an unquoted field', 'a,b"c\n', /line 1/],
    ['text after a closing quote', 'a,"b"c\n', /line 1/],
    ['an unterminated quote', 'a,b\nc,"d\n', /line 2/],
  ])('refuses %s, saying which line', async (_w, t, where) => {
    await expect(rows([t])).rejects.toThrow(UploadSyntaxError);
    await expect(rows([t])).rejects.toThrow(where);
  });
});
