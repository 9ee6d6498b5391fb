/**
 * A streaming reader for upload files in JSON: `{ "sequence": 7, "mode": "delta", "records": [ … ] }`.
 * The top-level members are parsed whole (they are small); each element of `records` is yielded as
 * soon as it is complete, so a file of 250,000 records never sits in memory at once. The structure
 * around the elements is checked here, each element's own syntax by JSON.parse; any fault is an
 * `UploadSyntaxError` naming where it is (CPF01).
 */

export class UploadSyntaxError extends Error {
  constructor(
    message: string,
    readonly where?: string,
  ) {
    super(where ? `${message} (${where})` : message);
    this.name = 'UploadSyntaxError';
  }
}

export type JsonEvent =
  | { kind: 'member'; key: string; value: unknown }
  | { kind: 'record'; index: number; value: unknown };

enum C {
  Tab = 9,
  Lf = 10,
  Cr = 13,
  Space = 32,
  Quote = 34,
  Comma = 44,
  Colon = 58,
  OpenSquare = 91,
  Backslash = 92,
  CloseSquare = 93,
  OpenCurly = 123,
  CloseCurly = 125,
}

type State =
  | 'start' // before the top-level '{'
  | 'key-or-end' // after '{' : a key or '}'
  | 'key' // after ',' : a key
  | 'colon'
  | 'value' // a top-level member's value
  | 'after-value' // ',' or '}'
  | 'element-or-end' // after '[' of records: an element or ']'
  | 'element' // after ',' in records
  | 'after-element' // ',' or ']'
  | 'done';

/** Scan a JSON upload from chunks of text. */
export async function* scanUploadJson(chunks: AsyncIterable<string>): AsyncGenerator<JsonEvent> {
  const s = new Scanner();
  for await (const chunk of chunks) {
    yield* s.feed(chunk);
  }
  yield* s.end();
}

class Scanner {
  private state: State = 'start';
  private key = '';
  private index = 0;
  private offset = 0; // characters consumed before the current buffer
  private buf = '';
  private pos = 0;
  // An unfinished capture (a key, a member value or a record), carried across chunks.
  private capture: string[] | null = null;
  private capKind: 'key' | 'value' | 'element' = 'value';
  private capMode: 'string' | 'nested' | 'primitive' = 'primitive';
  private capStart = 0;
  private capDepth = 0;
  private capInString = false;
  private capEscape = false;

  *feed(chunk: string): Generator<JsonEvent> {
    if (this.capture) {
      // A capture begun at the very end of the last chunk: bank what it has so far.
      this.capture.push(this.buf.slice(this.capStart, this.pos));
      this.capStart = 0;
    }
    this.offset += this.pos;
    this.buf = this.buf.slice(this.pos) + chunk;
    this.pos = 0;
    yield* this.run();
  }

  *end(): Generator<JsonEvent> {
    yield* this.run();
    if (this.capture) {
      // Only a bare number, true, false or null may end at the end of the text.
      if (this.capMode !== 'primitive')
        throw new UploadSyntaxError('the JSON ends inside a value', this.at());
      yield* this.finishCapture(this.buf.length);
    }
    if (this.state !== 'done')
      throw new UploadSyntaxError('the JSON ends before the upload object is complete', this.at());
  }

  private at(): string {
    return `at character ${this.offset + this.pos + 1}`;
  }

  private *run(): Generator<JsonEvent> {
    while (this.pos < this.buf.length) {
      if (this.capture) {
        if (!this.continueCapture()) return;
        yield* this.finishCapture(this.pos);
        continue;
      }
      const c = this.buf.charCodeAt(this.pos);
      if (
        c === C.Space ||
        c === C.Lf ||
        c === C.Cr ||
        c === C.Tab ||
        (c === 0xfeff && this.state === 'start')
      ) {
        this.pos++;
        continue;
      }
      switch (this.state) {
        case 'start':
          if (c !== C.OpenCurly) throw new UploadSyntaxError('an upload must be a JSON object', this.at());
          this.pos++;
          this.state = 'key-or-end';
          break;
        case 'key-or-end':
        case 'key':
          if (c === C.CloseCurly && this.state === 'key-or-end') {
            this.pos++;
            this.state = 'done';
            break;
          }
          if (c !== C.Quote) throw new UploadSyntaxError('expected a member name in quotes', this.at());
          this.beginCapture('key');
          break;
        case 'colon':
          if (c !== C.Colon) throw new UploadSyntaxError(`expected ':' after "${this.key}"`, this.at());
          this.pos++;
          this.state = 'value';
          break;
        case 'value':
          if (this.key === 'records') {
            if (c !== C.OpenSquare) throw new UploadSyntaxError('records must be an array', this.at());
            this.pos++;
            this.state = 'element-or-end';
            this.index = 0;
            yield { kind: 'member', key: 'records', value: RECORDS_STREAMED };
          } else this.beginCapture('value');
          break;
        case 'after-value':
          if (c === C.Comma) this.state = 'key';
          else if (c === C.CloseCurly) this.state = 'done';
          else throw new UploadSyntaxError("expected ',' or '}' between members", this.at());
          this.pos++;
          break;
        case 'element-or-end':
        case 'element':
          if (c === C.CloseSquare) {
            if (this.state === 'element')
              throw new UploadSyntaxError('a trailing comma in records', this.at());
            this.pos++;
            this.state = 'after-value';
            break;
          }
          this.beginCapture('element');
          break;
        case 'after-element':
          if (c === C.Comma) this.state = 'element';
          else if (c === C.CloseSquare) this.state = 'after-value';
          else throw new UploadSyntaxError(`expected ',' or ']' after records[${this.index - 1}]`, this.at());
          this.pos++;
          break;
        case 'done':
          throw new UploadSyntaxError('unexpected text after the end of the upload object', this.at());
      }
    }
  }

  private beginCapture(kind: 'key' | 'value' | 'element'): void {
    const c = this.buf.charCodeAt(this.pos);
    this.capture = [];
    this.capKind = kind;
    this.capStart = this.pos;
    this.capDepth = 0;
    this.capInString = false;
    this.capEscape = false;
    if (c === C.Quote) {
      this.capMode = 'string';
      this.pos++;
    } else if (c === C.OpenCurly || c === C.OpenSquare) {
      this.capMode = 'nested';
      this.capDepth = 1;
      this.pos++;
    } else {
      this.capMode = 'primitive';
    }
  }

  /** Advance through the captured value: true when complete (pos just after it), false at the buffer's end. */
  private continueCapture(): boolean {
    const buf = this.buf;
    const n = buf.length;
    for (let i = this.pos; i < n; i++) {
      const c = buf.charCodeAt(i);
      if (this.capMode === 'string' || this.capInString) {
        if (this.capEscape) this.capEscape = false;
        else if (c === C.Backslash) this.capEscape = true;
        else if (c === C.Quote) {
          if (this.capMode === 'string') {
            this.pos = i + 1;
            return true;
          }
          this.capInString = false;
        }
      } else if (this.capMode === 'primitive') {
        if (
          c === C.Comma ||
          c === C.CloseCurly ||
          c === C.CloseSquare ||
          c === C.Space ||
          c === C.Lf ||
          c === C.Cr ||
          c === C.Tab
        ) {
          this.pos = i;
          return true;
        }
      } else if (c === C.Quote) this.capInString = true;
      else if (c === C.OpenCurly || c === C.OpenSquare) this.capDepth++;
      else if (c === C.CloseCurly || c === C.CloseSquare) {
        if (--this.capDepth === 0) {
          this.pos = i + 1;
          return true;
        }
      }
    }
    // Out of text: keep the piece and wait for the next chunk.
    this.capture!.push(buf.slice(this.capStart));
    this.offset += n;
    this.buf = '';
    this.pos = 0;
    this.capStart = 0;
    return false;
  }

  private *finishCapture(end: number): Generator<JsonEvent> {
    const text = this.capture!.join('') + this.buf.slice(this.capStart, end);
    this.capture = null;
    this.pos = end;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      const what =
        this.capKind === 'element'
          ? `records[${this.index}]`
          : this.capKind === 'key'
            ? 'a member name'
            : `"${this.key}"`;
      throw new UploadSyntaxError(`${what} is not valid JSON: ${(err as Error).message}`);
    }
    if (this.capKind === 'key') {
      this.key = value as string;
      this.state = 'colon';
    } else if (this.capKind === 'value') {
      this.state = 'after-value';
      yield { kind: 'member', key: this.key, value };
    } else {
      this.state = 'after-element';
      yield { kind: 'record', index: this.index++, value };
    }
  }
}

/** The value reported for the `records` member, whose elements arrive as separate events. */
export const RECORDS_STREAMED = Symbol('records streamed');
