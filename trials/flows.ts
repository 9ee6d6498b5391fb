/**
 * The five crash-trial flows. Each sets up its world once, then each trial puts work in flight,
 * kills the service with SIGKILL after a delay drawn from the trial's PRNG, starts it again on the
 * same data and checks what it finds against the invariants (trials/invariants.ts).
 *
 * Dates: the service clock resets to real time on a restart, so every trial sets it again; trial
 * days move forward one or two days a trial from early 2027 (London is on UTC then).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generatePopulation, type PersonRow } from '../src/demo/population.ts';
import {
  ADMIN,
  clinician,
  dayOf,
  debug,
  drainMailbox,
  la,
  type MailboxMessage,
  type Rng,
  sleep,
  type World,
} from './harness.ts';
import {
  checkPushes,
  checkUpload,
  DeliveryLedger,
  type LookUp,
  misdirected,
  missingDeliveries,
  type Receipt,
  type RetentionCounts,
  retentionState,
  type UploadSent,
} from './invariants.ts';

export interface TrialOutcome {
  violations: string[];
  /** One line on what the trial did: where the kill fell, what was in flight. */
  note: string;
}

export interface Flow<S = unknown> {
  name: string;
  /** Demo world for this flow (small where the flow allows; smaller still for the test suite's run). */
  env(small: boolean): NodeJS.ProcessEnv;
  setup(world: World, small: boolean): Promise<S>;
  trial(world: World, rng: Rng, index: number, state: S): Promise<TrialOutcome>;
  /** After the last trial: anything that can only be seen at the end (a late duplicate). */
  finish?(world: World, state: S): Promise<string[]>;
  close?(state: S): Promise<void>;
}

const SEED = 11;
const BASE_DAY = '2027-01-04';
/** How long a flow waits for the restarted service to finish what the crash interrupted. */
const SETTLE_MS = 25_000;

interface Eligible {
  children: PersonRow[];
  adults: PersonRow[];
}

/** People from the demo population that an LA may hold a record for, with exact demographics. */
function eligible(people: number): Eligible {
  const out: Eligible = { children: [], adults: [] };
  for (const p of generatePopulation(people, SEED)) {
    if (p.status !== 'active' || p.sensitive || p.death_date) continue;
    // Children stay under 18 through every trial date; adults are only ever "unborn" subjects (mothers).
    if (p.birth_date >= '2010-01-01') out.children.push(p);
    else if (p.birth_date < '2008-01-01') out.adults.push(p);
  }
  return out;
}

interface Plan {
  type: 'CPP' | 'LAC' | 'UCPP';
  startDate: string;
  endDate?: string | null;
  deleteDate?: string;
}

interface UploadRecord {
  subject: 'child' | 'unborn';
  nhsNumber: string;
  familyName: string;
  givenNames: string[];
  birthDate: string;
  expectedDeliveryDate?: string;
  plans: Plan[];
}

function childRecord(p: PersonRow, plans: Plan[]): UploadRecord {
  return {
    subject: 'child',
    nhsNumber: p.nhs_number,
    familyName: p.family_name,
    givenNames: p.given_names,
    birthDate: p.birth_date,
    plans,
  };
}

function unbornRecord(p: PersonRow, plan: Plan, edd: string): UploadRecord {
  return {
    subject: 'unborn',
    nhsNumber: p.nhs_number,
    familyName: p.family_name,
    givenNames: p.given_names,
    birthDate: p.birth_date,
    expectedDeliveryDate: edd,
    plans: [plan],
  };
}

function csvOf(records: UploadRecord[]): string {
  const head =
    'subject,nhs_number,local_id,family_name,given_names,birth_date,plan_type,start_date,end_date,delete_date,expected_delivery_date';
  const rows = [head];
  for (const r of records)
    for (const p of r.plans)
      rows.push(
        [
          r.subject,
          r.nhsNumber,
          '',
          r.familyName,
          r.givenNames.join(' '),
          r.birthDate,
          p.type,
          p.startDate,
          p.endDate ?? '',
          p.deleteDate ?? '',
          r.expectedDeliveryDate ?? '',
        ].join(','),
      );
  return `${rows.join('\n')}\n`;
}

function shuffled<T>(rng: Rng, list: readonly T[]): T[] {
  const a = [...list];
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Kill the service after `ms`, while whatever the trial started is in flight. */
async function killAfter(world: World, ms: number): Promise<void> {
  await sleep(ms);
  await world.kill();
}

/** Poll until `done` says nothing is missing (moving the clock on a minute each time, so the scheduler ticks). */
async function settle(world: World, start: Date, check: () => Promise<string[]>): Promise<string[]> {
  const deadline = Date.now() + SETTLE_MS;
  let minute = 0;
  for (;;) {
    const missing = await check();
    debug(`settle: ${missing.length} missing`);
    if (missing.length === 0 || Date.now() > deadline) return missing;
    await sleep(400);
    minute++;
    await world.setClock(new Date(start.getTime() + minute * 60_000).toISOString());
  }
}

interface DataQualityView {
  records: { subjects: number; plans: { CPP: number; LAC: number; UCPP: number } };
  uploads: { sequence: number; accepted: number }[];
}

async function dataQuality(world: World, laCode: string): Promise<DataQualityView> {
  return (await world.ok(la(laCode), 'GET', '/la/v1/data-quality')) as unknown as DataQualityView;
}

// ---------------------------------------------------------------------------------------------
// upload: a few LA files of thousands of records in flight at once.

interface UploadState {
  people: Eligible;
  small: boolean;
}

export const uploadFlow: Flow<UploadState> = {
  name: 'upload',
  env: (small) => ({ CPIS_DEMO_PEOPLE: small ? '1500' : '4000', CPIS_DEMO_SEED: String(SEED) }),
  async setup(_world, small) {
    return { people: eligible(small ? 1500 : 4000), small };
  },
  async trial(world, rng, index, { people, small }) {
    // The clock stays at real time here: plans started in 2026, so every record is accepted.
    const all = [
      ...people.children.map((p) => childRecord(p, [{ type: 'CPP', startDate: '2026-01-01' }])),
      ...people.adults.map((p) => unbornRecord(p, { type: 'UCPP', startDate: '2026-06-01' }, '2027-06-01')),
    ];
    const count = rng.int(2, 3);
    const files = Array.from({ length: count }, (_, j) => {
      const size = small ? rng.int(400, 1400) : rng.int(1000, Math.min(3500, all.length));
      const records = shuffled(rng, all).slice(0, size);
      const csv = rng.next() < 0.5;
      return {
        laCode: `UP${index}X${j}${randomBytes(2).toString('hex')}`,
        records,
        csv,
        startAt: rng.int(0, 1500),
      };
    });
    const killAt = small ? rng.logInt(100, 2500) : rng.logInt(150, 5000);
    const sent: UploadSent[] = files.map((f) => ({
      laCode: f.laCode,
      sequence: 1,
      records: f.records.length,
      plans: f.records.length,
      status: null,
      accepted: null,
    }));
    const bodies = files.map((f) =>
      f.csv
        ? { path: '/la/v1/uploads?sequence=1', type: 'text/csv', body: csvOf(f.records) }
        : {
            path: '/la/v1/uploads',
            type: 'application/json',
            body: JSON.stringify({ sequence: 1, records: f.records }),
          },
    );
    const tokens = await Promise.all(files.map((f) => world.token(la(f.laCode))));
    const firstUrl = world.url;
    // The restarted service listens on another port: a resend names it.
    const send = async (j: number, url = firstUrl) => {
      const res = await fetch(`${url}${bodies[j]!.path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens[j]}`, 'content-type': bodies[j]!.type },
        body: bodies[j]!.body,
      });
      const body = (await res.json()) as { accepted?: number };
      return { status: res.status, accepted: body.accepted ?? null };
    };
    const took: number[] = [];
    const inFlight = files.map(async (f, j) => {
      await sleep(f.startAt);
      if (world.service?.child.exitCode !== null || world.service?.child.signalCode !== null) return;
      try {
        const t0 = Date.now();
        const r = await send(j);
        sent[j]!.status = r.status;
        sent[j]!.accepted = r.accepted;
        took[j] = Date.now() - t0;
      } catch {
        // No answer: the process died first.
      }
    });
    await killAfter(world, killAt);
    await Promise.all(inFlight);
    await world.start();

    const stateOf = async (laCode: string) => {
      const dq = await dataQuality(world, laCode);
      const list = (await world.ok(la(laCode), 'GET', '/la/v1/mailbox')).messages as { type: string }[];
      return {
        subjects: dq.records.subjects,
        plans: Object.values(dq.records.plans).reduce((a, b) => a + b, 0),
        uploads: dq.uploads.map((u) => ({
          sequence: u.sequence,
          accepted: u.accepted,
        })),
        acknowledgements: list.filter((m) => m.type === 'upload-acknowledgement').length,
      };
    };
    const violations: string[] = [];
    for (const u of sent) violations.push(...checkUpload(u, await stateOf(u.laCode)));
    // An unanswered file can simply be sent again: the same bytes under the same sequence give the
    // stored acknowledgement if it was applied, or apply it now; either way it is then whole.
    const unanswered = sent.findIndex((u) => u.status === null);
    let resent = '';
    if (unanswered >= 0 && violations.length === 0) {
      const r = await send(unanswered, world.url);
      const u = { ...sent[unanswered]!, ...r };
      resent = `, resent ${u.laCode}: ${r.status}`;
      if (r.status !== 200) violations.push(`resending ${u.laCode}#1 after the crash answered ${r.status}`);
      else violations.push(...checkUpload(u, await stateOf(u.laCode)));
    }
    const what = files
      .map(
        (f, j) =>
          `${f.csv ? 'csv' : 'json'} ${f.records.length}@${f.startAt}ms→${sent[j]!.status ? `${sent[j]!.status} in ${took[j]} ms` : '-'}`,
      )
      .join(' ');
    return { violations, note: `kill at ${killAt} ms; ${what}${resent}` };
  },
};

// ---------------------------------------------------------------------------------------------
// query and dispatch (each in a world of its own) set up alike: children with plans from two daily LAs
// and an immediate one, some held by two LAs at once.

const BIRMINGHAM = 'E08000025'; // daily
const SANDWELL = 'E08000028'; // daily
const STAFFORDSHIRE = 'E10000028'; // immediate (demo directory)

interface NotifyState {
  children: { nhsNumber: string; holders: string[] }[];
  ledger: DeliveryLedger;
  lookUps: LookUp[];
  dailyLas: string[];
  next: number;
  small: boolean;
}

async function notifySetup(world: World, flowDigit: string, small: boolean): Promise<NotifyState> {
  const kids = eligible(300).children.slice(0, 18);
  const plan: Plan = { type: 'CPP', startDate: '2026-06-01' };
  const holdersOf = (i: number) =>
    i % 3 === 0 ? [BIRMINGHAM, STAFFORDSHIRE] : i % 3 === 1 ? [BIRMINGHAM, SANDWELL] : [SANDWELL];
  await world.setClock(`${BASE_DAY}T09:00:00Z`);
  for (const laCode of [BIRMINGHAM, SANDWELL, STAFFORDSHIRE]) {
    const records = kids.filter((_, i) => holdersOf(i).includes(laCode)).map((p) => childRecord(p, [plan]));
    const ack = await world.ok(la(laCode), 'POST', '/la/v1/uploads', { sequence: 1, records });
    if (ack.accepted !== records.length)
      throw new Error(`setup upload for ${laCode}: ${JSON.stringify(ack)}`);
  }
  const las = (await world.ok(ADMIN, 'GET', '/admin/v1/local-authorities')).localAuthorities as {
    laCode: string;
    notificationCadence: string;
  }[];
  const ledger = new DeliveryLedger();
  // Anything already there (acknowledgements, heartbeats) is read and acknowledged.
  for (const l of las) for (const m of await drainMailbox(world, l.laCode)) ledger.add(l.laCode, m);
  ledger.takeProblems();
  return {
    children: kids.map((p, i) => ({ nhsNumber: p.nhs_number, holders: holdersOf(i) })),
    ledger,
    lookUps: [],
    dailyLas: las.filter((l) => l.notificationCadence === 'daily').map((l) => l.laCode),
    next: Number(`1${flowDigit}`) * 1_000_000,
    small,
  };
}

/** A look-up by a health user seen nowhere else, so its notifications can be told apart. */
function newLookUp(state: NotifyState, rng: Rng): LookUp {
  const child = rng.pick(state.children);
  const sdsUserId = `55${String(state.next++).padStart(10, '0')}`;
  return { sdsUserId, nhsNumber: child.nhsNumber, holders: child.holders, status: null, total: null };
}

async function lookUp(url: string, token: string, q: LookUp): Promise<void> {
  const res = await fetch(
    `${url}/FHIR/R4/CareTeam?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|${q.nhsNumber}`,
    { headers: { authorization: `Bearer ${token}`, 'x-request-id': crypto.randomUUID() } },
  );
  const body = (await res.json()) as { total?: number };
  q.status = res.status;
  q.total = body.total ?? null;
}

const NOTIFY_LAS = [BIRMINGHAM, SANDWELL, STAFFORDSHIRE];

async function readNotices(world: World, state: NotifyState, las: string[]): Promise<void> {
  for (const laCode of las) for (const m of await drainMailbox(world, laCode)) state.ledger.add(laCode, m);
}

export const queryFlow: Flow<NotifyState> = {
  name: 'query',
  env: () => ({ CPIS_DEMO_PEOPLE: '300', CPIS_DEMO_SEED: String(SEED) }),
  setup: (world, small) => notifySetup(world, '1', small),
  async trial(world, rng, index, state) {
    const day = dayOf(BASE_DAY, index + 1);
    await world.setClock(`${day}T10:00:00Z`);
    const n = state.small ? rng.int(15, 40) : rng.int(30, 90);
    const batch = Array.from({ length: n }, () => newLookUp(state, rng));
    state.lookUps.push(...batch);
    const tokens = await Promise.all(batch.map((q) => world.token(clinician(q.sdsUserId))));
    const killAt = rng.logInt(5, 450);
    const url = world.url;
    const inFlight = batch.map(async (q, j) => {
      await sleep(rng.int(0, 400));
      try {
        await lookUp(url, tokens[j]!, q);
      } catch {
        // No answer: the process died first.
      }
    });
    await killAfter(world, killAt);
    await Promise.all(inFlight);
    await world.start();
    // The next morning's batch (and the immediate LA's next tick) after the restart.
    const morning = new Date(`${dayOf(day, 1)}T06:30:00Z`);
    await world.setClock(morning.toISOString());
    const missing = await settle(world, morning, async () => {
      await readNotices(world, state, NOTIFY_LAS);
      return missingDeliveries(state.ledger, batch);
    });
    const answered = batch.filter((q) => q.status === 200).length;
    return {
      violations: [...missing, ...misdirected(state.ledger, batch), ...state.ledger.takeProblems()],
      note: `kill at ${killAt} ms; ${n} look-ups, ${answered} answered 200 before it`,
    };
  },
  async finish(world, state) {
    await world.ok(ADMIN, 'POST', '/admin/v1/notifications/dispatch', { force: true });
    await readNotices(world, state, NOTIFY_LAS);
    return [...state.ledger.takeProblems(), ...misdirected(state.ledger, state.lookUps)];
  },
};

export const dispatchFlow: Flow<NotifyState> = {
  name: 'dispatch',
  env: () => ({ CPIS_DEMO_PEOPLE: '300', CPIS_DEMO_SEED: String(SEED) }),
  setup: (world, small) => notifySetup(world, '2', small),
  async trial(world, rng, index, state) {
    const day = dayOf(BASE_DAY, index + 1);
    await world.setClock(`${day}T10:00:00Z`);
    const n = state.small ? rng.int(10, 30) : rng.int(20, 70);
    const batch = Array.from({ length: n }, () => newLookUp(state, rng));
    state.lookUps.push(...batch);
    const url = world.url;
    for (let i = 0; i < batch.length; i += 10)
      await Promise.all(
        batch.slice(i, i + 10).map(async (q) => lookUp(url, await world.token(clinician(q.sdsUserId)), q)),
      );
    const refused = batch.filter((q) => q.status !== 200).length;
    // The morning batch starts when the clock passes 06:00; the kill falls somewhere in it.
    const killAt = rng.logInt(5, 2500);
    await world.setClock(`${dayOf(day, 1)}T06:00:30Z`);
    await killAfter(world, killAt);
    await world.start();
    // Which LAs' batches the killed process committed (the clock is back at real time, before the day).
    await readNotices(world, state, state.dailyLas);
    const committed = state.dailyLas.filter((l) => state.ledger.batches(l, day) > 0).length;
    const resume = new Date(`${dayOf(day, 1)}T06:01:00Z`);
    await world.setClock(resume.toISOString());
    const batchDate = day;
    const missing = await settle(world, resume, async () => {
      await readNotices(world, state, [...state.dailyLas, STAFFORDSHIRE]);
      return [
        ...missingDeliveries(state.ledger, batch),
        ...state.dailyLas
          .filter((l) => state.ledger.batches(l, batchDate) === 0)
          .map((l) => `${l} has no daily batch for ${batchDate}`),
      ];
    });
    return {
      violations: [
        ...missing,
        ...misdirected(state.ledger, batch),
        ...state.ledger.takeProblems(),
        ...(refused
          ? [`${refused} of ${n} look-ups before the dispatch were not answered 200 (no crash yet)`]
          : []),
      ],
      note: `kill at ${killAt} ms into the 06:00 dispatch, ${committed} of ${state.dailyLas.length} daily batches in by then; ${n} look-ups waiting for it`,
    };
  },
  async finish(world, state) {
    await world.ok(ADMIN, 'POST', '/admin/v1/notifications/dispatch', { force: true });
    await readNotices(world, state, [...state.dailyLas, STAFFORDSHIRE]);
    return [...state.ledger.takeProblems(), ...misdirected(state.ledger, state.lookUps)];
  },
};

// ---------------------------------------------------------------------------------------------
// webhook: an immediate LA whose every message is pushed to a receiver in this process.

const HOOK_LA = 'E99000001';

interface WebhookState {
  server: Server;
  receipts: Receipt[];
  secret: string;
  delay: { min: number; max: number };
  children: PersonRow[];
  sequence: number;
  next: number;
  /** Every message read from the LA's mailbox so far. */
  known: Set<string>;
  small: boolean;
}

export const webhookFlow: Flow<WebhookState> = {
  name: 'webhook',
  env: () => ({ CPIS_DEMO_PEOPLE: '300', CPIS_DEMO_SEED: String(SEED) }),
  async setup(world, small) {
    const receipts: Receipt[] = [];
    const delay = { min: 20, max: 60 };
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        receipts.push({
          messageId: String(req.headers['x-cpis-message-id']),
          timestamp: String(req.headers['x-cpis-timestamp']),
          signature: String(req.headers['x-cpis-signature']),
          body,
        });
        // A receiver that takes a little while, so a kill can fall between pushes.
        const ms = delay.min + Math.floor(Math.random() * (delay.max - delay.min));
        setTimeout(() => res.writeHead(200).end(), ms);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const secret = randomBytes(24).toString('hex');
    await world.setClock(`${BASE_DAY}T09:00:00Z`);
    await world.ok(ADMIN, 'PUT', `/admin/v1/local-authorities/${HOOK_LA}`, {
      name: 'Trial Webhook Council',
      officeHoursPhone: '01632 960 999',
      emergencyDutyPhone: '07700 900 999',
      notificationCadence: 'immediate',
      webhook: { url: `http://127.0.0.1:${port}/cpis`, secret },
    });
    const children = eligible(300).children.slice(20, 26);
    const ack = await world.ok(la(HOOK_LA), 'POST', '/la/v1/uploads', {
      sequence: 1,
      records: children.map((p) => childRecord(p, [{ type: 'CPP', startDate: '2026-06-01' }])),
    });
    if (ack.accepted !== children.length) throw new Error(`webhook setup upload: ${JSON.stringify(ack)}`);
    return {
      server,
      receipts,
      secret,
      delay,
      children,
      sequence: 1,
      next: 3_000_000,
      known: new Set<string>(),
      small,
    };
  },
  async trial(world, rng, index, state) {
    const day = dayOf(BASE_DAY, index + 1);
    const t = new Date(`${day}T10:00:00Z`);
    await world.setClock(t.toISOString());
    // Messages for the LA: upload acknowledgements, and an access notification from look-ups.
    const uploads = state.small ? rng.int(3, 8) : rng.int(6, 16);
    for (let i = 0; i < uploads; i++) {
      const p = rng.pick(state.children);
      state.sequence++;
      await world.ok(la(HOOK_LA), 'POST', '/la/v1/uploads', {
        sequence: state.sequence,
        records: [childRecord(p, [{ type: 'CPP', startDate: '2026-06-01' }])],
      });
    }
    const looks = rng.int(1, 4);
    for (let i = 0; i < looks; i++) {
      const sds = `55${String(state.next++).padStart(10, '0')}`;
      const p = rng.pick(state.children);
      const r = await world.call(
        clinician(sds),
        'GET',
        `/FHIR/R4/CareTeam?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|${p.nhs_number}`,
        undefined,
        { 'x-request-id': crypto.randomUUID() },
      );
      if (r.status !== 200) throw new Error(`webhook look-up answered ${r.status}`);
    }
    // The tick dispatches the look-ups and pushes everything due; the kill falls in it.
    const killAt = rng.logInt(5, (uploads + 2) * 50 + 300);
    const before = state.receipts.length;
    await world.setClock(new Date(t.getTime() + 1000).toISOString());
    await killAfter(world, killAt);
    const atKill = state.receipts.length - before;
    await world.start();
    // Past the five-minute lease a crashed push holds, so it is due again.
    const later = new Date(t.getTime() + 6 * 60_000);
    await world.setClock(later.toISOString());
    let messages: MailboxMessage[] = [];
    const missing = await settle(world, later, async () => {
      const list = (await world.ok(la(HOOK_LA), 'GET', '/la/v1/mailbox?limit=500')).messages as {
        id: string;
      }[];
      const got = new Set(state.receipts.map((r) => r.messageId));
      return list.filter((m) => !got.has(m.id)).map((m) => `mailbox message ${m.id} never pushed`);
    });
    // Read and acknowledge them all, then hold each against what the receiver took in.
    messages = await drainMailbox(world, HOOK_LA);
    for (const m of messages) state.known.add(m.id);
    const { problems, duplicates } = checkPushes(messages, state.receipts, state.secret);
    // A push of a message the mailbox does not hold: the push left before a commit that the crash undid.
    for (const r of state.receipts)
      if (!state.known.has(r.messageId)) problems.push(`pushed message ${r.messageId} is in no mailbox`);
    return {
      violations: [...new Set([...missing, ...problems])],
      note: `kill at ${killAt} ms; ${messages.length} messages (${uploads} acknowledgements, ${looks} look-ups), ${atKill} pushes before the kill, ${duplicates} duplicate push(es) after it`,
    };
  },
  async close(state) {
    await new Promise((r) => state.server.close(r));
  },
};

// ---------------------------------------------------------------------------------------------
// retention: each trial's LA holds plans that the next night's purge removes, plans it keeps, and
// records that lose one plan of two.

interface RetentionTrialLa {
  laCode: string;
  after: RetentionCounts;
}

interface RetentionState {
  people: Eligible;
  previous: RetentionTrialLa | null;
}

const EMPTY: RetentionCounts = { subjects: 0, CPP: 0, LAC: 0, UCPP: 0 };

async function countsOf(world: World, laCode: string): Promise<RetentionCounts> {
  const dq = await dataQuality(world, laCode);
  return { subjects: dq.records.subjects, ...dq.records.plans };
}

export const retentionFlow: Flow<RetentionState> = {
  name: 'retention',
  env: (small) => ({ CPIS_DEMO_PEOPLE: small ? '800' : '2000', CPIS_DEMO_SEED: String(SEED) }),
  async setup(_world, small) {
    return { people: eligible(small ? 800 : 2000), previous: null };
  },
  async trial(world, rng, index, state) {
    const upload = dayOf(BASE_DAY, 2 * index);
    const purge = dayOf(upload, 1);
    const laCode = `RT${index}X${randomBytes(2).toString('hex')}`;
    await world.setClock(`${upload}T12:00:00Z`);
    // Plans whose last visible day is the upload day (purged on the purge day), plans still visible
    // on the purge day (kept), and plans deleted from the purge day.
    const gone: Plan = { type: 'CPP', startDate: '2025-01-01', endDate: dayOf(upload, -365) };
    const kept: Plan = { type: 'LAC', startDate: '2025-01-01', endDate: dayOf(purge, -365) };
    const deleted: Plan = { type: 'CPP', startDate: '2025-01-01', endDate: null, deleteDate: purge };
    const kids = shuffled(rng, state.people.children);
    const mothers = shuffled(rng, state.people.adults).slice(0, rng.int(1, state.people.adults.length));
    const third = Math.floor(kids.length / 3);
    const n1 = rng.int(1, third);
    const n2 = rng.int(1, third);
    const n3 = rng.int(1, Math.floor(third / 2));
    const n4 = Math.min(rng.int(50, 200), kids.length - n1 - n2 - n3);
    const records = [
      ...kids.slice(0, n1).map((p) => childRecord(p, [gone])),
      ...kids.slice(n1, n1 + n2).map((p) => childRecord(p, [gone, kept])),
      ...kids.slice(n1 + n2, n1 + n2 + n3).map((p) => childRecord(p, [kept])),
      ...kids.slice(n1 + n2 + n3, n1 + n2 + n3 + n4).map((p) => childRecord(p, [deleted])),
      ...mothers.map((p) =>
        unbornRecord(
          p,
          { type: 'UCPP', startDate: '2025-01-01', endDate: dayOf(upload, -365) },
          '2027-09-01',
        ),
      ),
    ];
    const ack = await world.ok(la(laCode), 'POST', '/la/v1/uploads', { sequence: 1, records });
    if (ack.accepted !== records.length)
      throw new Error(`retention upload: ${JSON.stringify(ack).slice(0, 500)}`);
    const before: RetentionCounts = {
      subjects: records.length,
      CPP: n1 + n2 + n4,
      LAC: n2 + n3,
      UCPP: mothers.length,
    };
    const after: RetentionCounts = { subjects: n2 + n3, CPP: 0, LAC: n2 + n3, UCPP: 0 };
    const got = await countsOf(world, laCode);
    const violations: string[] = [];
    if (retentionState(laCode, got, before, before).state !== 'after')
      violations.push(
        `${laCode} before the purge: ${JSON.stringify(got)}, expected ${JSON.stringify(before)}`,
      );

    // Past midnight the retention job purges; the kill falls somewhere in it.
    const killAt = rng.logInt(5, 2500);
    const night = new Date(`${purge}T01:00:00Z`);
    await world.setClock(night.toISOString());
    await killAfter(world, killAt);
    await world.start();

    // Straight after the restart: each LA wholly purged or wholly not (before the clock moves on).
    const watched = [{ laCode, before, after }];
    if (state.previous) watched.push({ ...state.previous, before: state.previous.after, after: EMPTY });
    const states: string[] = [];
    for (const w of watched) {
      const r = retentionState(w.laCode, await countsOf(world, w.laCode), w.before, w.after);
      states.push(r.state);
      if (r.problem) violations.push(`after the kill: ${r.problem}`);
    }
    // Then the purge runs again for the day, and must finish the job.
    await world.setClock(night.toISOString());
    violations.push(
      ...(await settle(world, night, async () => {
        const out: string[] = [];
        for (const w of watched) {
          const c = await countsOf(world, w.laCode);
          if (retentionState(w.laCode, c, w.after, w.after).state !== 'after')
            out.push(
              `${w.laCode} not purged by the rules after the restart: ${JSON.stringify(c)}, expected ${JSON.stringify(w.after)}`,
            );
        }
        return out;
      })),
    );
    state.previous = { laCode, after };
    return {
      violations,
      note: `kill at ${killAt} ms into the 01:00 purge; ${records.length} records; state at restart ${states.join('/')}`,
    };
  },
};

export const FLOWS: Flow[] = [uploadFlow, queryFlow, dispatchFlow, webhookFlow, retentionFlow];
