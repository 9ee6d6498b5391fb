/**
 * Demo mode's "hold uploads mid-file" fault (`/dev/faults {"uploads":"hold-mid-file"}`): an upload
 * that has written its first chunk inside its transaction waits there until the fault is lifted.
 * It makes "the process dies halfway through a file" something a test or a demo can rehearse at
 * a known point instead of by guessing a delay.
 */
export class MidFileHold {
  #on = false;
  #waiting: (() => void)[] = [];

  get on(): boolean {
    return this.#on;
  }

  /** Uploads currently held mid-file. */
  get held(): number {
    return this.#waiting.length;
  }

  set(on: boolean): void {
    this.#on = on;
    if (!on) for (const release of this.#waiting.splice(0)) release();
  }

  /** Called by an upload once part of its file is written: returns when the upload may go on. */
  reached = (): Promise<void> => {
    if (!this.#on) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push(resolve));
  };
}
