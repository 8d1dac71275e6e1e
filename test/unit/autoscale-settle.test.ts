import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { settle, type Changes } from '../../src/ops/autoscale-loop.js';

/**
 * Watches whose rooms change on each of the first `changes` looks at them (forever for
 * Infinity), then never again: a burst measured in looks, not in time, so no timer jitter
 * decides the outcome. `looks` counts how often settle() read the change count.
 */
function burst(changes: number) {
  let looks = 0;
  const watch: Changes & { looks: () => number; waits: number } = {
    waits: 0,
    get version() {
      looks++;
      return Math.min(looks, changes);
    },
    looks: () => looks,
    async changed(signal: AbortSignal) {
      watch.waits++;
      return Promise.resolve(!signal.aborted);
    },
  };
  return watch;
}

describe('settle: a burst of allocations is one decision of the autoscaler', () => {
  it('once the rooms stay unchanged for one quiet time, it decides: one look to start, one to see no change', async () => {
    const w = burst(0);
    assert.equal(await settle(w, new AbortController().signal, 1, 60_000), true);
    assert.deepEqual([w.waits, w.looks()], [1, 2]);
  });

  it('while the rooms keep changing it waits: not before a look that shows no change', async () => {
    const w = burst(5);
    assert.equal(await settle(w, new AbortController().signal, 1, 60_000), true);
    // Looks 1..5 each saw a new count; the 6th saw the 5th's again.
    assert.equal(w.looks(), 6);
  });

  it('a stream that never stops is cut at the cap: it decides anyway', async () => {
    const w = burst(Infinity);
    assert.equal(await settle(w, new AbortController().signal, 1, 50), true);
    assert.ok(w.looks() >= 2, 'it looked again before the cap');
  });

  it('answers false once stopped: before the first change, or during a burst', async () => {
    assert.equal(await settle(burst(0), AbortSignal.abort(), 1, 50), false);
    const stop = new AbortController();
    const w = burst(Infinity);
    const decided = settle(w, stop.signal, 1, 600_000);
    stop.abort();
    assert.equal(await decided, false);
  });
});
