import { describe, expect, it } from 'vitest';
import { loopSharer } from './loop-share.ts';

describe('loopSharer', () => {
  it('lets a timer due during long synchronous work run before the work ends', async () => {
    const giveWay = loopSharer(2);
    let fired = false;
    setTimeout(() => {
      fired = true;
    }, 1);
    let firedBeforeEnd = false;
    const until = performance.now() + 60;
    while (performance.now() < until) {
      const busy = performance.now() + 0.5;
      while (performance.now() < busy) {}
      await giveWay();
      if (fired) firedBeforeEnd = true;
    }
    expect(firedBeforeEnd).toBe(true);
  });

  it('does not leave the turn while the slice lasts', () => {
    const giveWay = loopSharer(10_000);
    expect(giveWay()).toBeUndefined();
  });
});
