/**
 * The one source of "now" for every rule that depends on time. Production uses the system clock;
 * tests and demo mode use a settable clock that, once set, stays at the set instant until it is
 * set again (so a demo or a test sees exactly the time it asked for), and returns to real time
 * when cleared.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export class SettableClock implements Clock {
  #fixed: Date | null;
  readonly #listeners = new Set<(now: Date) => void>();

  constructor(initial: Date | null = null) {
    this.#fixed = initial ? new Date(initial.getTime()) : null;
  }

  now(): Date {
    return this.#fixed ? new Date(this.#fixed.getTime()) : new Date();
  }

  /** Fix the clock at an instant, or return to real time with null. */
  set(instant: Date | null): void {
    this.#fixed = instant ? new Date(instant.getTime()) : null;
    const now = this.now();
    for (const l of this.#listeners) l(now);
  }

  /** Move a fixed clock forward (or start fixing it from real time). */
  advance(ms: number): void {
    this.set(new Date(this.now().getTime() + ms));
  }

  isFixed(): boolean {
    return this.#fixed !== null;
  }

  /** Notified whenever the clock is set, so schedulers can react at once to a moved clock. */
  onChange(listener: (now: Date) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
