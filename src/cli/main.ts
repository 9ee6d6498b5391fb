/**
 * The `cpis` command. `serve` runs the service; `migrate` and `seed` work on the store directly
 * (the data-directory lock stops them while a service holds an embedded store); everything that
 * needs a running service talks to it over HTTP.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Command, Option } from 'commander';
import { startService, storeConfigOf } from '../app.ts';
import {
  type CheckpointPublicKey,
  importPublicKey,
  type SignedCheckpoint,
  verifyCheckpoint,
} from '../audit/checkpoint.ts';
import { fromHex, verifyConsistency } from '../audit/merkle.ts';
import type { VerifyResult } from '../audit/verify.ts';
import { ConfigError, ENVIRONMENT, loadConfig } from '../config.ts';
import { loadDemoWorld } from '../demo/world.ts';
import { detectOdsKind, type OdsFileKind, parseOdsCsv } from '../directory/ods-csv.ts';
import { londonDateOf } from '../domain/dates.ts';
import { checkNhsNumber, formatNhsNumber, nextValidNhsNumber } from '../domain/nhs-number.ts';
import { openStore } from '../store/db.ts';
import { DataDirLockedError } from '../store/lock.ts';
import { migrateToLatest } from '../store/migrate.ts';
import { CliError, explain, ServiceClient } from './client.ts';
import { runDemo } from './demo.ts';

const program = new Command()
  .name('cpis')
  .description('Open CP-IS: Child Protection - Information Sharing')
  .showHelpAfterError()
  .addHelpText(
    'after',
    `\nEnvironment:\n${ENVIRONMENT.map(([name, dflt, what]) => `  ${name.padEnd(20)} ${what} (default ${dflt})`).join('\n')}`,
  );

const urlOption = () => new Option('--url <url>', 'service URL (default CPIS_URL, or http://HOST:PORT)');
const tokenOption = () =>
  new Option('--token <token>', 'bearer token (default CPIS_TOKEN; in demo mode a persona token)');

program
  .command('serve')
  .description('run the service (demo mode and the embedded store unless configured otherwise)')
  .action(async () => {
    const service = await startService({ config: loadConfig() });
    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      service.logger.info({ signal }, 'stopping');
      await service.stop();
      process.exit(0);
    };
    process.on('SIGINT', () => void shutdown('SIGINT'));
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
  });

program
  .command('migrate')
  .description('bring the database schema up to date')
  .action(async () => {
    const config = loadConfig();
    const store = await openStore(storeConfigOf(config));
    try {
      const { applied } = await migrateToLatest(store.db);
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema already up to date');
    } finally {
      await store.close();
    }
  });

program
  .command('seed')
  .description('load the demo world (organisations, local authorities, synthetic people) into the store')
  .option('--people <n>', 'synthetic people to generate', (v) => positiveInt('--people', v))
  .option('--seed <n>', 'seed of the population (same seed, same people)', (v) => positiveInt('--seed', v))
  .action(async (opts: { people?: number; seed?: number }) => {
    const config = loadConfig();
    const store = await openStore(storeConfigOf(config));
    try {
      await migrateToLatest(store.db);
      const summary = await loadDemoWorld(store.db, new Date(), {
        people: opts.people ?? config.demoPeople,
        seed: opts.seed ?? config.demoSeed,
      });
      console.log(
        `demo world on ${store.engine}: ${summary.organisations} organisations, ${summary.localAuthorities} local authorities, ` +
          `${summary.people} people added in ${summary.seconds.toFixed(1)} s`,
      );
    } finally {
      await store.close();
    }
  });

const nhs = program.command('nhs-number').description('NHS number tools');
nhs
  .command('check')
  .description('check NHS numbers (Modulus 11); exits 1 if any is invalid')
  .argument('<numbers...>')
  .action((numbers: string[]) => {
    let bad = 0;
    for (const n of numbers) {
      const r = checkNhsNumber(n);
      if (r.ok)
        console.log(
          `${formatNhsNumber(r.nhsNumber)}  valid${r.nhsNumber.startsWith('999') ? ' (test range)' : ''}`,
        );
      else {
        bad++;
        console.log(`${n}  invalid: ${r.message}`);
      }
    }
    process.exitCode = bad ? 1 : 0;
  });
nhs
  .command('generate')
  .description('print valid NHS numbers from the test range (999...), for synthetic data only')
  .option('--count <n>', 'how many', (v) => positiveInt('--count', v), 5)
  .option('--from <nine>', 'start from these nine leading digits (must start 999)')
  .action((opts: { count: number; from?: string }) => {
    let nine: number;
    if (opts.from !== undefined) {
      if (!/^999\d{6}$/.test(opts.from)) throw new CliError('--from must be nine digits starting 999');
      nine = Number(opts.from);
    } else nine = 999_000_000 + Math.floor(Math.random() * 999_000);
    for (let i = 0; i < opts.count; i++) {
      const r = nextValidNhsNumber(nine);
      if (!r.nhsNumber.startsWith('999')) break;
      console.log(r.nhsNumber);
      nine = r.nextNine;
    }
  });

const directory = program.command('directory').description('organisation directory');
directory
  .command('import')
  .description(
    'import an NHS ODS CSV extract (etr.csv trusts, ets.csv sites, epraccur.csv GP practices) into a running service',
  )
  .argument('<file>')
  .addOption(
    new Option('--kind <kind>', 'file layout (default: from the file name)').choices([
      'trusts',
      'sites',
      'gp-practices',
    ]),
  )
  .addOption(urlOption())
  .addOption(tokenOption())
  .action(async (file: string, opts: { kind?: OdsFileKind; url?: string; token?: string }) => {
    const kind = opts.kind ?? detectOdsKind(basename(file));
    if (!kind)
      throw new CliError(
        `cannot tell the layout of ${basename(file)} from its name: give --kind trusts|sites|gp-practices`,
      );
    const parsed = parseOdsCsv(readFileSync(file, 'utf8'), kind, londonDateOf(new Date()));
    for (const p of parsed.problems.slice(0, 20)) console.error(`line ${p.line}: ${p.message}`);
    if (parsed.problems.length > 20) console.error(`... and ${parsed.problems.length - 20} more problems`);
    const client = new ServiceClient(opts);
    let created = 0;
    let updated = 0;
    for (let i = 0; i < parsed.organisations.length; i += 5000) {
      const r = await client.call<{ created: number; updated: number }>(
        { kind: 'admin' },
        'POST',
        '/admin/v1/organisations/import',
        {
          organisations: parsed.organisations.slice(i, i + 5000),
        },
      );
      created += r.created;
      updated += r.updated;
    }
    console.log(
      `${basename(file)} (${kind}): ${created} created, ${updated} updated, ${parsed.skippedClosed} closed skipped, ` +
        `${parsed.problems.length} rows unreadable`,
    );
    if (parsed.problems.length) process.exitCode = 2;
  });

const FILE_CODES: Record<string, string> = {
  CPF01: 'file unreadable: nothing applied',
  CPF02: 'all records accepted',
  CPF03: 'some records accepted',
  CPF04: 'no record accepted',
  CPF05: 'demographics unavailable: nothing applied, resubmit',
  CPF06: 'client version no longer supported',
};

program
  .command('upload')
  .description(
    "send a local authority's upload file (JSON or CSV) to the running service and print the acknowledgement",
  )
  .argument('<file>')
  .option(
    '--sequence <n>',
    'the sequence number (required for CSV; for JSON, if given, it must match the file)',
  )
  .option('--snapshot', "snapshot mode: end this LA's records for subjects absent from the file")
  .option(
    '--la <code>',
    'demo mode: the local authority to upload as (with a real credential, the token decides)',
  )
  .addOption(
    new Option('--format <format>', 'file format (default: from the extension)').choices(['json', 'csv']),
  )
  .addOption(urlOption())
  .addOption(tokenOption())
  .action(
    async (
      file: string,
      opts: {
        sequence?: string;
        snapshot?: boolean;
        la?: string;
        format?: 'json' | 'csv';
        url?: string;
        token?: string;
      },
    ) => {
      const format =
        opts.format ??
        (file.toLowerCase().endsWith('.csv') ? 'csv' : file.toLowerCase().endsWith('.json') ? 'json' : null);
      if (!format) throw new CliError('cannot tell the format from the file name: give --format json|csv');
      if (format === 'csv' && opts.sequence === undefined)
        throw new CliError('a CSV upload needs --sequence N');
      if (opts.sequence !== undefined) positiveInt('--sequence', opts.sequence);
      const client = new ServiceClient(opts);
      if (!opts.token && !process.env.CPIS_TOKEN && !opts.la) {
        throw new CliError(
          'say which local authority to upload as (--la E08000025), or give a real credential (--token / CPIS_TOKEN)',
        );
      }
      const token = await client.token({ kind: 'local-authority', laCode: opts.la ?? 'unused' });
      const query = new URLSearchParams();
      if (opts.sequence !== undefined) query.set('sequence', opts.sequence);
      if (opts.snapshot) query.set('mode', 'snapshot');
      const res = await client.stream(
        'POST',
        `/la/v1/uploads${query.size ? `?${query}` : ''}`,
        createReadStream(file),
        format === 'csv' ? 'text/csv' : 'application/json',
        token,
      );
      const body = (await res.json()) as {
        sequence?: number | null;
        mode?: string;
        fileCode?: string;
        received?: number;
        accepted?: number;
        rejected?: number;
        records?: {
          index: number;
          nhsNumber: string | null;
          code: string;
          field?: string;
          detail?: string;
          message?: string;
          replacementNhsNumber?: string | null;
        }[];
      };
      if (!body.fileCode) throw new CliError(`upload refused (HTTP ${res.status}): ${explain(body)}`);
      console.log(
        `sequence ${body.sequence ?? '?'}${body.mode ? ` (${body.mode})` : ''}: ${body.fileCode} ${FILE_CODES[body.fileCode] ?? ''}` +
          (body.fileCode === 'CPF01' || body.fileCode === 'CPF05'
            ? `\n  ${explain(body)}`
            : ` - ${body.received} received, ${body.accepted} accepted, ${body.rejected} rejected`),
      );
      for (const r of (body.records ?? []).filter((x) => x.code !== 'CPR06')) {
        const extra = r.replacementNhsNumber ? ` (replacement ${r.replacementNhsNumber})` : '';
        console.log(
          `  #${r.index} ${r.nhsNumber ?? '(no NHS number)'} ${r.code}${r.detail ? ` ${r.detail}` : ''}: ${r.message ?? ''}${extra}${r.field ? ` [${r.field}]` : ''}`,
        );
      }
      process.exitCode = body.fileCode === 'CPF02' ? 0 : res.ok ? 2 : 1;
    },
  );

const audit = program.command('audit').description("the running service's tamper-evident audit trail");
audit
  .command('verify')
  .description(
    're-walk the hash chain: exit 0 with the entry count and head hash if intact, exit 1 naming the first entry ' +
      'that was altered, removed or reordered. With --checkpoint, also prove the log still extends a checkpoint ' +
      'saved earlier (cpis audit checkpoint --out): entries cut off the end or rewritten fail it',
  )
  .option(
    '--checkpoint <file>',
    'a checkpoint saved by `cpis audit checkpoint --out`, to check the log against',
  )
  .addOption(urlOption())
  .addOption(tokenOption())
  .action(async (opts: { checkpoint?: string; url?: string; token?: string }) => {
    const client = new ServiceClient(opts);
    const saved = opts.checkpoint ? readSavedCheckpoint(opts.checkpoint) : null;
    const r = await client.call<VerifyResult>({ kind: 'admin' }, 'GET', '/admin/v1/audit/verify');
    if (r.ok) {
      const cps = r.checkpoints?.checked ? `; ${r.checkpoints.checked} published checkpoints match` : '';
      console.log(`audit trail intact: ${r.entries} entries; head ${r.headSeq} ${r.headHash}${cps}`);
    } else {
      console.error(
        `audit trail BROKEN at entry ${r.seq} (${r.problem}): ${r.message}. ` +
          `${r.entriesChecked} entries before it are intact; the head is entry ${r.headSeq}.`,
      );
      process.exitCode = 1;
    }
    if (!saved) return;
    const problem = await checkAgainstSaved(client, saved);
    if (problem) {
      console.error(`audit trail BROKEN against the saved checkpoint ${opts.checkpoint}: ${problem}`);
      process.exitCode = 1;
    } else {
      console.log(
        `saved checkpoint consistent: the first ${saved.checkpoint.treeSize} entries (checkpoint of ` +
          `${saved.checkpoint.timestamp}) are unchanged in the current log`,
      );
    }
  });
audit
  .command('checkpoint')
  .description(
    "save the service's current signed checkpoint with its public key, for a monitor to check the log against later",
  )
  .option('--out <file>', 'write it to this file instead of stdout')
  .addOption(urlOption())
  .addOption(tokenOption())
  .action(async (opts: { out?: string; url?: string; token?: string }) => {
    const client = new ServiceClient(opts);
    const publicKey = await client.call<CheckpointPublicKey>(
      { kind: 'admin' },
      'GET',
      '/admin/v1/audit/checkpoint/public-key',
    );
    const checkpoint = await client.call<SignedCheckpoint>(
      { kind: 'admin' },
      'GET',
      '/admin/v1/audit/checkpoint',
    );
    if (!verifyCheckpoint(checkpoint, importPublicKey(publicKey))) {
      throw new CliError("the service's checkpoint does not verify under its own public key");
    }
    const file: SavedCheckpoint = { service: client.baseUrl, checkpoint, publicKey };
    const text = `${JSON.stringify(file, null, 2)}\n`;
    if (!opts.out) {
      process.stdout.write(text);
      return;
    }
    writeFileSync(opts.out, text);
    console.log(
      `checkpoint saved to ${opts.out}: ${checkpoint.treeSize} entries, root ${checkpoint.rootHash}, ` +
        `published ${checkpoint.timestamp}`,
    );
  });
audit
  .command('export')
  .description('write audit entries as FHIR AuditEvents (NDJSON, IHE BALP shapes) to stdout or a file')
  .option(
    '--since <instant>',
    'entries recorded at or after this ISO 8601 instant (e.g. 2026-11-01T00:00:00Z)',
  )
  .option('--until <instant>', 'entries recorded before this ISO 8601 instant')
  .option('--out <file>', 'write to this file instead of stdout')
  .addOption(urlOption())
  .addOption(tokenOption())
  .action(async (opts: { since?: string; until?: string; out?: string; url?: string; token?: string }) => {
    const client = new ServiceClient(opts);
    const qs = new URLSearchParams();
    if (opts.since) qs.set('since', opts.since);
    if (opts.until) qs.set('until', opts.until);
    const res = await client.raw('GET', `/admin/v1/audit/export${qs.size ? `?${qs}` : ''}`, {
      token: await client.token({ kind: 'admin' }),
    });
    if (!res.ok || !res.body) {
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {}
      throw new CliError(`audit export failed (HTTP ${res.status}): ${explain(body)}`, body);
    }
    const input = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
    if (opts.out) {
      await pipeline(input, createWriteStream(opts.out));
      return;
    }
    // stdout is never ended; write with back-pressure.
    for await (const chunk of input) {
      if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
    }
  });

/** What `cpis audit checkpoint --out` writes: a checkpoint and the key that signed it. */
interface SavedCheckpoint {
  service: string;
  checkpoint: SignedCheckpoint;
  publicKey: CheckpointPublicKey;
}

function readSavedCheckpoint(path: string): SavedCheckpoint {
  let saved: SavedCheckpoint;
  try {
    saved = JSON.parse(readFileSync(path, 'utf8')) as SavedCheckpoint;
  } catch (err) {
    throw new CliError(`cannot read the saved checkpoint ${path}: ${(err as Error).message}`);
  }
  if (!saved?.checkpoint || !saved.publicKey) {
    throw new CliError(`${path} is not a checkpoint saved by \`cpis audit checkpoint --out\``);
  }
  let key: ReturnType<typeof importPublicKey>;
  try {
    key = importPublicKey(saved.publicKey);
  } catch (err) {
    throw new CliError(`the public key in ${path} cannot be read: ${(err as Error).message}`);
  }
  if (!verifyCheckpoint(saved.checkpoint, key)) {
    throw new CliError(
      `the saved checkpoint in ${path} does not verify under its public key: the file was altered or forged`,
    );
  }
  return saved;
}

/**
 * Prove the current log extends the saved checkpoint: the same signing key, a current checkpoint
 * it signed, and a consistency proof between the two checked here. Null when all holds; otherwise
 * what was cut or rewritten.
 */
async function checkAgainstSaved(client: ServiceClient, saved: SavedCheckpoint): Promise<string | null> {
  const old = saved.checkpoint;
  const key = importPublicKey(saved.publicKey);
  const current = await client.call<CheckpointPublicKey>(
    { kind: 'admin' },
    'GET',
    '/admin/v1/audit/checkpoint/public-key',
  );
  if (current.keyId !== saved.publicKey.keyId) {
    return (
      `the service now signs checkpoints with key ${current.keyId}, not the saved ${saved.publicKey.keyId}: ` +
      'its checkpoints cannot be trusted to extend the saved one (if the key was rotated on purpose, save a new checkpoint)'
    );
  }
  let now: SignedCheckpoint;
  try {
    now = await client.call<SignedCheckpoint>({ kind: 'admin' }, 'GET', '/admin/v1/audit/checkpoint');
  } catch (err) {
    if (err instanceof CliError) return `the service cannot publish a checkpoint: ${err.message}`;
    throw err;
  }
  if (!verifyCheckpoint(now, key)) return "the service's current checkpoint is not validly signed (forged)";
  if (now.treeSize < old.treeSize) {
    return (
      `TRUNCATED: entries ${now.treeSize + 1} to ${old.treeSize} were cut off: the log now holds ${now.treeSize} ` +
      `entries but the checkpoint saved from ${old.timestamp} covered ${old.treeSize}`
    );
  }
  const rewritten =
    `REWRITTEN: the log's first ${old.treeSize} entries no longer give the saved checkpoint's root ` +
    `(${old.timestamp}): entries up to ${old.treeSize} were altered, removed, inserted or reordered and the ` +
    `chain rebuilt, or cut off and written again (the log now holds ${now.treeSize})`;
  const proof = await client.call<{ proof: string[] }>(
    { kind: 'admin' },
    'GET',
    `/admin/v1/audit/proof/consistency?from=${old.treeSize}&to=${now.treeSize}`,
  );
  const ok = verifyConsistency(
    old.treeSize,
    now.treeSize,
    fromHex(old.rootHash),
    fromHex(now.rootHash),
    proof.proof.map((h) => fromHex(h, 'proof hash')),
  );
  return ok ? null : rewritten;
}

program
  .command('demo')
  .description(
    'play the storyboards (Johnny, Lucy, Tracy, the Staffordshire flood) against a running service in demo mode',
  )
  .addOption(urlOption())
  .action(async (opts: { url?: string }) => {
    await runDemo(new ServiceClient(opts), (line = '') => console.log(line));
  });

function positiveInt(name: string, v: string): number {
  if (!/^\d+$/.test(v)) throw new CliError(`${name} must be a whole number`);
  return Number(v);
}

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CliError || err instanceof ConfigError || err instanceof DataDirLockedError) {
    console.error(`cpis: ${err.message}`);
    process.exit(1);
  }
  console.error(err);
  process.exit(1);
});
