/**
 * Signed checkpoints over the audit trail, end to end on both engines: checkpoints are published
 * and signed, the proofs served verify against them, and every kind of tampering an insider with
 * database rights could do (the append-only triggers disabled) is caught — by `GET
 * /admin/v1/audit/verify` while the checkpoint table survives, and by `cpis audit verify
 * --checkpoint` against a monitor's saved checkpoint even when it does not.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.ts';
import { engines } from '../../test/engines.ts';
import { admin, buildTestApp, clinician, issueOf, T0, type TestApp } from '../../test/helper.ts';
import { transact } from '../store/db.ts';
import type { AuditCheckpointTable, AuditLogTable, AuditMerkleNodeTable } from '../store/schema.ts';
import {
  CheckpointSigner,
  checkpointJob,
  importPublicKey,
  type SignedCheckpoint,
  STORED_LEVEL,
  verifyCheckpoint,
} from './checkpoint.ts';
import { appendAudit, entryHash } from './log.ts';
import { fromHex, leafHash, rootOf, verifyConsistency, verifyInclusion } from './merkle.ts';
import { rowToEntry, verifyAuditChain } from './verify.ts';

const cli = runCli;

const TABLES = ['audit_log', 'audit_checkpoint', 'audit_merkle_node'] as const;
const TRIGGERS = {
  audit_log: ['audit_log_append_only'],
  audit_checkpoint: ['audit_checkpoint_append_only'],
  audit_merkle_node: ['audit_merkle_node_append_only'],
} as const;

describe.each(engines())('signed checkpoints over the audit trail on %s', (engine) => {
  let t: TestApp;
  let url: string;
  let dir: string;

  beforeAll(async () => {
    // No scheduler: nothing else writes to the trail while tests count entries.
    t = await buildTestApp(engine, { scheduler: false });
    url = await t.service.http.listen({ host: '127.0.0.1', port: 0 });
    dir = mkdtempSync(join(tmpdir(), 'cpis-checkpoint-'));
    // A log long enough (past 2 x 256 entries) that proofs use stored subtrees as well as entries.
    await transact(t.service.store.db, (trx) =>
      appendAudit(
        trx,
        T0,
        Array.from({ length: 600 }, (_, i) => ({
          category: 'system' as const,
          action: 'test.history',
          outcome: 'success' as const,
          actor: { kind: 'system' },
          detail: { i },
        })),
      ),
    );
  });
  afterAll(async () => {
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const db = () => t.service.store.db;
  const signer = () => {
    const s = t.service.deps.checkpointSigner;
    if (!s) throw new Error('the service was started without a checkpoint signer (see src/app.ts)');
    return s;
  };

  async function head(): Promise<{ seq: number; hash: string }> {
    const h = await db().selectFrom('audit_head').select(['seq', 'hash']).executeTakeFirstOrThrow();
    return { seq: Number(h.seq), hash: h.hash };
  }

  async function checkpoint(): Promise<SignedCheckpoint> {
    const res = await t.as(admin).get('/admin/v1/audit/checkpoint');
    expect(res.statusCode).toBe(200);
    return res.json();
  }

  async function verify() {
    const res = await t.as(admin).get('/admin/v1/audit/verify');
    expect(res.statusCode).toBe(200);
    return res.json();
  }

  async function leaves(): Promise<Buffer[]> {
    const rows = await db().selectFrom('audit_log').select('hash').orderBy('seq').execute();
    return rows.map((r) => leafHash(r.hash));
  }

  it('publishes a signed checkpoint of the whole log, verifiable with the published key', async () => {
    const before = await head();
    const cp = await checkpoint();
    expect(cp).toMatchObject({
      origin: 'open-cpis/audit-log',
      treeSize: before.seq,
      timestamp: T0.toISOString(),
    });
    expect(cp.rootHash).toBe(rootOf((await leaves()).slice(0, before.seq)).toString('hex'));
    const keyRes = await t.as(admin).get('/admin/v1/audit/checkpoint/public-key');
    expect(keyRes.statusCode).toBe(200);
    const key = keyRes.json();
    expect(key).toMatchObject({ algorithm: 'Ed25519', jwk: { kty: 'OKP', crv: 'Ed25519' }, keyId: cp.keyId });
    expect(verifyCheckpoint(cp, importPublicKey({ jwk: key.jwk }))).toBe(true);
    expect(verifyCheckpoint(cp, importPublicKey({ pem: key.pem }))).toBe(true);
    // Asking again covers what was logged since (the asking itself): a newer one.
    const next = await checkpoint();
    expect(next.treeSize).toBe(before.seq + 2);
    // Both askings are in the trail.
    const entries = await db()
      .selectFrom('audit_log')
      .select('action')
      .where('seq', '>', before.seq)
      .execute();
    expect(entries.map((e) => e.action)).toEqual([
      'audit.checkpoint',
      'audit.checkpoint',
      'audit.checkpoint',
    ]);
  });

  it('the scheduled job publishes when the log has grown and the last one is old enough', async () => {
    const job = checkpointJob(db(), signer(), 5 * 60_000);
    const last = await checkpoint(); // logs its own asking, so the log has grown past it
    expect(await job.run(new Date(T0.getTime() + 60_000))).toBeNull();
    const ran = await job.run(new Date(T0.getTime() + 6 * 60_000));
    expect(ran).toMatchObject({ treeSize: last.treeSize + 1 });
    // Nothing new logged since: nothing to publish, however late.
    expect(await job.run(new Date(T0.getTime() + 60 * 60_000))).toBeNull();
  });

  it('inclusion and consistency proofs served verify against signed checkpoints', async () => {
    const cp = await checkpoint();
    const all = await leaves();
    const root = fromHex(cp.rootHash);
    for (const seq of [1, 2, 255, 256, 257, 300, 512, 513, cp.treeSize]) {
      const res = await t.as(admin).get(`/admin/v1/audit/proof/inclusion?seq=${seq}&treeSize=${cp.treeSize}`);
      expect(res.statusCode).toBe(200);
      const p = res.json();
      expect(p).toMatchObject({ seq, treeSize: cp.treeSize, leafIndex: seq - 1 });
      const proof = p.proof.map((h: string) => fromHex(h));
      expect(verifyInclusion(leafHash(p.entryHash), seq - 1, cp.treeSize, proof, root)).toBe(true);
      expect(verifyInclusion(all[seq % cp.treeSize]!, seq - 1, cp.treeSize, proof, root)).toBe(false);
    }
    // Subtrees of 256 entries and up were kept as the checkpoints were built.
    const nodes = await db()
      .selectFrom('audit_merkle_node')
      .selectAll()
      .orderBy('level')
      .orderBy('idx')
      .execute();
    expect(nodes.map((n) => [n.level, Number(n.idx)])).toEqual([
      [STORED_LEVEL, 0],
      [STORED_LEVEL, 1],
      [STORED_LEVEL + 1, 0],
    ]);
    expect(nodes[2]!.hash).toBe(rootOf(all.slice(0, 512)).toString('hex'));
    // From an early size (no checkpoint needed) and from a published checkpoint to a later one.
    const later = await checkpoint();
    const upToLater = (await leaves()).slice(0, later.treeSize);
    for (const from of [0, 1, 7, 256, 300, cp.treeSize, later.treeSize]) {
      const res = await t
        .as(admin)
        .get(`/admin/v1/audit/proof/consistency?from=${from}&to=${later.treeSize}`);
      expect(res.statusCode).toBe(200);
      const proof = res.json().proof.map((h: string) => fromHex(h));
      const fromRoot = from === cp.treeSize ? root : rootOf(upToLater.slice(0, from));
      expect(verifyConsistency(from, later.treeSize, fromRoot, fromHex(later.rootHash), proof)).toBe(true);
    }
  });

  it('verifying pages through entries and checkpoints alike', async () => {
    const published = await db().selectFrom('audit_checkpoint').select('tree_size').execute();
    expect(published.length).toBeGreaterThan(3);
    const r = await verifyAuditChain(db(), { pageSize: 2, checkpointKey: signer().publicKey });
    expect(r).toMatchObject({
      ok: true,
      checkpoints: { checked: published.length, signaturesChecked: true },
    });
  });

  it('bad parameters are refused with 400 naming the field', async () => {
    const { seq } = await head();
    const cases: [string, string][] = [
      ['inclusion?treeSize=5', 'seq'],
      ['inclusion?seq=abc&treeSize=5', 'seq'],
      ['inclusion?seq=0&treeSize=5', 'seq'],
      ['inclusion?seq=6&treeSize=5', 'seq'],
      ['inclusion?seq=1&treeSize=-1', 'treeSize'],
      [`inclusion?seq=1&treeSize=${seq + 10}`, 'treeSize'],
      ['inclusion?seq=1&treeSize=5&colour=red', 'colour'],
      ['consistency?to=5', 'from'],
      ['consistency?from=1.5&to=5', 'from'],
      ['consistency?from=6&to=5', 'from'],
      [`consistency?from=1&to=${seq + 10}`, 'to'],
    ];
    for (const [qs, field] of cases) {
      const res = await t.as(admin).get(`/admin/v1/audit/proof/${qs}`);
      expect(res.statusCode, qs).toBe(400);
      expect(issueOf(res).field, qs).toBe(field);
    }
    expect((await t.as(clinician()).get('/admin/v1/audit/checkpoint')).statusCode).toBe(403);
    expect((await t.as(clinician()).get('/admin/v1/audit/proof/consistency?from=1&to=2')).statusCode).toBe(
      403,
    );
  });

  // Each case runs the CLI (a process start), which is slow on a busy machine.
  describe('tampering', { timeout: 120_000 }, () => {
    type Snapshot = {
      log: AuditLogTable[];
      head: { seq: number; hash: string };
      checkpoints: AuditCheckpointTable[];
      nodes: AuditMerkleNodeTable[];
    };
    let saved: string;
    let snap: Snapshot;
    const tally: { kind: string; http: string | null; cli: string | null }[] = [];

    /** Run `fn` with the append-only triggers off, as only someone with rights over the database could. */
    async function tamper(fn: () => Promise<unknown>): Promise<void> {
      for (const table of TABLES) {
        for (const trig of TRIGGERS[table])
          await sql.raw(`alter table ${table} disable trigger ${trig}`).execute(db());
      }
      try {
        await fn();
      } finally {
        for (const table of TABLES) {
          for (const trig of TRIGGERS[table])
            await sql.raw(`alter table ${table} enable trigger ${trig}`).execute(db());
        }
      }
    }

    async function takeSnapshot(): Promise<Snapshot> {
      return {
        log: await db().selectFrom('audit_log').selectAll().orderBy('seq').execute(),
        head: await head(),
        checkpoints: await db().selectFrom('audit_checkpoint').selectAll().execute(),
        nodes: await db().selectFrom('audit_merkle_node').selectAll().execute(),
      };
    }

    const logValues = (rows: AuditLogTable[]) =>
      rows.map((r) => ({ ...r, actor: JSON.stringify(r.actor), detail: JSON.stringify(r.detail) }));

    async function insertLog(rows: AuditLogTable[]): Promise<void> {
      for (let i = 0; i < rows.length; i += 200) {
        await db()
          .insertInto('audit_log')
          .values(logValues(rows.slice(i, i + 200)))
          .execute();
      }
    }

    async function setHead(seq: number, hash: string): Promise<void> {
      await db().updateTable('audit_head').set({ seq, hash }).where('id', '=', 1).execute();
    }

    /** Put back everything as it was when the monitor saved its checkpoint. */
    async function restore(): Promise<void> {
      await tamper(async () => {
        for (const table of TABLES) await db().deleteFrom(table).execute();
        await insertLog(snap.log);
        await setHead(snap.head.seq, snap.head.hash);
        for (const c of snap.checkpoints) {
          await db()
            .insertInto('audit_checkpoint')
            .values({ ...c, frontier: JSON.stringify(c.frontier) })
            .execute();
        }
        if (snap.nodes.length) await db().insertInto('audit_merkle_node').values(snap.nodes).execute();
      });
      expect(await verify()).toMatchObject({ ok: true });
    }

    /** Re-chain entries from `from` on (their hashes recomputed) and move the head to match: a careful forger. */
    async function rechainFrom(from: number): Promise<void> {
      const rows = await db()
        .selectFrom('audit_log')
        .selectAll()
        .where('seq', '>=', from)
        .orderBy('seq')
        .execute();
      const prev = await db()
        .selectFrom('audit_log')
        .select('hash')
        .where('seq', '=', from - 1)
        .executeTakeFirst();
      let prevHash = prev?.hash ?? '0'.repeat(64);
      const rewritten = rows.map((r) => {
        const hash = entryHash(prevHash, rowToEntry(r));
        const out = { ...r, prev_hash: prevHash, hash };
        prevHash = hash;
        return out;
      });
      await db().deleteFrom('audit_log').where('seq', '>=', from).execute();
      await insertLog(rewritten);
      const last = rewritten.at(-1)!;
      await setHead(Number(last.seq), last.hash);
    }

    /** Cut the log to its first `keep` entries and move the head there, as if the rest never happened. */
    async function truncateTo(keep: number): Promise<void> {
      const last = await db()
        .selectFrom('audit_log')
        .select('hash')
        .where('seq', '=', keep)
        .executeTakeFirstOrThrow();
      await db().deleteFrom('audit_log').where('seq', '>', keep).execute();
      await setHead(keep, last.hash);
    }

    /** Also remove the checkpoints (and stored subtrees) that covered the cut entries. */
    async function forgetCheckpointsBeyond(keep: number): Promise<void> {
      await db().deleteFrom('audit_checkpoint').where('tree_size', '>', keep).execute();
      for (const n of await db().selectFrom('audit_merkle_node').selectAll().execute()) {
        if ((Number(n.idx) + 1) * 2 ** n.level > keep) {
          await db()
            .deleteFrom('audit_merkle_node')
            .where('level', '=', n.level)
            .where('idx', '=', n.idx)
            .execute();
        }
      }
    }

    /** Check with both verifiers; each says what it found (null: nothing). */
    async function detect(
      kind: string,
    ): Promise<{ http: Record<string, unknown>; cli: { code: number | null; err: string } }> {
      const http = await verify();
      const c = await cli(['audit', 'verify', '--checkpoint', saved], url);
      tally.push({
        kind,
        http: http.ok ? null : `${http.problem} at ${http.seq}`,
        cli: c.code === 0 ? null : c.err.trim(),
      });
      return { http, cli: { code: c.code, err: c.err } };
    }

    beforeAll(async () => {
      saved = join(dir, 'saved.json');
      const r = await cli(['audit', 'checkpoint', '--out', saved], url);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^checkpoint saved to .*saved\.json: \d+ entries, root [0-9a-f]{64}/);
      snap = await takeSnapshot();
    }, 120_000);

    afterAll(() => {
      const detected = tally.filter((x) => x.http || x.cli).length;
      console.log(
        `[${engine}] tamper kinds detected / tried: ${detected} / ${tally.length}\n` +
          tally.map((x) => `  ${x.kind}: http=${x.http ?? '-'}; cli=${x.cli ? 'BROKEN' : '-'}`).join('\n'),
      );
      expect(tally.length).toBe(8);
      expect(detected).toBe(tally.length);
    });

    it('an intact log passes both, against the saved checkpoint too', async () => {
      const r = await cli(['audit', 'verify', '--checkpoint', saved], url);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(
        /audit trail intact: \d+ entries; head \d+ [0-9a-f]{64}; \d+ published checkpoints match/,
      );
      expect(r.out).toMatch(/saved checkpoint consistent: the first \d+ entries/);
    });

    it('an altered entry', async () => {
      const original = snap.log[99]!;
      await tamper(() =>
        db()
          .updateTable('audit_log')
          .set({ detail: JSON.stringify({ i: 'nothing to see' }) })
          .where('seq', '=', original.seq)
          .execute(),
      );
      const { http, cli: c } = await detect('alter an entry');
      expect(http).toMatchObject({ ok: false, seq: 100, problem: 'altered' });
      expect(c.code).toBe(1);
      await restore();
    });

    it('a removed entry', async () => {
      await tamper(() => db().deleteFrom('audit_log').where('seq', '=', 200).execute());
      const { http } = await detect('remove an entry');
      expect(http).toMatchObject({ ok: false, seq: 200, problem: 'missing' });
      await restore();
    });

    it('an inserted entry (the ones after it renumbered, the head moved)', async () => {
      await tamper(async () => {
        const { seq: headSeq } = await head();
        const tail = await db()
          .selectFrom('audit_log')
          .selectAll()
          .where('seq', '>=', 150)
          .orderBy('seq')
          .execute();
        await db().deleteFrom('audit_log').where('seq', '>=', 150).execute();
        const forged = { ...snap.log[148]!, seq: 150, detail: { i: 'forged' } };
        const prevHash = snap.log[148]!.hash;
        const hash = entryHash(prevHash, rowToEntry({ ...forged, prev_hash: prevHash, hash: '' }));
        await insertLog([
          { ...forged, prev_hash: prevHash, hash },
          ...tail.map((r) => ({ ...r, seq: Number(r.seq) + 1 })),
        ]);
        await setHead(headSeq + 1, tail.at(-1)!.hash);
      });
      const { http } = await detect('insert an entry');
      expect(http).toMatchObject({ ok: false, seq: 151, problem: 'broken-link' });
      await restore();
    });

    it('two entries swapped', async () => {
      const [a, b] = [snap.log[299]!, snap.log[300]!];
      await tamper(async () => {
        await db().deleteFrom('audit_log').where('seq', 'in', [300, 301]).execute();
        await insertLog([
          { ...b, seq: 300 },
          { ...a, seq: 301 },
        ]);
      });
      const { http } = await detect('reorder two entries');
      expect(http).toMatchObject({ ok: false, seq: 300, problem: 'broken-link' });
      await restore();
    });

    it('history rewritten: an entry altered and every one after re-chained, the head moved to match', async () => {
      await tamper(async () => {
        await db()
          .updateTable('audit_log')
          .set({ detail: JSON.stringify({ i: 'rewritten' }) })
          .where('seq', '=', 400)
          .execute();
        await rechainFrom(400);
      });
      const { http, cli: c } = await detect('rewrite and re-chain');
      // The chain holds; the published checkpoints' roots do not.
      expect(http).toMatchObject({ ok: false, problem: 'rewritten' });
      expect(http.seq as number).toBeLessThanOrEqual(400);
      expect(c.code).toBe(1);
      expect(c.err).toMatch(
        /REWRITTEN: the log's first \d+ entries no longer give the saved checkpoint's root/,
      );
      await restore();
    });

    it('entries cut off the end and the head rewritten to match', async () => {
      const size = JSON.parse(readFileSync(saved, 'utf8')).checkpoint.treeSize as number;
      await tamper(() => truncateTo(size - 5));
      const { http, cli: c } = await detect('truncate, head rewritten');
      expect(http).toMatchObject({ ok: false, seq: size - 4, problem: 'truncated' });
      expect(http.message).toMatch(new RegExp(`entries ${size - 4} to \\d+ were cut off`));
      expect(c.code).toBe(1);
      expect(c.err).toMatch(/were cut off/);
      await restore();
    });

    it('the same, with the later checkpoints deleted too: only the saved checkpoint shows it', async () => {
      const size = JSON.parse(readFileSync(saved, 'utf8')).checkpoint.treeSize as number;
      await tamper(async () => {
        await truncateTo(size - 5);
        await forgetCheckpointsBeyond(size - 5);
      });
      const { http, cli: c } = await detect('truncate, head rewritten, checkpoints deleted');
      // Without an outside copy the cut is invisible: what is left is a consistent, shorter log.
      expect(http).toMatchObject({ ok: true });
      expect(c.code).toBe(1);
      expect(c.err).toMatch(new RegExp(`TRUNCATED: entries \\d+ to ${size} were cut off`));
      await restore();
    });

    it('the same, and then the log grown back past the saved size', async () => {
      const size = JSON.parse(readFileSync(saved, 'utf8')).checkpoint.treeSize as number;
      await tamper(async () => {
        await truncateTo(size - 5);
        await forgetCheckpointsBeyond(size - 5);
      });
      // Ordinary traffic appends new entries where the cut ones were.
      for (let i = 0; i < 10; i++) await t.as(admin).get('/admin/v1/audit/checkpoint/public-key');
      expect((await head()).seq).toBeGreaterThan(size);
      const { http, cli: c } = await detect('truncate, checkpoints deleted, log grown back');
      expect(http).toMatchObject({ ok: true });
      expect(c.code).toBe(1);
      expect(c.err).toMatch(/REWRITTEN/);
      await restore();
    });

    it('a forged checkpoint is rejected, in the table and in a saved file', async () => {
      // In the table: the latest checkpoint's root kept, its signature made with another key.
      const latest = await db()
        .selectFrom('audit_checkpoint')
        .selectAll()
        .orderBy('tree_size', 'desc')
        .limit(1)
        .executeTakeFirstOrThrow();
      const forged = CheckpointSigner.ephemeral().sign(
        Number(latest.tree_size),
        latest.root_hash,
        latest.published_at,
      );
      await tamper(async () => {
        await db().deleteFrom('audit_checkpoint').where('tree_size', '=', latest.tree_size).execute();
        await db()
          .insertInto('audit_checkpoint')
          .values({ ...latest, signature: forged.signature, frontier: JSON.stringify(latest.frontier) })
          .execute();
      });
      expect(await verify()).toMatchObject({
        ok: false,
        problem: 'bad-signature',
        seq: Number(latest.tree_size),
      });
      await restore();
      // In a file: a monitor's saved checkpoint with its size changed no longer verifies.
      const file = JSON.parse(readFileSync(saved, 'utf8'));
      const altered = join(dir, 'altered.json');
      writeFileSync(altered, JSON.stringify({ ...file, checkpoint: { ...file.checkpoint, treeSize: 3 } }));
      const r = await cli(['audit', 'verify', '--checkpoint', altered], url);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/does not verify under its public key: the file was altered or forged/);
      // Nor does one signed by a key other than the service's.
      const other = CheckpointSigner.ephemeral();
      const stranger = join(dir, 'stranger.json');
      writeFileSync(
        stranger,
        JSON.stringify({
          ...file,
          checkpoint: other.sign(file.checkpoint.treeSize, file.checkpoint.rootHash, T0),
          publicKey: other.publicKeyInfo(),
        }),
      );
      const s = await cli(['audit', 'verify', '--checkpoint', stranger], url);
      expect(s.code).toBe(1);
      expect(s.err).toMatch(/the service now signs checkpoints with key [0-9a-f]{64}, not the saved/);
    });
  });
});

describe('the checkpoint key', () => {
  it('demo mode keeps one key in the data directory, readable only by its owner', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpis-ckey-'));
    try {
      const a = CheckpointSigner.forConfig({ mode: 'demo', dataDir: dir, checkpointKeyFile: null })!;
      const b = CheckpointSigner.forConfig({ mode: 'demo', dataDir: dir, checkpointKeyFile: null })!;
      expect(b.keyId).toBe(a.keyId);
      expect(statSync(join(dir, 'keys', 'audit-checkpoint-key.pem')).mode & 0o777).toBe(0o600);
      // Production takes it from configuration, or publishes none.
      expect(
        CheckpointSigner.forConfig({ mode: 'production', dataDir: dir, checkpointKeyFile: null }),
      ).toBeNull();
      const file = join(dir, 'keys', 'audit-checkpoint-key.pem');
      expect(
        CheckpointSigner.forConfig({ mode: 'production', dataDir: '/nowhere', checkpointKeyFile: file })!
          .keyId,
      ).toBe(a.keyId);
      expect(() =>
        CheckpointSigner.forConfig({
          mode: 'production',
          dataDir: dir,
          checkpointKeyFile: join(dir, 'missing.pem'),
        }),
      ).toThrow(/CPIS_CHECKPOINT_KEY_FILE cannot be used/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
