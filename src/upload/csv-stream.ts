/**
 * A streaming CSV reader (RFC 4180: quoted fields, doubled quotes, commas and line breaks inside
 * quotes, CRLF or LF), yielding one row at a time with the line it starts on. Blank lines are
 * skipped. A quote inside an unquoted field or an unterminated quote is an `UploadSyntaxError`.
 */
import { UploadSyntaxError } from './json-stream.ts';

export interface CsvRow {
  line: number;
  fields: string[];
}

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

export async function* scanCsv(chunks: AsyncIterable<string>): AsyncGenerator<CsvRow> {
  let fields: string[] = [];
  let field = '';
  let inQuotes = false;
  let quoteSeen = false; // the field was quoted (and its closing quote read)
  let afterCr = false;
  let line = 1;
  let rowLine = 1;
  let fieldStarted = false;
  let first = true;

  const endField = () => {
    fields.push(field);
    field = '';
    quoteSeen = false;
    fieldStarted = false;
  };
  function* endRow(): Generator<CsvRow> {
    endField();
    const blank = fields.length === 1 && fields[0] === '' && !quoteSeen;
    if (!blank) yield { line: rowLine, fields };
    fields = [];
  }

  for await (let chunk of chunks) {
    if (first) {
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
      first = chunk.length === 0;
    }
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (inQuotes) {
        if (c === QUOTE) {
          field += chunk.slice(start, i);
          start = i + 1;
          inQuotes = false;
          quoteSeen = true;
        } else if (c === LF) line++;
        continue;
      }
      if (afterCr) {
        afterCr = false;
        if (c === LF) {
          start = i + 1;
          continue;
        }
      }
      if (c === QUOTE) {
        if (quoteSeen) {
          // A doubled quote inside a quoted field: keep one, go back into the quotes.
          field += '"';
          inQuotes = true;
          start = i + 1;
          quoteSeen = false;
          continue;
        }
        if (fieldStarted || i > start) {
          throw new UploadSyntaxError('a quote inside an unquoted field', `line ${line}`);
        }
        inQuotes = true;
        fieldStarted = true;
        start = i + 1;
      } else if (c === COMMA) {
        field += chunk.slice(start, i);
        endField();
        start = i + 1;
      } else if (c === LF || c === CR) {
        field += chunk.slice(start, i);
        yield* endRow();
        line++;
        rowLine = line;
        afterCr = c === CR;
        start = i + 1;
      } else if (quoteSeen) {
        throw new UploadSyntaxError('text after the closing quote of a field', `line ${line}`);
      } else fieldStarted = true;
    }
    if (start < chunk.length) {
      field += chunk.slice(start);
      if (!inQuotes) fieldStarted = true;
    }
  }
  if (inQuotes)
    throw new UploadSyntaxError('a quoted field is not closed before the end of the file', `line ${rowLine}`);
  if (field !== '' || fields.length > 0 || quoteSeen) yield* endRow();
}
