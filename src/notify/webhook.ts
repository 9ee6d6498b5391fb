/**
 * Push as well as pull: an LA with a webhook gets each mailbox message POSTed to it, signed, and
 * retried with backoff until it answers 2xx (or the LA acknowledges the message in its mailbox, or
 * the retries run out). The message stays in the mailbox until acknowledged either way.
 *
 * Signature: `X-CPIS-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` with
 * `X-CPIS-Timestamp` (Unix seconds, real time, so a receiver can refuse old replays) and
 * `X-CPIS-Message-Id`. Delivery is at-least-once: receivers de-duplicate by message id.
 *
 * Claims are short leases, never a transaction held open across an HTTP call (PGlite has one
 * connection, and a slow LA must not hold up the service).
 */
import { createHmac } from 'node:crypto';
import { sql } from 'kysely';
import type { Job } from '../scheduler.ts';
import { type Executor, transact } from '../store/db.ts';
import { type SecretBox, SecretUnreadable, webhookSecretBinding } from '../store/secret-box.ts';
import { readMessage } from './mailbox.ts';

export interface PushRequest {
  url: string;
  secret: string;
  messageId: string;
  body: string;
}

export interface PushResult {
  ok: boolean;
  status?: number;
  error?: string;
}

/** Where pushed messages go. Production: HTTP; tests may count or fail deliveries. */
export interface PushSink {
  push(req: PushRequest): Promise<PushResult>;
}

export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export class HttpPushSink implements PushSink {
  constructor(private readonly timeoutMs = 10_000) {}

  async push(req: PushRequest): Promise<PushResult> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    try {
      const res = await fetch(req.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-cpis-message-id': req.messageId,
          'x-cpis-timestamp': timestamp,
          'x-cpis-signature': signature(req.secret, timestamp, req.body),
        },
        body: req.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      return res.ok
        ? { ok: true, status: res.status }
        : { ok: false, status: res.status, error: `HTTP ${res.status}` };
    } catch (err) {
      return {
        ok: false,
        error:
          (err as Error).name === 'TimeoutError'
            ? `no answer within ${this.timeoutMs} ms`
            : (err as Error).message,
      };
    }
  }
}

export const MAX_ATTEMPTS = 12;
const LEASE_MS = 5 * 60_000;
const BATCH = 20;

/** 30 s, 1, 2, 4, 8, 16, 32 min, then hourly: about seven hours in all over twelve attempts. */
export function backoffMs(attempts: number): number {
  return Math.min(3_600_000, 30_000 * 2 ** Math.max(0, attempts - 1));
}

export function webhookJob(db: Executor, sink: PushSink, secrets: SecretBox): Job {
  return {
    name: 'webhook-delivery',
    async run(now) {
      let delivered = 0;
      let failed = 0;
      for (;;) {
        // Claim due deliveries with a lease, so a second process (or a crash) cannot lose or double them.
        const claimed = await transact(db, async (trx) => {
          const { rows } = await sql<{
            message_id: string;
            la_code: string;
            attempts: number;
            webhook_url: string | null;
            webhook_secret: string | null;
            acknowledged: boolean;
          }>`
            update webhook_delivery d
               set attempts = d.attempts + 1, next_attempt_at = ${new Date(now.getTime() + LEASE_MS)}
              from (select w.message_id from webhook_delivery w
                     where w.delivered_at is null and w.given_up_at is null and w.next_attempt_at <= ${now}
                     order by w.next_attempt_at limit ${BATCH} for update skip locked) due,
                   local_authority la, mailbox_message m
             where d.message_id = due.message_id and la.la_code = d.la_code and m.id = d.message_id
            returning d.message_id, d.la_code, d.attempts, la.webhook_url, la.webhook_secret,
                      (m.acknowledged_at is not null) as acknowledged`.execute(trx);
          return rows;
        });
        if (claimed.length === 0) break;
        for (const c of claimed) {
          const finish = (set: Record<string, unknown>) =>
            db.updateTable('webhook_delivery').set(set).where('message_id', '=', c.message_id).execute();
          const failAttempt = (status: number | null, error: string) => {
            failed++;
            return finish({
              last_status: status,
              last_error: error.slice(0, 500),
              ...(c.attempts >= MAX_ATTEMPTS
                ? { given_up_at: now }
                : { next_attempt_at: new Date(now.getTime() + backoffMs(c.attempts)) }),
            });
          };
          if (c.acknowledged || !c.webhook_url || !c.webhook_secret) {
            await finish({
              given_up_at: now,
              last_error: c.acknowledged ? 'acknowledged in the mailbox' : 'the LA no longer has a webhook',
            });
            continue;
          }
          const message = await readMessage(db, c.la_code, c.message_id);
          if (!message) {
            await finish({ given_up_at: now, last_error: 'message not found' });
            continue;
          }
          const { acknowledgedAt: _a, ...payload } = message;
          let secret: string;
          try {
            secret = secrets.open(c.webhook_secret, webhookSecretBinding(c.la_code));
          } catch (err) {
            // A key changed under the service: try again later (the message is in the mailbox anyway).
            if (!(err instanceof SecretUnreadable)) throw err;
            await failAttempt(null, err.message);
            continue;
          }
          const result = await sink.push({
            url: c.webhook_url,
            secret,
            messageId: c.message_id,
            body: JSON.stringify(payload),
          });
          if (result.ok) {
            delivered++;
            await finish({ delivered_at: now, last_status: result.status ?? null, last_error: null });
          } else {
            await failAttempt(result.status ?? null, result.error ?? 'failed');
          }
        }
      }
      return delivered || failed ? { delivered, failed } : null;
    },
  };
}
