/**
 * The service, start to finish. Read this file as the table of contents: open the store, bring
 * the schema up to date, set up the clock and identity, connect demographics, load the directory
 * (and in demo mode the demo world), start the query committer, set up the health portal (its
 * sign-in and, in demo mode, the stand-in for NHS CIS2), register the routes, listen.
 * `stop()` undoes each step in reverse.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { CheckpointSigner, checkpointJob } from './audit/checkpoint.ts';
import { cachingVerifier } from './auth/cache.ts';
import { DemoTokenService, remoteVerifier, type TokenVerifier } from './auth/tokens.ts';
import type { Config } from './config.ts';
import { isEmptyStore, loadDemoWorld } from './demo/world.ts';
import type { DemographicsListener } from './demographics/admin.ts';
import { SwitchableDemographics } from './demographics/faults.ts';
import { PdsFhirClient } from './demographics/pds-client.ts';
import { LocalRegister } from './demographics/register.ts';
import type { DemographicsService } from './demographics/types.ts';
import { type Clock, SettableClock, systemClock } from './domain/clock.ts';
import type { HttpDeps } from './http/deps.ts';
import { lazyCompilers } from './http/lazy-compilers.ts';
import { auditRoutes } from './http/routes/audit.ts';
import { fhirRoutes } from './http/routes/fhir.ts';
import { buildHttp } from './http/server.ts';
import { episodesJob } from './inbox/episodes.ts';
import { createLogger } from './log.ts';
import { birthMessages, inactiveNumberMessages } from './notify/demographics-messages.ts';
import { dispatchJob } from './notify/dispatch.ts';
import { HttpPushSink, type PushSink, webhookJob } from './notify/webhook.ts';
import { QueryService } from './query/service.ts';
import { Scheduler } from './scheduler.ts';
import { openStore, type Store, type StoreConfig } from './store/db.ts';
import { maintenanceJob } from './store/maintenance.ts';
import { migrateToLatest } from './store/migrate.ts';
import { SecretBox, sealPlainSecrets } from './store/secret-box.ts';
import { MidFileHold } from './upload/hold.ts';
import { retentionJob } from './upload/retention.ts';
import { sweepOrphanSpools } from './upload/spool.ts';
import { recordsFollowSupersede } from './upload/supersede.ts';
import { createPortalDeps } from './web/deps.ts';
import { portalRoutes } from './web/portal.ts';
import { sessionPurgeJob } from './web/session.ts';

/**
 * When listening, the scheduler's first run (and the compiling of route schemas not used yet) waits
 * this long after the service starts answering.
 */
const FIRST_TICK_AFTER_MS = 1000;

export interface ServiceOptions {
  config: Config;
  logger?: Logger;
  /** Tests inject a store they made (a fresh database per test file). */
  store?: Store;
  /** Tests inject a clock they control; demo mode otherwise makes a settable one. */
  clock?: SettableClock;
  /** Tests inject an in-memory signing key instead of the data directory's. */
  demoTokens?: DemoTokenService;
  demographics?: DemographicsService;
  /** Load the demo world on an empty store (default: in demo mode). */
  demoWorld?: boolean;
  /** Listen on config.host:config.port (default true); tests use `inject()` instead. */
  listen?: boolean;
  /** Where webhook pushes go (default: HTTP). */
  pushSink?: PushSink;
  /** Start the scheduler (default true). Tests that count audit entries may leave it off and tick it themselves. */
  scheduler?: boolean;
  /** How often the scheduler looks for due work (default 30 s). */
  schedulerIntervalMs?: number;
  /** Tick the scheduler whenever the demo clock is moved (default true; tests tick it themselves). */
  tickOnClockChange?: boolean;
}

export interface Service {
  readonly config: Config;
  readonly store: Store;
  readonly clock: Clock;
  readonly http: FastifyInstance;
  readonly deps: HttpDeps;
  readonly logger: Logger;
  readonly scheduler: Scheduler;
  /** The listening address (http://host:port), or null when not listening. */
  readonly url: string | null;
  /** Settles once every route's schemas are compiled (after start-up); rejects naming any that cannot. */
  readonly schemasCompiled: Promise<void>;
  stop(): Promise<void>;
}

export function storeConfigOf(config: Config): StoreConfig {
  return config.databaseUrl
    ? { engine: 'postgres', url: config.databaseUrl, poolSize: config.dbPoolSize }
    : { engine: 'pglite', dataDir: config.dataDir };
}

/**
 * With CPIS_STARTUP_TIMING set, each start-up step prints `startup <step> <epoch ms>` to stderr when
 * it is done (`process`: when this Node process began); `npm run bench -- startup` reads them.
 */
const mark: (step: string, sinceOrigin?: number) => void = process.env.CPIS_STARTUP_TIMING
  ? (step, sinceOrigin = performance.now()) =>
      process.stderr.write(`startup ${step} ${(performance.timeOrigin + sinceOrigin).toFixed(0)}\n`)
  : () => {};

export async function startService(opts: ServiceOptions): Promise<Service> {
  mark('process', 0);
  mark('modules-loaded');
  const { config } = opts;
  const logger = opts.logger ?? createLogger(config.logLevel);
  const undo: (() => Promise<void>)[] = [];
  const stop = async () => {
    while (undo.length) await undo.pop()!().catch((err) => logger.error({ err }, 'error while stopping'));
  };
  // Upload bodies left on disk by a process that died mid-file (their transactions rolled back):
  // swept while the store opens (it needs nothing from the store), and finished before serving.
  const sweeping = sweepOrphanSpools();
  sweeping.catch(() => {}); // awaited below, where a failure stops the start-up
  try {
    // 1. Store, and its schema brought up to date.
    const store = opts.store ?? (await openStore(storeConfigOf(config)));
    undo.push(() => store.close());
    mark('store-open');
    const migrated = await migrateToLatest(store.db);
    if (migrated.applied.length) logger.info({ applied: migrated.applied }, 'migrations applied');
    mark('migrated');
    // Secrets in the store are sealed; any left in plain text by an earlier version are sealed now.
    const secrets = await SecretBox.open(config.secretKey, config.dataDir);
    const sealed = await sealPlainSecrets(store.db, secrets);
    if (sealed) logger.info({ sealed }, 'sealed webhook secrets stored in plain text');
    const orphans = await sweeping;
    if (orphans) logger.info({ removed: orphans }, 'removed upload spools left by a stopped process');
    mark('secrets-sealed-spools-swept');

    // 2. Clock: settable in demo mode (/dev/clock), the system clock in production.
    const settableClock = config.mode === 'demo' ? (opts.clock ?? new SettableClock()) : null;
    const clock: Clock = settableClock ?? opts.clock ?? systemClock;

    // 3. Identity: the service's own issuer in demo mode; a configured issuer in production.
    let demoTokens: DemoTokenService | null = null;
    let verifier: TokenVerifier;
    if (config.mode === 'demo') {
      demoTokens = opts.demoTokens ?? (await DemoTokenService.open(config.dataDir));
      verifier = demoTokens.verifier;
    } else {
      verifier = remoteVerifier(config.auth!);
    }
    // A token verified once is remembered until it expires (signature checks dominate a query's cost).
    verifier = cachingVerifier(verifier);
    // The key that signs audit checkpoints (demo: kept in the data directory; production: CPIS_CHECKPOINT_KEY_FILE).
    const checkpointSigner = CheckpointSigner.forConfig(config);
    mark('identity');

    // 4. Demographics: the local register or the PDS FHIR API, switchable off in demo mode.
    const demographics = new SwitchableDemographics(opts.demographics ?? demographicsFor(config));
    // What a change in demographics means for the LAs, committed with the change. Order matters:
    // LAs are told of an inactive number before their records move to its replacement.
    const demographicsListeners: DemographicsListener[] = [
      inactiveNumberMessages,
      recordsFollowSupersede,
      birthMessages,
    ];

    // 5. Directory and, on an empty demo store, the demo world.
    if (opts.demoWorld ?? config.mode === 'demo') {
      if (await isEmptyStore(store.db)) {
        const summary = await loadDemoWorld(store.db, clock.now(), {
          people: config.demoPeople,
          seed: config.demoSeed,
        });
        logger.info(summary, 'demo world loaded');
      }
    }

    mark('directory');

    // 6. Scheduler: the daily retention purge, notification dispatch, webhook pushes, and the
    //    embedded store's nightly vacuum.
    const scheduler = new Scheduler(
      clock,
      [
        retentionJob(store.db),
        episodesJob(store.db),
        dispatchJob(store.db),
        webhookJob(store.db, opts.pushSink ?? new HttpPushSink(), secrets),
        maintenanceJob(store.db, store.engine),
        sessionPurgeJob(store.db, config.portal.idleSeconds * 1000),
        // Last, so a checkpoint covers what the jobs before it logged in the same tick.
        ...(checkpointSigner ? [checkpointJob(store.db, checkpointSigner)] : []),
      ],
      logger,
      opts.schedulerIntervalMs,
    );
    // Started once listening (below): its first tick's queries would otherwise hold up start-up.
    undo.push(() => scheduler.stop());

    // 7. Health queries: reads, accesses and audit entries group-committed; drained on stop
    //    after HTTP has stopped taking requests and before the store closes.
    const query = new QueryService({ db: store.db, clock });
    undo.push(() => query.close());

    // 8. The health portal: patient references sealed with the portal key; sign-in through the
    //    configured CIS2 issuer, or in demo mode through the stand-in mounted at /cis2 (the portal
    //    calls it in-process, so it works before and without listening).
    let listeningUrl: string | null = null;
    const publicUrl = () => config.portal.publicUrl ?? listeningUrl ?? defaultPublicUrl(config);
    const portal = await createPortalDeps(config, publicUrl, () => http);
    mark('portal');

    // 9. HTTP routes.
    let ready = false;
    const uploadHold = config.mode === 'demo' ? new MidFileHold() : null;
    const deps: HttpDeps = {
      mode: config.mode,
      engine: store.engine,
      db: store.db,
      clock,
      settableClock,
      demographics,
      demographicsListeners,
      uploadHold,
      verifier,
      demoTokens,
      query,
      secrets,
      portal,
      checkpointSigner,
    };
    const compilers = lazyCompilers();
    const http = await buildHttp(deps, {
      logger,
      isReady: () => ready,
      limits: config.limits,
      routes: [fhirRoutes, auditRoutes, portalRoutes],
      compilers,
    });
    undo.push(() => http.close());
    mark('routes');
    // An upload held mid-file by the demo fault goes on, so closing HTTP does not wait for ever.
    undo.push(async () => uploadHold?.set(false));

    // 10. Listen.
    let url: string | null = null;
    if (opts.listen ?? true) {
      url = await http.listen({ host: config.host, port: config.port });
      listeningUrl = url;
      logger.info({ url, mode: config.mode, store: store.engine }, 'Open CP-IS is listening');
    }
    ready = true;
    mark('listening');
    // Route schemas not used yet are compiled soon after (a route used before compiles its own),
    // one at a time between requests: a schema that cannot compile is then an error in the log soon
    // after start, not at its first request. Like the scheduler's first run, this waits a moment
    // when listening, so the first requests do not queue behind it.
    let compileLater: NodeJS.Timeout | undefined;
    const schemasCompiled = new Promise<void>((resolve) => {
      compileLater = setTimeout(resolve, (opts.listen ?? true) ? FIRST_TICK_AFTER_MS : 0).unref();
    }).then(() => compilers.compileRemaining());
    // A service stopped before then does not compile them after it has stopped.
    undo.push(async () => clearTimeout(compileLater));
    schemasCompiled.catch((err) =>
      logger.error({ err }, 'a route schema does not compile; its route will fail'),
    );
    // Its first run waits a moment when listening: the embedded store's queries hold the event loop,
    // and the first requests (a health check, an A&E look-up) should not queue behind a catch-up.
    if (opts.scheduler ?? true)
      scheduler.start(
        (opts.tickOnClockChange ?? true) ? settableClock : null,
        (opts.listen ?? true) ? FIRST_TICK_AFTER_MS : 0,
      );
    return { config, store, clock, http, deps, logger, scheduler, url, schemasCompiled, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function defaultPublicUrl(config: Config): string {
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

function demographicsFor(config: Config): DemographicsService {
  if (config.demographics.kind === 'pds') {
    return new PdsFhirClient({
      baseUrl: config.demographics.baseUrl,
      ...(config.demographics.token ? { accessToken: config.demographics.token } : {}),
    });
  }
  return new LocalRegister();
}
