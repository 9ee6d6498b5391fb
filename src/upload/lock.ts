import { sql } from 'kysely';
import type { Tx } from '../store/db.ts';

/**
 * Hold an LA's records still against other writers until the transaction ends: an upload's apply
 * (one at a time per LA, so sequences apply in order) and a supersede moving that LA's records
 * take it, so neither decides from rows the other is changing.
 */
export async function lockLaRecords(trx: Tx, laCode: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${`cpis-upload:${laCode}`}))`.execute(trx);
}
