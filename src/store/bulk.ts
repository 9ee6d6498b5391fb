/**
 * Bulk writes in one round trip and one parameter: rows go to the server as a single JSON document
 * and `jsonb_to_recordset` turns it back into typed rows. Building thousands of bind parameters
 * costs more than the database work itself; this costs one JSON.stringify. Same SQL on PGlite and
 * PostgreSQL 15.
 */
import { type Insertable, sql } from 'kysely';
import type { Executor } from './db.ts';
import type { Database } from './schema.ts';

/** The PostgreSQL type of each column written (the recordset needs them to read the JSON). */
export type ColumnTypes<T extends keyof Database> = Partial<Record<keyof Database[T] & string, string>>;

export async function insertRows<T extends keyof Database>(
  db: Executor,
  table: T,
  types: ColumnTypes<T>,
  rows: readonly Insertable<Database[T]>[],
  onConflict?: ReturnType<typeof sql>,
): Promise<number> {
  if (rows.length === 0) return 0;
  return insertJson(db, table, types, JSON.stringify(rows), onConflict);
}

/** insertRows for rows already written as a JSON array of objects keyed by column. */
export async function insertJson<T extends keyof Database>(
  db: Executor,
  table: T,
  types: ColumnTypes<T>,
  json: string,
  onConflict?: ReturnType<typeof sql>,
): Promise<number> {
  const columns = Object.keys(types);
  const defs = sql.raw(columns.map((c) => `${c} ${types[c as keyof typeof types]}`).join(', '));
  const list = sql.raw(columns.join(', '));
  const res = await sql`insert into ${sql.table(table)} (${list})
    select ${list} from jsonb_to_recordset(${json}::jsonb) as x(${defs})
    ${onConflict ?? sql``}`.execute(db);
  return Number(res.numAffectedRows ?? 0);
}
