import { afterEach, describe, expect, it, vi } from 'vitest';
import { SettableClock } from './domain/clock.ts';
import { createLogger } from './log.ts';
import { type Job, Scheduler } from './scheduler.ts';

const logger = createLogger('silent');

/** A job that records the clock it ran at and can be made to wait. */
function recorder() {
  const ranAt: string[] = [];
  let gate: Promise<void> = Promise.resolve();
  let open = () => {};
  const job: Job = {
    name: 'recorder',
    async run(now) {
      ranAt.push(now.toISOString());
      await gate;
      return null;
    },
  };
  return {
    job,
    ranAt,
    hold() {
      gate = new Promise((r) => {
        open = r;
      });
    },
    release: () => open(),
  };
}

describe('the scheduler', () => {
  let scheduler: Scheduler | null = null;
  afterEach(() => scheduler?.stop());

  it('runs at start and again whenever the demo clock is moved, at the new time', async () => {
    const clock = new SettableClock(new Date('2026-11-20T10:00:00Z'));
    const r = recorder();
    scheduler = new Scheduler(clock, [r.job], logger, 3_600_000);
    scheduler.start(clock);
    await scheduler.tick();
    const before = r.ranAt.length;
    clock.set(new Date('2026-11-21T07:00:00Z'));
    // No tick() here: moving the clock is what runs it.
    await vi.waitFor(() => expect(r.ranAt.slice(before)).toContain('2026-11-21T07:00:00.000Z'));
    await scheduler.stop();
    const stopped = r.ranAt.length;
    clock.set(new Date('2026-11-22T07:00:00Z'));
    await new Promise((res) => setTimeout(res, 20));
    expect(r.ranAt).toHaveLength(stopped);
  });

  it('never overlaps ticks: one asked for during a tick runs once, right after it', async () => {
    const clock = new SettableClock(new Date('2026-11-20T10:00:00Z'));
    const r = recorder();
    scheduler = new Scheduler(clock, [r.job], logger, 3_600_000);
    r.hold();
    const first = scheduler.tick();
    const second = scheduler.tick();
    const third = scheduler.tick();
    await new Promise((res) => setTimeout(res, 20));
    expect(r.ranAt).toHaveLength(1);
    r.release();
    await Promise.all([first, second, third]);
    expect(r.ranAt).toHaveLength(2);
  });

  it('does not follow the clock when started without it', async () => {
    const clock = new SettableClock(new Date('2026-11-20T10:00:00Z'));
    const r = recorder();
    scheduler = new Scheduler(clock, [r.job], logger, 3_600_000);
    scheduler.start(null);
    await scheduler.tick();
    const settled = r.ranAt.length;
    clock.set(new Date('2026-11-21T07:00:00Z'));
    await new Promise((res) => setTimeout(res, 20));
    expect(r.ranAt).toHaveLength(settled);
  });
});
