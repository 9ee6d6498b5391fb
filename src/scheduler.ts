/**
 * An in-process scheduler: every tick (and at once whenever the demo clock is moved) it runs each
 * job whose time has come by the service clock. Jobs keep their own "last done" state in the
 * store, so a restart or a second process does not repeat them, and a job that fails is retried at
 * the next tick.
 */
import type { Logger } from 'pino';
import type { Clock, SettableClock } from './domain/clock.ts';

export interface Job {
  name: string;
  /** Do whatever is due at `now`; return a short summary to log, or null when there was nothing to do. */
  run(now: Date): Promise<Record<string, unknown> | null>;
}

export class Scheduler {
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #unsubscribe: (() => void) | null = null;
  #first: NodeJS.Timeout | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly jobs: readonly Job[],
    private readonly logger: Logger,
    private readonly intervalMs = 30_000,
  ) {}

  /**
   * Tick every interval and whenever the demo clock moves; the first tick after `firstTickAfterMs`
   * (a service that has just started listening answers its first requests before catching up).
   */
  start(settable: SettableClock | null, firstTickAfterMs = 0): void {
    this.#timer = setInterval(() => void this.tick(), this.intervalMs);
    this.#timer.unref();
    if (settable) this.#unsubscribe = settable.onChange(() => void this.tick());
    if (firstTickAfterMs > 0) this.#first = setTimeout(() => void this.tick(), firstTickAfterMs);
    else void this.tick();
  }

  /** Run every job once now (ticks never overlap: a tick asked for during one runs right after it). */
  tick(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        for (const job of this.jobs) {
          try {
            const summary = await job.run(this.clock.now());
            if (summary) this.logger.info({ job: job.name, ...summary }, 'scheduled job ran');
          } catch (err) {
            this.logger.error({ err, job: job.name }, 'scheduled job failed; it will be retried');
          }
        }
      } while (this.#again);
    })().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#first) clearTimeout(this.#first);
    this.#timer = null;
    this.#first = null;
    this.#unsubscribe?.();
    await this.#running;
  }
}
