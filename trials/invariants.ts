/**
 * The invariants the crash trials check, as plain functions over what the service says after a
 * restart. Each returns the violations it finds (empty when all is well), worded for a report.
 */
import { createHmac } from 'node:crypto';
import type { MailboxMessage } from './harness.ts';

/** What an LA's data-quality page and mailbox say about one upload after the restart. */
export interface UploadState {
  subjects: number;
  plans: number;
  /** Uploads listed for the LA (sequence and accepted count). */
  uploads: { sequence: number; accepted: number }[];
  acknowledgements: number;
}

export interface UploadSent {
  laCode: string;
  sequence: number;
  records: number;
  plans: number;
  /** The HTTP status received before the kill, or null if no answer came. */
  status: number | null;
  accepted: number | null;
}

/**
 * Acknowledged (2xx) before the kill: wholly there. Not acknowledged: wholly there or wholly absent,
 * with the upload, its records and its acknowledgement message agreeing.
 */
export function checkUpload(u: UploadSent, s: UploadState): string[] {
  const v: string[] = [];
  const name = `upload ${u.laCode}#${u.sequence} (${u.records} records, ${u.status ?? 'no answer'})`;
  const whole =
    s.subjects === u.records &&
    s.plans === u.plans &&
    s.uploads.length === 1 &&
    s.uploads[0]!.sequence === u.sequence &&
    s.uploads[0]!.accepted === u.records &&
    s.acknowledgements === 1;
  const absent = s.subjects === 0 && s.plans === 0 && s.uploads.length === 0 && s.acknowledgements === 0;
  const acked = u.status !== null && u.status >= 200 && u.status < 300;
  if (acked && u.accepted !== u.records) v.push(`${name}: acknowledged ${u.accepted} accepted, not all`);
  if (acked && !whole) v.push(`${name}: acknowledged before the kill but not whole after it: ${describe(s)}`);
  if (!acked && !whole && !absent) v.push(`${name}: half-applied after the kill: ${describe(s)}`);
  return v;
}

function describe(s: UploadState): string {
  return `${s.subjects} subjects, ${s.plans} plans, uploads ${JSON.stringify(s.uploads)}, ${s.acknowledgements} acknowledgement message(s)`;
}

/**
 * Every access delivered, per LA, across a flow's trials: which message(s) carried it. A look-up is
 * known by its health user's SDS id, unique per look-up in these trials.
 */
export class DeliveryLedger {
  /** `${laCode} ${sdsUserId}` → message ids that carried it. */
  readonly #deliveries = new Map<string, string[]>();
  readonly #messages = new Set<string>();
  /** Daily batches: `${laCode} ${batchDate}` → message ids. */
  readonly #batches = new Map<string, string[]>();
  readonly problems: string[] = [];

  /** Record an access-notification message read from an LA's mailbox. */
  add(laCode: string, m: MailboxMessage): void {
    if (m.type !== 'access-notification') return;
    if (this.#messages.has(m.id)) this.problems.push(`message ${m.id} read twice from ${laCode}'s mailbox`);
    this.#messages.add(m.id);
    if (m.laCode !== laCode) this.problems.push(`message ${m.id} in ${laCode}'s mailbox is for ${m.laCode}`);
    if (m.delivery === 'daily') {
      const key = `${laCode} ${m.batchDate}`;
      const ids = [...(this.#batches.get(key) ?? []), m.id];
      this.#batches.set(key, ids);
      if (ids.length > 1) this.problems.push(`${laCode} got ${ids.length} daily batches for ${m.batchDate}`);
    }
    const inMessage = new Set<string>();
    const accesses = m.accesses as { accessId: string; accessedBy: { sdsUserId?: string } }[];
    for (const a of accesses) {
      if (inMessage.has(a.accessId)) this.problems.push(`access ${a.accessId} twice in message ${m.id}`);
      inMessage.add(a.accessId);
      const who = a.accessedBy.sdsUserId;
      if (!who) continue;
      const key = `${laCode} ${who}`;
      const ids = [...(this.#deliveries.get(key) ?? []), m.id];
      this.#deliveries.set(key, ids);
      if (ids.length > 1)
        this.problems.push(
          `look-up by ${who} delivered ${ids.length} times to ${laCode}: messages ${ids.join(', ')}`,
        );
    }
    if (m.accessCount !== accesses.length)
      this.problems.push(`message ${m.id}: accessCount ${m.accessCount} but ${accesses.length} accesses`);
  }

  deliveries(laCode: string, sdsUserId: string): number {
    return this.#deliveries.get(`${laCode} ${sdsUserId}`)?.length ?? 0;
  }

  batches(laCode: string, batchDate: string): number {
    return this.#batches.get(`${laCode} ${batchDate}`)?.length ?? 0;
  }

  /** The LAs a look-up reached (for spotting one delivered to an LA that holds no plan). */
  lasOf(sdsUserId: string): string[] {
    return [...this.#deliveries.keys()]
      .filter((k) => k.endsWith(` ${sdsUserId}`))
      .map((k) => k.split(' ')[0]!);
  }

  /** Take the problems found so far (each reported once). */
  takeProblems(): string[] {
    return this.problems.splice(0);
  }
}

export interface LookUp {
  sdsUserId: string;
  nhsNumber: string;
  /** The LAs holding a visible plan for the child. */
  holders: string[];
  /** The HTTP status received before the kill, or null if no answer came. */
  status: number | null;
  /** The Bundle's total when answered. */
  total: number | null;
}

/** What is still missing: a 200'd look-up not (yet) delivered once to each LA holding a plan. */
export function missingDeliveries(ledger: DeliveryLedger, lookUps: LookUp[]): string[] {
  const v: string[] = [];
  for (const q of lookUps) {
    if (q.status !== 200) continue;
    if (q.total !== q.holders.length)
      v.push(
        `look-up by ${q.sdsUserId} of ${q.nhsNumber} answered ${q.total} plans, expected ${q.holders.length}`,
      );
    for (const laCode of q.holders)
      if (ledger.deliveries(laCode, q.sdsUserId) === 0)
        v.push(`look-up by ${q.sdsUserId} of ${q.nhsNumber} answered 200 but never delivered to ${laCode}`);
  }
  return v;
}

/** A look-up (answered or not) delivered to an LA that holds no plan for the child. */
export function misdirected(ledger: DeliveryLedger, lookUps: LookUp[]): string[] {
  const v: string[] = [];
  for (const q of lookUps)
    for (const laCode of ledger.lasOf(q.sdsUserId))
      if (!q.holders.includes(laCode))
        v.push(`look-up by ${q.sdsUserId} delivered to ${laCode}, which holds no plan`);
  return v;
}

/** An LA's counts as data quality gives them. */
export interface RetentionCounts {
  subjects: number;
  CPP: number;
  LAC: number;
  UCPP: number;
}

/** Purged per the rules, or not at all: the counts must be exactly one of the two, never between. */
export function retentionState(
  laCode: string,
  got: RetentionCounts,
  before: RetentionCounts,
  after: RetentionCounts,
): { state: 'before' | 'after' | 'neither'; problem: string | null } {
  const same = (a: RetentionCounts, b: RetentionCounts) =>
    a.subjects === b.subjects && a.CPP === b.CPP && a.LAC === b.LAC && a.UCPP === b.UCPP;
  if (same(got, after)) return { state: 'after', problem: null };
  if (same(got, before)) return { state: 'before', problem: null };
  return {
    state: 'neither',
    problem: `${laCode} half-purged: ${JSON.stringify(got)}; before the purge ${JSON.stringify(before)}, after it ${JSON.stringify(after)}`,
  };
}

/** A push the trial's receiver took in. */
export interface Receipt {
  messageId: string;
  timestamp: string;
  signature: string;
  body: string;
}

/**
 * webhook.ts promises at-least-once delivery, signed: every mailbox message reaches the receiver at
 * least once, each push carries a valid signature over its body, and the body is that message.
 * Duplicates are allowed (receivers de-duplicate by message id); they are counted, not failed.
 */
export function checkPushes(
  messages: MailboxMessage[],
  receipts: Receipt[],
  secret: string,
): { problems: string[]; duplicates: number } {
  const problems: string[] = [];
  const byId = new Map<string, Receipt[]>();
  for (const r of receipts) {
    const expected = `sha256=${createHmac('sha256', secret).update(`${r.timestamp}.${r.body}`).digest('hex')}`;
    if (r.signature !== expected) problems.push(`push of ${r.messageId}: bad signature`);
    let id: unknown;
    try {
      id = (JSON.parse(r.body) as { id?: unknown }).id;
    } catch {
      problems.push(`push of ${r.messageId}: body is not JSON`);
    }
    if (id !== r.messageId) problems.push(`push of ${r.messageId}: body is message ${String(id)}`);
    byId.set(r.messageId, [...(byId.get(r.messageId) ?? []), r]);
  }
  let duplicates = 0;
  for (const m of messages) {
    const got = byId.get(m.id) ?? [];
    if (got.length === 0) problems.push(`mailbox message ${m.id} (${m.type}) never pushed`);
    else {
      duplicates += got.length - 1;
      const body = JSON.parse(got[0]!.body) as Record<string, unknown>;
      if (body.type !== m.type || body.createdAt !== m.createdAt)
        problems.push(`push of ${m.id} does not match the mailbox message`);
    }
  }
  return { problems, duplicates };
}
