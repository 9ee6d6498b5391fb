/**
 * A local authority's upload, from request body to acknowledgement (INTERFACE §3, CPIS.md §4).
 *
 * 1. The body is spooled to a temporary file while its SHA-256 is taken (memory stays bounded
 *    however large the file).
 * 2. A first pass reads the file's structure: sequence, mode, and how often each subject appears.
 *    An unreadable file is refused here (CPF01) before the store is touched.
 * 3. One transaction, under a per-LA lock: the sequence is checked (an exact replay returns the
 *    stored acknowledgement; a reused or lower sequence is a conflict), then a second pass reads the
 *    records in chunks, checks each, traces its chunk against demographics, applies the accepted
 *    ones, and finally records the upload, the LA's current rejections, the acknowledgement in the
 *    mailbox and the audit entries. If demographics cannot answer, nothing is applied (CPF05).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { type Insertable, sql } from 'kysely';
import {
  type AuditEntryInput,
  appendAudit,
  appendStaged,
  type PreparedEntry,
  prepareEntries,
  stageEntries,
} from '../audit/log.ts';
import { type DemographicsService, DemographicsUnavailable, type Trace } from '../demographics/types.ts';
import type { Clock } from '../domain/clock.ts';
import { type IsoDate, londonDateOf } from '../domain/dates.ts';
import { isValidNhsNumber, type NhsNumber, nhsNumber } from '../domain/nhs-number.ts';
import { conflict, OutcomeError, outcome, unavailable } from '../domain/outcomes.ts';
import { isStorableText, memberPath, quoted } from '../domain/validate.ts';
import { loopSharer } from '../loop-share.ts';
import { postMessage } from '../notify/mailbox.ts';
import { insertRows } from '../store/bulk.ts';
import { type Executor, transact } from '../store/db.ts';
import type { UploadStageTable } from '../store/schema.ts';
import { scanCsv } from './csv-stream.ts';
import { RECORDS_STREAMED, scanUploadJson, UploadSyntaxError } from './json-stream.ts';
import { endRecordsAbsentFrom, planRows } from './records.ts';
import {
  decideAgainstDemographics,
  type RawRecord,
  type RecordCode,
  type Rejection,
  readRecord,
  type SubmittedRecord,
  submittedNhsNumber,
} from './rules.ts';
import { newSpoolPath } from './spool.ts';

export type FileCode = 'CPF01' | 'CPF02' | 'CPF03' | 'CPF04' | 'CPF05' | 'CPF06';
export type UploadFormat = 'json' | 'csv';
export type UploadMode = 'delta' | 'snapshot';

export interface RecordAck {
  index: number;
  nhsNumber: string | null;
  localId?: string;
  code: RecordCode;
  field?: string;
  detail?: string;
  message?: string;
  replacementNhsNumber?: string | null;
  /** CSV only: the lines the record came from. */
  lines?: number[];
}

export interface Acknowledgement {
  sequence: number;
  mode: UploadMode;
  fileCode: FileCode;
  received: number;
  accepted: number;
  rejected: number;
  records: RecordAck[];
}

export interface UploadDeps {
  db: Executor;
  clock: Clock;
  demographics: DemographicsService;
  /** Largest body accepted, in bytes. */
  maxBytes?: number;
  /** Demo mode's fault hook: awaited once the first chunk of a file is written, inside its transaction. */
  midFile?: () => Promise<void>;
}

export interface UploadRequest {
  laCode: string;
  actor: Record<string, unknown>;
  format: UploadFormat;
  body: AsyncIterable<Buffer | string>;
  /** Query parameters: CSV carries sequence and mode here; JSON may repeat them (they must agree). */
  sequence?: string;
  mode?: string;
}

export type UploadResult = {
  replay: boolean;
  acknowledgement: Acknowledgement;
  /** The acknowledgement serialised (once: a large file's runs to tens of megabytes). */
  json: string;
};

export const CSV_COLUMNS = [
  'subject',
  'nhs_number',
  'local_id',
  'family_name',
  'given_names',
  'birth_date',
  'plan_type',
  'start_date',
  'end_date',
  'delete_date',
  'expected_delivery_date',
] as const;
/** Columns a CSV file may add: the LA's own team for the child (LA-private routing). */
export const CSV_OPTIONAL_COLUMNS = ['team'] as const;

const CHUNK = 1000;
const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;

/** A file-level refusal (CPF01, CPF05): an OperationOutcome carrying the file code for the contract. */
export function fileRefusal(
  fileCode: 'CPF01' | 'CPF05',
  status: 400 | 413 | 415 | 503,
  text: string,
  field?: string,
  sequence?: number | null,
) {
  const code =
    status === 503
      ? 'transient'
      : status === 413
        ? 'too-long'
        : status === 415
          ? 'not-supported'
          : 'structure';
  return new OutcomeError(outcome(code, text, field ? { field } : {}), {
    fileCode,
    sequence: sequence ?? null,
    received: 0,
    accepted: 0,
    rejected: 0,
    records: [],
  });
}

export async function receiveUpload(deps: UploadDeps, req: UploadRequest): Promise<UploadResult> {
  const spool = newSpoolPath();
  let sequence: number | null = null;
  try {
    const { sha256 } = await spoolBody(req.body, spool, deps.maxBytes ?? DEFAULT_MAX_BYTES);
    const structure = await readStructure(req, spool);
    sequence = structure.sequence;
    return await apply(deps, req, spool, structure, sha256);
  } catch (err) {
    const refusal = asFileRefusal(err, sequence);
    if (!refusal) throw err;
    await tellLaOfRefusal(deps, req, refusal);
    throw refusal;
  } finally {
    await rm(spool, { force: true });
  }
}

/** The file-level refusal an error means (CPF01 unreadable, CPF05 demographics unavailable), if any. */
function asFileRefusal(err: unknown, sequence: number | null): OutcomeError | null {
  if (err instanceof UploadSyntaxError)
    return fileRefusal('CPF01', 400, `the file cannot be read: ${err.message}`, 'body', sequence);
  if (err instanceof DemographicsUnavailable) {
    return fileRefusal(
      'CPF05',
      503,
      `demographics could not be reached, so nothing in this file was applied: resubmit it later (${err.message})`,
      undefined,
      sequence,
    );
  }
  if (err instanceof OutcomeError && err.extra.fileCode) return err;
  return null;
}

/** A file refused as a whole is still acknowledged in the LA's mailbox (and audited), though nothing was applied. */
async function tellLaOfRefusal(deps: UploadDeps, req: UploadRequest, refusal: OutcomeError): Promise<void> {
  const now = deps.clock.now();
  const message = refusal.outcome.issue[0]?.diagnostics ?? '';
  const { fileCode, sequence } = refusal.extra;
  await transact(deps.db, async (trx) => {
    await postMessage(trx, now, req.laCode, 'upload-acknowledgement', {
      sequence,
      fileCode,
      received: 0,
      accepted: 0,
      rejected: 0,
      message,
      records: [],
    });
    await appendAudit(trx, now, [
      {
        category: 'upload',
        action: 'upload',
        outcome: 'failure',
        actor: req.actor,
        detail: { laCode: req.laCode, sequence, fileCode, message },
      },
    ]);
  });
}

async function spoolBody(
  body: AsyncIterable<Buffer | string>,
  path: string,
  maxBytes: number,
): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  // Uploads are UTF-8 text: a file in another encoding would otherwise be read with U+FFFD in place
  // of its letters and applied altered; NUL (UTF-16, or a binary file) cannot be stored at all.
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let bytes = 0;
  await pipeline(
    body,
    async function* (source: AsyncIterable<Buffer | string>) {
      for await (const chunk of source) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        bytes += buf.length;
        if (bytes > maxBytes) {
          throw fileRefusal(
            'CPF01',
            413,
            `the file is larger than the ${Math.round(maxBytes / 1048576)} MB an upload may be`,
          );
        }
        const nul = buf.indexOf(0);
        if (nul >= 0) {
          throw new UploadSyntaxError(
            'the file holds a NUL byte: uploads are UTF-8 text (is it UTF-16?)',
            `at byte ${bytes - buf.length + nul + 1}`,
          );
        }
        try {
          utf8.decode(buf, { stream: true });
        } catch {
          throw new UploadSyntaxError(
            'the file is not UTF-8 text',
            `in bytes ${bytes - buf.length + 1} to ${bytes}`,
          );
        }
        hash.update(buf);
        yield buf;
      }
      try {
        utf8.decode();
      } catch {
        throw new UploadSyntaxError('the file is not UTF-8 text', 'at its end');
      }
    },
    createWriteStream(path, { mode: 0o600 }),
  );
  if (bytes === 0) throw fileRefusal('CPF01', 400, 'the upload body is empty', 'body');
  return { sha256: hash.digest('hex'), bytes };
}

function textOf(path: string): AsyncIterable<string> {
  return createReadStream(path, { encoding: 'utf8', highWaterMark: 256 * 1024 });
}

interface Structure {
  sequence: number;
  mode: UploadMode;
  received: number;
  /** How many records (JSON) or rows (CSV) name each NHS number, as written. */
  counts: Map<string, number>;
  /** CSV: the column order of the header. */
  columns?: string[];
}

/** First pass: everything about the file that does not need the store. */
async function readStructure(req: UploadRequest, path: string): Promise<Structure> {
  const counts = new Map<string, number>();
  let sequence: unknown = req.sequence;
  let mode: unknown = req.mode;
  let received = 0;
  let columns: string[] | undefined;
  // Health queries are answered on this same thread while the file is read.
  const giveWay = loopSharer();
  if (req.format === 'json') {
    let sawRecords = false;
    for await (const e of scanUploadJson(textOf(path))) {
      await giveWay();
      if (e.kind === 'record') {
        received++;
        if (e.value && typeof e.value === 'object') {
          const n = submittedNhsNumber(e.value as RawRecord);
          if (n) counts.set(n, (counts.get(n) ?? 0) + 1);
        }
      } else if (e.key === 'records') {
        if (e.value !== RECORDS_STREAMED) throw new UploadSyntaxError('records must be an array');
        sawRecords = true;
      } else if (e.key === 'sequence') {
        // Only a number or a string can agree with the query (String() of a deeply nested array overflows the stack).
        const given = typeof e.value === 'number' || typeof e.value === 'string' ? String(e.value) : null;
        if (req.sequence !== undefined && given !== req.sequence) {
          throw fileRefusal('CPF01', 400, 'the sequence in the body and in the query disagree', 'sequence');
        }
        sequence = e.value;
      } else if (e.key === 'mode') {
        if (req.mode !== undefined && e.value !== req.mode) {
          throw fileRefusal('CPF01', 400, 'the mode in the body and in the query disagree', 'mode');
        }
        mode = e.value;
      } else {
        throw fileRefusal(
          'CPF01',
          400,
          `${quoted(e.key)} is not a member of an upload (sequence, mode, records)`,
          memberPath('', e.key),
        );
      }
    }
    if (!sawRecords) throw fileRefusal('CPF01', 400, 'records is required', 'records');
  } else {
    for await (const row of scanCsv(textOf(path))) {
      await giveWay();
      if (!columns) {
        columns = row.fields.map((f) => f.trim().toLowerCase());
        const missing = CSV_COLUMNS.filter((c) => !columns!.includes(c));
        const known: readonly string[] = [...CSV_COLUMNS, ...CSV_OPTIONAL_COLUMNS];
        const unknown = columns.filter((c) => !known.includes(c));
        if (unknown.length)
          throw fileRefusal(
            'CPF01',
            400,
            `unknown CSV column(s): ${unknown.map((c) => memberPath('', c)).join(', ')}`,
            'header',
          );
        if (missing.length)
          throw fileRefusal('CPF01', 400, `missing CSV column(s): ${missing.join(', ')}`, 'header');
        if (new Set(columns).size !== columns.length)
          throw fileRefusal('CPF01', 400, 'a CSV column appears twice', 'header');
        continue;
      }
      if (row.fields.length !== columns.length) {
        throw new UploadSyntaxError(
          `a row has ${row.fields.length} fields but the header has ${columns.length}`,
          `line ${row.line}`,
        );
      }
      const n = row.fields[columns.indexOf('nhs_number')]!.replace(/ /g, '');
      counts.set(n, (counts.get(n) ?? 0) + 1);
    }
    if (!columns) throw fileRefusal('CPF01', 400, 'the CSV file has no header row', 'header');
    received = counts.size;
  }
  if (sequence === undefined || sequence === null || sequence === '') {
    throw fileRefusal(
      'CPF01',
      400,
      req.format === 'csv' ? 'the sequence query parameter is required' : 'sequence is required',
      'sequence',
    );
  }
  const seq = typeof sequence === 'string' && /^\d{1,15}$/.test(sequence) ? Number(sequence) : sequence;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
    throw fileRefusal('CPF01', 400, 'sequence must be a whole number, 0 or more', 'sequence');
  }
  const m = mode ?? 'delta';
  if (m !== 'delta' && m !== 'snapshot')
    throw fileRefusal('CPF01', 400, 'mode must be delta or snapshot', 'mode', seq);
  if (m === 'snapshot' && received === 0) {
    throw fileRefusal(
      'CPF01',
      400,
      'an empty snapshot would end every record this local authority holds; send the records, or delta uploads that remove them',
      'records',
      seq,
    );
  }
  return { sequence: seq, mode: m, received, counts, ...(columns ? { columns } : {}) };
}

interface Item {
  index: number;
  at: string;
  raw: unknown;
  nhsNumber: string | null;
  lines?: number[];
  /** CSV: a problem assembling the record from its rows. */
  rowProblem?: Rejection;
}

/** Second pass: the records one at a time, CSV rows grouped into records by NHS number. */
async function* records(req: UploadRequest, path: string, s: Structure): AsyncGenerator<Item> {
  if (req.format === 'json') {
    for await (const e of scanUploadJson(textOf(path))) {
      if (e.kind !== 'record') continue;
      const raw = e.value;
      const n =
        raw && typeof raw === 'object' && !Array.isArray(raw) ? submittedNhsNumber(raw as RawRecord) : null;
      yield { index: e.index, at: `records[${e.index}]`, raw, nhsNumber: n };
    }
    return;
  }
  // CSV: a subject's rows may be anywhere in the file; hold them until the last one has been read.
  const cols = s.columns!;
  const col = (fields: string[], name: string) => fields[cols.indexOf(name)]?.trim() ?? '';
  const pending = new Map<string, { rows: { line: number; fields: string[] }[]; index: number }>();
  let nextIndex = 0;
  let header = true;
  for await (const row of scanCsv(textOf(path))) {
    if (header) {
      header = false;
      continue;
    }
    const n = col(row.fields, 'nhs_number').replace(/ /g, '');
    let group = pending.get(n);
    if (!group) {
      group = { rows: [], index: nextIndex++ };
      pending.set(n, group);
    }
    group.rows.push(row);
    if (group.rows.length === s.counts.get(n)) {
      pending.delete(n);
      yield csvRecord(group.index, n, group.rows, col);
    }
  }
}

function csvRecord(
  index: number,
  n: string,
  rows: { line: number; fields: string[] }[],
  col: (f: string[], c: string) => string,
): Item {
  const at = `records[${index}]`;
  const lines = rows.map((r) => r.line);
  const first = rows[0]!.fields;
  const raw: RawRecord = {
    subject: col(first, 'subject'),
    nhsNumber: col(first, 'nhs_number'),
    localId: col(first, 'local_id'),
    team: col(first, 'team'),
    familyName: col(first, 'family_name'),
    givenNames: col(first, 'given_names'),
    birthDate: col(first, 'birth_date'),
    expectedDeliveryDate: col(first, 'expected_delivery_date'),
  };
  const item: Item = { index, at, raw, nhsNumber: n || null, lines };
  // Every row of one subject must describe the same person.
  for (const r of rows.slice(1)) {
    for (const c of [
      'subject',
      'local_id',
      'team',
      'family_name',
      'given_names',
      'birth_date',
      'expected_delivery_date',
    ]) {
      if (col(r.fields, c) !== col(first, c)) {
        item.rowProblem = {
          code: 'CPR07',
          detail: 'INVALID_VALUE',
          field: `${at}.${camel(c)}`,
          message: `the rows for this subject disagree on ${c} (lines ${lines[0]} and ${r.line})`,
        };
        return item;
      }
    }
  }
  const plans = rows
    .filter((r) =>
      ['plan_type', 'start_date', 'end_date', 'delete_date'].some((c) => col(r.fields, c) !== ''),
    )
    .map((r) => ({
      type: col(r.fields, 'plan_type'),
      startDate: col(r.fields, 'start_date'),
      endDate: col(r.fields, 'end_date') || null,
      deleteDate: col(r.fields, 'delete_date') || null,
    }));
  raw.plans = plans;
  return item;
}

function camel(c: string): string {
  return c.replace(/_([a-z])/g, (_m, ch: string) => ch.toUpperCase());
}

async function apply(
  deps: UploadDeps,
  req: UploadRequest,
  path: string,
  s: Structure,
  sha256: string,
): Promise<UploadResult> {
  const now = deps.clock.now();
  const today = londonDateOf(now);
  // The cheap answers first, before anything is staged: an exact replay, or a sequence already used
  // or passed. (Checked again under the LA's lock when the file is applied.)
  const early = await checkSequence(deps.db, req.laCode, s, sha256);
  if (early) return early;
  const stageId = randomUUID();
  try {
    const staged = await stageFile(deps, req, path, s, now, today, stageId);
    return await applyStaged(deps, req, s, sha256, stageId, staged, today, now);
  } finally {
    await dropStage(deps.db, stageId);
  }
}

/** A replay of the same file returns its acknowledgement; a used or lower sequence is a conflict. */
async function checkSequence(
  db: Executor,
  laCode: string,
  s: Structure,
  sha256: string,
): Promise<UploadResult | null> {
  const previous = await db
    .selectFrom('upload')
    .select(['sequence', 'body_sha256', 'acknowledgement'])
    .where('la_code', '=', laCode)
    .where('sequence', '=', s.sequence)
    .executeTakeFirst();
  if (previous) {
    if (previous.body_sha256 === sha256)
      return {
        replay: true,
        acknowledgement: previous.acknowledgement as Acknowledgement,
        json: JSON.stringify(previous.acknowledgement),
      };
    throw conflict(
      `sequence ${s.sequence} was already processed with a different file; send new content under a higher sequence`,
      'sequence',
    );
  }
  const highest = await db
    .selectFrom('upload')
    .select((eb) => eb.fn.max('sequence').as('max'))
    .where('la_code', '=', laCode)
    .executeTakeFirst();
  if (highest?.max !== null && highest?.max !== undefined && s.sequence < highest.max) {
    throw conflict(
      `sequence ${s.sequence} is lower than ${highest.max}, the highest already processed for this local authority`,
      'sequence',
    );
  }
  return null;
}

/** What staging a file leaves for its apply, besides the staged rows. */
interface Staged {
  acks: RecordAck[];
  /** One entry per chunk of records put (the audit names every number), prepared as each chunk is staged. */
  audit: PreparedEntry[];
}

/**
 * Stage 1: read the file in chunks; check each record, trace the chunk against demographics and
 * write the decisions to `upload_stage`, one statement per chunk, outside any long transaction, so
 * health queries run between chunks. Nobody reads staged rows but the apply.
 */
async function stageFile(
  deps: UploadDeps,
  req: UploadRequest,
  path: string,
  s: Structure,
  now: Date,
  today: IsoDate,
  stageId: string,
): Promise<Staged> {
  // Stamped with the real time, not the service clock: the sweep of files left by a dead process is
  // housekeeping, and a demo clock moved on a day must not sweep a file being staged now.
  await deps.db
    .insertInto('upload_staging')
    .values({ id: stageId, la_code: req.laCode, created_at: new Date() })
    .execute();
  const staged: Staged = { acks: [], audit: [] };
  let batch: Item[] = [];
  // Three chunks are under way at once: one being read and checked, the one before it being traced
  // by demographics, and the one before that being written. At most one trace and one write are in
  // flight; each is waited for before the next is sent, and before staging ends or fails (so a
  // failed file's rows are all written before they are dropped).
  let tracing: CheckedChunk | null = null;
  let writing: Promise<unknown> = Promise.resolve();
  const flush = async () => {
    const traced = tracing;
    tracing = batch.length ? await checkChunk(deps, req, batch, s, today) : null;
    batch = [];
    if (!traced) return;
    const rows = await stageChunk(req, traced, s, now, today, staged, stageId);
    await writing;
    writing = insertRows(deps.db, 'upload_stage', STAGE_TYPES, rows);
    writing.catch(() => {}); // seen when awaited; not an unhandled rejection meanwhile
  };
  const giveWay = loopSharer();
  try {
    for await (const item of records(req, path, s)) {
      await giveWay();
      batch.push(item);
      if (batch.length >= CHUNK) await flush();
    }
    do await flush();
    while (tracing);
    await writing;
  } catch (err) {
    await (tracing as CheckedChunk | null)?.traces.catch(() => {});
    await writing.catch(() => {});
    throw err;
  }
  return staged;
}

const STAGE_TYPES = {
  stage_id: 'uuid',
  idx: 'integer',
  op: 'text',
  nhs_number: 'text',
  clears: 'boolean',
  subject: 'text',
  local_id: 'text',
  team: 'text',
  family_name: 'text',
  given_names: 'text[]',
  birth_date: 'date',
  expected_delivery_date: 'date',
  plans: 'jsonb',
  code: 'text',
  detail: 'text',
  field: 'text',
  message: 'text',
  replacement_nhs_number: 'text',
} as const;

type StageRow = Insertable<UploadStageTable>;

/** A chunk of records read and checked, and the trace of their numbers asked for (perhaps not yet answered). */
interface CheckedChunk {
  decided: { item: Item; record?: SubmittedRecord; rejection?: Rejection }[];
  traces: Promise<Map<string, Trace>>;
}

/**
 * Check a chunk of records and ask demographics about their numbers. The answer is awaited by
 * stageChunk, so the next chunk is read and checked while demographics answers.
 */
async function checkChunk(
  deps: UploadDeps,
  req: UploadRequest,
  items: Item[],
  s: Structure,
  today: IsoDate,
): Promise<CheckedChunk> {
  const giveWay = loopSharer();
  const decided: CheckedChunk['decided'] = [];
  for (const item of items) {
    await giveWay();
    if (item.rowProblem) {
      decided.push({ item, rejection: item.rowProblem });
      continue;
    }
    const read = readRecord(item.raw, item.at, today);
    if (!read.ok) {
      decided.push({ item, rejection: read.rejection });
      continue;
    }
    if ((s.counts.get(item.nhsNumber ?? '') ?? 0) > 1 && req.format === 'json') {
      // The same subject twice in one file: which statement is meant cannot be known, so neither is applied.
      decided.push({
        item,
        rejection: {
          code: 'CPR07',
          detail: 'DUPLICATE_SUBJECT',
          field: `${item.at}.nhsNumber`,
          message: 'this NHS number appears more than once in the file; none of its records was applied',
        },
      });
      continue;
    }
    decided.push({ item, record: read.record });
  }

  const toTrace = [...new Set(decided.flatMap((d) => (d.record ? [d.record.nhsNumber as NhsNumber] : [])))];
  const traces = toTrace.length
    ? deps.demographics.trace(
        toTrace.map((n) => nhsNumber(n)),
        { db: deps.db },
      )
    : Promise.resolve(new Map<string, Trace>());
  traces.catch(() => {}); // seen when stageChunk awaits it; not an unhandled rejection meanwhile
  return { decided, traces };
}

/** A checked chunk's acknowledgements and audit entries, and the rows to stage. */
async function stageChunk(
  req: UploadRequest,
  chunk: CheckedChunk,
  s: Structure,
  now: Date,
  today: IsoDate,
  staged: Staged,
  stageId: string,
): Promise<StageRow[]> {
  const giveWay = loopSharer();
  const { decided } = chunk;
  const traces = await chunk.traces;

  const rows: StageRow[] = [];
  const put: { nhsNumber: string; subject: string; planTypes: string[] }[] = [];
  // Every row has every column, in one order (objects built by spreading a smaller one into a larger
  // one were ten times slower to make); a column the operation does not use is undefined, so the
  // JSON sent leaves it out and it is stored as null.
  const row = (idx: number, op: StageRow['op'], n: string, f: Partial<StageRow> = {}): StageRow => ({
    stage_id: stageId,
    idx,
    op,
    nhs_number: n,
    clears: f.clears ?? false,
    subject: f.subject,
    local_id: f.local_id,
    team: f.team,
    family_name: f.family_name,
    given_names: f.given_names,
    birth_date: f.birth_date,
    expected_delivery_date: f.expected_delivery_date,
    plans: f.plans,
    code: f.code,
    detail: f.detail,
    field: f.field,
    message: f.message,
    replacement_nhs_number: f.replacement_nhs_number,
  });
  for (const d of decided) {
    await giveWay();
    const { item } = d;
    let rejection = d.rejection;
    const record = d.record;
    if (record) {
      const trace = traces.get(record.nhsNumber);
      if (!trace)
        throw new DemographicsUnavailable(`demographics gave no answer for one of the numbers asked about`);
      if (record.removal) {
        // Removing one's own record needs no match: it must work even for a number since made inactive,
        // and a superseded number's record has moved to the replacement.
        rows.push(row(item.index, 'remove', record.nhsNumber, { clears: true }));
        // (Unless the file itself states the replacement: then that statement is what the LA means.)
        if (trace.status === 'superseded' && !s.counts.has(trace.replacementNhsNumber))
          rows.push(row(item.index, 'remove', trace.replacementNhsNumber));
      } else {
        rejection = decideAgainstDemographics(record, trace, item.at, today) ?? undefined;
        if (!rejection) {
          rows.push(
            row(item.index, 'put', record.nhsNumber, {
              subject: record.subject,
              local_id: record.localId,
              team: record.team,
              family_name: record.familyName,
              given_names: record.givenNames,
              birth_date: record.birthDate,
              expected_delivery_date: record.expectedDeliveryDate,
              plans: planRows(record),
            }),
          );
          put.push({
            nhsNumber: record.nhsNumber,
            subject: record.subject,
            planTypes: record.plans.map((p) => p.type),
          });
        }
      }
    }
    const ack: RecordAck = { index: item.index, nhsNumber: item.nhsNumber, code: 'CPR06' };
    const localId = record?.localId ?? rawLocalId(item.raw);
    if (localId) ack.localId = localId;
    if (rejection) {
      ack.code = rejection.code;
      if (rejection.field) ack.field = rejection.field;
      if (rejection.detail) ack.detail = rejection.detail;
      ack.message = rejection.message;
      if (rejection.replacementNhsNumber !== undefined)
        ack.replacementNhsNumber = rejection.replacementNhsNumber;
      if (item.nhsNumber && /^\d{10}$/.test(item.nhsNumber)) {
        rows.push(
          row(item.index, 'reject', item.nhsNumber, {
            local_id: rawLocalId(item.raw),
            code: rejection.code,
            detail: rejection.detail,
            field: rejection.field,
            message: rejection.message,
            replacement_nhs_number: rejection.replacementNhsNumber,
          }),
        );
      }
    }
    if (item.lines) ack.lines = item.lines;
    staged.acks.push(orderAck(ack));
  }
  // Any subject the file names is present (for snapshot mode), even if its record is then rejected:
  // a malformed record must not end what the LA already holds for that child. Every staged number
  // counts; a valid number staged under no other operation is staged as `named`.
  const named = new Set(rows.map((r) => r.nhs_number));
  for (const d of decided) {
    const n = d.item.nhsNumber;
    if (n && isValidNhsNumber(n) && !named.has(n)) {
      named.add(n);
      rows.push(row(d.item.index, 'named', n));
    }
  }
  if (put.length)
    staged.audit.push(
      ...prepareEntries(now, [
        {
          category: 'upload',
          action: 'record.put',
          outcome: 'success',
          actor: req.actor,
          detail: { laCode: req.laCode, sequence: s.sequence, records: put },
        },
      ]),
    );
  return rows;
}

/**
 * Stage 2, one transaction under the LA's lock: check the sequence again, then apply the staged
 * rows set-based (removals, records, plans, the worklist, snapshot ends), record the upload, post
 * the acknowledgement and append the audit entries. The audit chain's head is taken last, so
 * health queries (which append to the same chain) wait for it only at the very end.
 */
async function applyStaged(
  deps: UploadDeps,
  req: UploadRequest,
  s: Structure,
  sha256: string,
  stageId: string,
  staged: Staged,
  today: IsoDate,
  now: Date,
): Promise<UploadResult> {
  const la = req.laCode;
  return transact(
    deps.db,
    async (trx) => {
      // One upload at a time per LA, so sequences are checked and applied in order.
      await sql`select pg_advisory_xact_lock(hashtext(${`cpis-upload:${la}`}))`.execute(trx);
      const again = await checkSequence(trx, la, s, sha256);
      if (again) return again;
      // The staged rows are still whole: the sweep removes a file's header before its rows, and waits
      // for this lock.
      const held = await trx
        .selectFrom('upload_staging')
        .select('id')
        .where('id', '=', stageId)
        .forShare()
        .executeTakeFirst();
      if (!held) throw unavailable('the file was staged too long ago and has been cleared; send it again');
      // The records' audit entries are stored now and chained at the end, so the chain's head (which
      // every health query's answer waits for) is held only to hash and copy them.
      const auditing = await stageEntries(trx, staged.audit);
      const { id: uploadId } = await trx
        .insertInto('upload')
        .values({
          la_code: la,
          sequence: s.sequence,
          body_sha256: sha256,
          mode: s.mode,
          received_at: now,
          file_code: 'CPF01',
          received: 0,
          accepted: 0,
          rejected: 0,
          acknowledgement: '{}',
        })
        .returning('id')
        .executeTakeFirstOrThrow();

      const { rows: removed } = await sql<{ nhs_number: string }>`
        delete from la_record r
         using (select distinct nhs_number from upload_stage where stage_id = ${stageId} and op = 'remove') s
         where r.la_code = ${la} and r.nhs_number = s.nhs_number
        returning r.nhs_number`.execute(trx);
      await sql`delete from la_record r using upload_stage s
         where s.stage_id = ${stageId} and s.op = 'put' and r.la_code = ${la} and r.nhs_number = s.nhs_number`.execute(
        trx,
      );
      await sql`insert into la_record (la_code, nhs_number, subject, local_id, team, family_name, given_names,
          birth_date, expected_delivery_date, upload_id, created_at, updated_at)
        select ${la}, nhs_number, subject, local_id, team, family_name, given_names, birth_date,
               expected_delivery_date, ${uploadId}, ${now}, ${now}
          from upload_stage
         where stage_id = ${stageId} and op = 'put' and jsonb_array_length(plans) > 0`.execute(trx);
      await deps.midFile?.();
      await sql`insert into la_plan (la_code, nhs_number, plan_type, start_date, end_date, visible_until, delete_date)
        select ${la}, s.nhs_number, p.plan_type, p.start_date, p.end_date, p.visible_until, p.delete_date
          from upload_stage s
         cross join jsonb_to_recordset(s.plans)
               as p(plan_type text, start_date date, end_date date, visible_until date, delete_date date)
         where s.stage_id = ${stageId} and s.op = 'put'`.execute(trx);

      // The LA's worklist: what is rejected now, and nothing that has since been accepted.
      await sql`delete from record_rejection r using upload_stage s
         where s.stage_id = ${stageId} and (s.op = 'put' or (s.op = 'remove' and s.clears))
           and r.la_code = ${la} and r.nhs_number = s.nhs_number`.execute(trx);
      await sql`insert into record_rejection (la_code, nhs_number, local_id, code, detail, field, message,
          replacement_nhs_number, upload_id, sequence, rejected_at)
        select distinct on (nhs_number) ${la}, nhs_number, local_id, code, detail, field, message,
               replacement_nhs_number, ${uploadId}::bigint, ${s.sequence}::bigint, ${now}::timestamptz
          from upload_stage
         where stage_id = ${stageId} and op = 'reject'
         order by nhs_number, idx desc
        on conflict (la_code, nhs_number) do update set local_id = excluded.local_id, code = excluded.code,
          detail = excluded.detail, field = excluded.field, message = excluded.message,
          replacement_nhs_number = excluded.replacement_nhs_number, upload_id = excluded.upload_id,
          sequence = excluded.sequence, rejected_at = excluded.rejected_at`.execute(trx);

      const audit: AuditEntryInput[] = [];
      const numbered = (action: string, numbers: string[], extra: Record<string, unknown>) => {
        for (let i = 0; i < numbers.length; i += CHUNK)
          audit.push({
            category: 'upload',
            action,
            outcome: 'success',
            actor: req.actor,
            detail: { laCode: la, sequence: s.sequence, nhsNumbers: numbers.slice(i, i + CHUNK), ...extra },
          });
      };
      numbered(
        'record.remove',
        removed.map((r) => r.nhs_number),
        {},
      );
      if (s.mode === 'snapshot')
        numbered('record.end', await endRecordsAbsentFrom(trx, la, stageId, today), {
          reason: 'absent from snapshot',
        });

      // CSV records complete when their last row is read: give the acknowledgement in file order.
      const acks = staged.acks.sort((a, b) => a.index - b.index);
      const accepted = acks.filter((a) => a.code === 'CPR06').length;
      const received = acks.length;
      const ack: Acknowledgement = {
        sequence: s.sequence,
        mode: s.mode,
        fileCode: received === 0 || accepted === received ? 'CPF02' : accepted === 0 ? 'CPF04' : 'CPF03',
        received,
        accepted,
        rejected: received - accepted,
        records: acks,
      };
      const json = await acknowledgementJson(ack);
      await trx
        .updateTable('upload')
        .set({
          file_code: ack.fileCode,
          received,
          accepted,
          rejected: ack.rejected,
          acknowledgement: json,
        })
        .where('id', '=', uploadId)
        .execute();
      await postMessage(
        trx,
        now,
        la,
        'upload-acknowledgement',
        sql`(select acknowledgement from upload where id = ${uploadId})`,
      );
      audit.push({
        category: 'upload',
        action: 'upload',
        outcome: 'success',
        actor: req.actor,
        detail: {
          laCode: la,
          sequence: s.sequence,
          mode: s.mode,
          fileCode: ack.fileCode,
          received,
          accepted,
          bodySha256: sha256,
        },
      });
      await stageEntries(trx, prepareEntries(now, audit), auditing);
      await appendStaged(trx, auditing);
      return { replay: false, acknowledgement: ack, json };
    },
    0,
  );
}

/**
 * The acknowledgement as JSON, written a thousand records at a time in short turns (a 250,000-record
 * file's runs to tens of megabytes); the same text JSON.stringify gives.
 */
async function acknowledgementJson(ack: Acknowledgement): Promise<string> {
  const giveWay = loopSharer();
  const parts: string[] = [];
  for (let i = 0; i < ack.records.length; i += CHUNK) {
    await giveWay();
    parts.push(
      ack.records
        .slice(i, i + CHUNK)
        .map((r) => JSON.stringify(r))
        .join(','),
    );
  }
  // `records` is the acknowledgement's last member.
  const head = JSON.stringify({ ...ack, records: [] });
  return `${head.slice(0, -2)}${parts.join(',')}]}`;
}

/**
 * Forget a file's staged rows, in short statements so health queries interleave. Never fails the
 * upload: what is left behind is swept later (sweepStaleStages).
 */
async function dropStage(db: Executor, stageId: string): Promise<void> {
  try {
    await clearStage(db, stageId);
  } catch {
    // Left for the sweep.
  }
}

async function clearStage(db: Executor, stageId: string): Promise<void> {
  await db.deleteFrom('upload_staging').where('id', '=', stageId).execute();
  for (;;) {
    const { numAffectedRows } = await sql`delete from upload_stage where ctid in
      (select ctid from upload_stage where stage_id = ${stageId} limit ${STAGE_DELETE_BATCH})`.execute(db);
    if (Number(numAffectedRows ?? 0) < STAGE_DELETE_BATCH) break;
    // The embedded store answers on this thread as microtasks: without a turn of the event loop
    // between deletes, clearing a 20,000-record file held health queries' I/O for 1.3-2.1 s.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const STAGE_DELETE_BATCH = 5000;

/**
 * Staged files a day old (by the real time) belong to a process that died mid-file, and staged rows
 * with no file belong to one that died while clearing them: they go.
 */
export async function sweepStaleStages(db: Executor): Promise<number> {
  const stale = await db
    .selectFrom('upload_staging')
    .select('id')
    .where('created_at', '<', new Date(Date.now() - 86_400_000))
    .execute();
  const { rows: orphans } = await sql<{ id: string }>`select distinct stage_id as id from upload_stage s
    where not exists (select 1 from upload_staging h where h.id = s.stage_id)`.execute(db);
  stale.push(...orphans);
  for (const { id } of stale) await clearStage(db, id);
  return stale.length;
}

function rawLocalId(raw: unknown): string | null {
  const v = raw && typeof raw === 'object' ? (raw as RawRecord).localId : undefined;
  return typeof v === 'string' && v !== '' && isStorableText(v) ? v.slice(0, 100) : null;
}

/** Keys in the contract's order, so acknowledgements read the same every time. */
function orderAck(a: RecordAck): RecordAck {
  const { index, nhsNumber: n, localId, code, field, detail, message, replacementNhsNumber, lines } = a;
  return {
    index,
    nhsNumber: n,
    ...(localId !== undefined ? { localId } : {}),
    code,
    ...(field !== undefined ? { field } : {}),
    ...(detail !== undefined ? { detail } : {}),
    ...(message !== undefined ? { message } : {}),
    ...(replacementNhsNumber !== undefined ? { replacementNhsNumber } : {}),
    ...(lines !== undefined ? { lines } : {}),
  };
}
