/** Dispatch on demand (INTERFACE §2): what the scheduler does by itself, now, audited. */
import { appendAudit } from '../audit/log.ts';
import { auditActor, type Principal } from '../auth/principal.ts';
import type { Clock } from '../domain/clock.ts';
import { type Executor, transact } from '../store/db.ts';
import { type DispatchSummary, dispatchNotifications } from './dispatch.ts';

export async function adminDispatch(
  deps: { db: Executor; clock: Clock },
  who: Principal,
  force: boolean,
): Promise<DispatchSummary> {
  const now = deps.clock.now();
  const summary = await dispatchNotifications(deps.db, now, { force });
  await transact(deps.db, (trx) =>
    appendAudit(trx, now, [
      {
        category: 'admin',
        action: 'notifications.dispatch',
        outcome: 'success',
        actor: auditActor(who),
        detail: {
          force,
          messages: summary.messages,
          accesses: summary.accesses,
          heartbeats: summary.heartbeats,
        },
      },
    ]),
  );
  return summary;
}
