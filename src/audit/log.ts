/**
 * The tamper-evident audit trail. Entries are appended inside the caller's transaction, so an
 * audited action and its audit entry commit together or not at all. Each entry's hash is
 * SHA-256 over the previous entry's hash and a canonical encoding of the entry; the chain head is
 * a single locked row, so entries chain in commit order even with several processes on one
 * PostgreSQL. The database refuses UPDATE, DELETE and TRUNCATE on the log (a trigger).
 */
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { escapeUnstorable } from '../domain/validate.ts';
import { insertJson } from '../store/bulk.ts';
import type { Tx } from '../store/db.ts';

const AUDIT_COLUMNS = {
  seq: 'bigint',
  recorded_at: 'timestamptz',
  category: 'text',
  action: 'text',
  outcome: 'text',
  actor: 'jsonb',
  nhs_number: 'text',
  detail: 'jsonb',
  prev_hash: 'text',
  hash: 'text',
} as const;

export type AuditCategory =
  | 'query'
  | 'upload'
  | 'admin'
  | 'mailbox'
  | 'access-denied'
  | 'system'
  | 'casework';
export type AuditOutcome = 'success' | 'failure' | 'refused';

export interface AuditEntryInput {
  category: AuditCategory;
  /** What was done, e.g. `demographics.put`, `CareTeam.search`, `upload`. */
  action: string;
  outcome: AuditOutcome;
  actor: Record<string, unknown>;
  nhsNumber?: string | null;
  detail?: Record<string, unknown>;
}

export interface AuditEntry {
  seq: number;
  recordedAt: Date;
  category: string;
  action: string;
  outcome: string;
  actor: unknown;
  nhsNumber: string | null;
  detail: unknown;
}

export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted at every level and no whitespace: one byte string per value. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value))
      throw new Error('non-finite number in audit entry');
    return JSON.stringify(value ?? null);
  }
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

export function entryHash(prevHash: string, e: AuditEntry): string {
  const body = canonicalJson({
    seq: e.seq,
    recordedAt: e.recordedAt.toISOString(),
    category: e.category,
    action: e.action,
    outcome: e.outcome,
    actor: e.actor,
    nhsNumber: e.nhsNumber,
    detail: e.detail,
  });
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}

/**
 * canonicalJson of a value as JSON.stringify sees it (toJSON called, undefined and functions left
 * out, NaN and infinities as null), with its text — strings and keys — as it can be stored
 * (escapeUnstorable): exactly what jsonb gives back and verification hashes, in one pass.
 */
function storableJson(value: unknown, key = ''): string | undefined {
  let v = value;
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function')
    v = (v as { toJSON(key: string): unknown }).toJSON(key);
  switch (typeof v) {
    case 'string':
      return JSON.stringify(escapeUnstorable(v));
    case 'number':
      return JSON.stringify(v); // NaN and the infinities as null, as JSON writes them
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      throw new TypeError('a BigInt cannot be written in an audit entry');
    case 'object':
      break;
    default:
      return undefined; // undefined, a function or a symbol: left out, as JSON.stringify does
  }
  if (v === null) return 'null';
  if (v instanceof Number || v instanceof String || v instanceof Boolean) return storableJson(v.valueOf());
  if (Array.isArray(v)) return `[${v.map((item, i) => storableJson(item, String(i)) ?? 'null').join(',')}]`;
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.some((k) => escapeUnstorable(k) !== k)) return escapedKeysJson(obj, keys);
  keys.sort();
  let out = '{';
  for (const k of keys) {
    const member = storableJson(obj[k], k);
    if (member !== undefined) out += `${out.length > 1 ? ',' : ''}${JSON.stringify(k)}:${member}`;
  }
  return `${out}}`;
}

/** storableJson of an object some of whose keys must be escaped (rare: a hostile request's field names). */
function escapedKeysJson(obj: Record<string, unknown>, keys: readonly string[]): string {
  // Two keys that read the same once escaped: the later one stands, as when JSON is read back.
  const members = new Map<string, string>();
  for (const k of keys) {
    const member = storableJson(obj[k], k);
    if (member !== undefined) members.set(escapeUnstorable(k), member);
  }
  return `{${[...members.keys()]
    .sort()
    .map((k) => `${JSON.stringify(k)}:${members.get(k)}`)
    .join(',')}}`;
}

/**
 * An entry made ready to chain: its canonical text and its row, as text, all but its place in the
 * chain. Preparing is the costly part of sealing (an upload's entries name 250,000 records), so it
 * is done before the chain head is locked; sealing under the lock only hashes and joins text.
 */
export interface PreparedEntry {
  /** canonicalJson of the entry without its seq's value: seq sorts last, so the text ends `"seq":`. */
  canonicalHead: string;
  /** Its audit_log row as JSON, without the closing brace; seq and the hashes are added when sealed. */
  rowHead: string;
}

export function prepareEntries(recordedAt: Date, entries: readonly AuditEntryInput[]): PreparedEntry[] {
  const at = JSON.stringify(recordedAt.toISOString());
  return entries.map((input) => {
    // What is hashed is exactly what jsonb will give back, with text the database cannot store (NUL,
    // lone surrogates) written out as escapes: an entry about a hostile request must never fail to be written.
    const actor = storableJson(input.actor) ?? 'null';
    const detail = storableJson(input.detail ?? {}) ?? '{}';
    const action = JSON.stringify(escapeUnstorable(input.action));
    const nhsNumber = JSON.stringify(input.nhsNumber == null ? null : escapeUnstorable(input.nhsNumber));
    const category = JSON.stringify(input.category);
    const outcome = JSON.stringify(input.outcome);
    return {
      // The keys of entryHash's object, sorted, as canonicalJson writes them.
      canonicalHead: `{"action":${action},"actor":${actor},"category":${category},"detail":${detail},"nhsNumber":${nhsNumber},"outcome":${outcome},"recordedAt":${at},"seq":`,
      rowHead: `{"recorded_at":${at},"category":${category},"action":${action},"outcome":${outcome},"actor":${actor},"nhs_number":${nhsNumber},"detail":${detail}`,
    };
  });
}

/**
 * Chain prepared entries after the head: each gets its seq and the hash entryHash gives it. Pure;
 * the caller inserts the rows (`json`, an array of audit_log rows) and moves the head to the result
 * in the same transaction that locked the head.
 */
export function sealEntries(
  head: { seq: number; hash: string },
  entries: readonly PreparedEntry[],
): { json: string; seq: number; hash: string } {
  const links = chainLinks(head, entries);
  const rows = entries.map((e, i) => {
    const link = links[i]!;
    return `${e.rowHead},"seq":${link.seq},"prev_hash":"${link.prev_hash}","hash":"${link.hash}"}`;
  });
  return {
    json: `[${rows.join(',')}]`,
    seq: head.seq + entries.length,
    hash: links.at(-1)?.hash ?? head.hash,
  };
}

/** Each entry's place in the chain after `head`: its seq, the hash before it and its own. */
function chainLinks(
  head: { seq: number; hash: string },
  entries: readonly PreparedEntry[],
): { ord: number; seq: number; prev_hash: string; hash: string }[] {
  let prev = head.hash;
  return entries.map((e, ord) => {
    const seq = head.seq + ord + 1;
    const hash = createHash('sha256')
      .update(prev)
      .update('\n')
      .update(e.canonicalHead)
      .update(`${seq}}`)
      .digest('hex');
    const link = { ord, seq, prev_hash: prev, hash };
    prev = hash;
    return link;
  });
}

/**
 * Append entries in the caller's transaction. Locks the chain head until the transaction ends, so
 * keep audited transactions short (the query path batches many requests into one; see src/query).
 */
export async function appendAudit(
  trx: Tx,
  recordedAt: Date,
  entries: readonly AuditEntryInput[],
): Promise<number[]> {
  return appendPrepared(trx, prepareEntries(recordedAt, entries));
}

/** Lock the chain's head until the transaction ends, and read it. */
async function lockHead(trx: Tx): Promise<{ seq: number; hash: string }> {
  const head = await trx
    .selectFrom('audit_head')
    .select(['seq', 'hash'])
    .where('id', '=', 1)
    .forUpdate()
    .executeTakeFirstOrThrow();
  return { seq: Number(head.seq), hash: head.hash };
}

/** Move the locked head to the last entry appended. */
async function moveHead(trx: Tx, last: { seq: number; hash: string }): Promise<void> {
  await trx.updateTable('audit_head').set({ seq: last.seq, hash: last.hash }).where('id', '=', 1).execute();
}

/** appendAudit for entries prepared beforehand (prepareEntries), so the head is held only to hash and insert. */
export async function appendPrepared(trx: Tx, entries: readonly PreparedEntry[]): Promise<number[]> {
  if (entries.length === 0) return [];
  const head = await lockHead(trx);
  const sealed = sealEntries(head, entries);
  await insertJson(trx, 'audit_log', AUDIT_COLUMNS, sealed.json);
  await moveHead(trx, sealed);
  return entries.map((_, i) => head.seq + i + 1);
}

/**
 * Entries whose rows are already written, unchained, to a table private to the transaction
 * (stageEntries), waiting to be chained by appendStaged.
 */
export interface StagedEntries {
  readonly table: string;
  readonly entries: PreparedEntry[];
}

let stagedTables = 0;

/**
 * Write prepared entries' rows, all but their place in the chain, to a temporary table of the
 * caller's transaction, without locking the chain head. Storing an entry is the costly part of an
 * append (an upload's entries name 250,000 records: 15 MB of JSON to read and compress), and every
 * health query's answer waits for the head; appendStaged then holds it only to hash and copy rows.
 * Pass `to` to add entries after those staged before.
 */
export async function stageEntries(
  trx: Tx,
  entries: readonly PreparedEntry[],
  to?: StagedEntries,
): Promise<StagedEntries> {
  const staged = to ?? { table: `cpis_audit_staged_${++stagedTables}`, entries: [] };
  if (!to)
    await sql`create temporary table ${sql.id(staged.table)} (ord integer primary key, recorded_at timestamptz,
      category text, action text, outcome text, actor jsonb, nhs_number text, detail jsonb) on commit drop`.execute(
      trx,
    );
  if (entries.length === 0) return staged;
  const first = staged.entries.length;
  const rows = entries.map((e, i) => `${e.rowHead},"ord":${first + i}}`);
  await sql`insert into ${sql.id(staged.table)}
    select * from json_populate_recordset(null::${sql.id(staged.table)}, ${`[${rows.join(',')}]`}::json)`.execute(
    trx,
  );
  staged.entries.push(...entries);
  return staged;
}

/** Chain staged entries after the head and append them: appendPrepared for entries stored beforehand. */
export async function appendStaged(trx: Tx, staged: StagedEntries): Promise<number[]> {
  const { entries } = staged;
  if (entries.length === 0) return [];
  const links = chainLinks(await lockHead(trx), entries);
  await sql`insert into audit_log (seq, recorded_at, category, action, outcome, actor, nhs_number, detail, prev_hash, hash)
    select l.seq, e.recorded_at, e.category, e.action, e.outcome, e.actor, e.nhs_number, e.detail, l.prev_hash, l.hash
      from json_to_recordset(${JSON.stringify(links)}::json) as l(ord integer, seq bigint, prev_hash text, hash text)
      join ${sql.id(staged.table)} e on e.ord = l.ord
     order by l.seq`.execute(trx);
  await moveHead(trx, links.at(-1)!);
  await sql`drop table ${sql.id(staged.table)}`.execute(trx);
  return links.map((l) => l.seq);
}
