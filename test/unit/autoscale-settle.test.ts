import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { settle, type Changes } from '../../src/ops/autoscale.js';

/**
 * Watches whose rooms change every millisecond until `burstMs` after they were made (forever
 * for Infinity), then never again: the change count follows the clock, so no timer jitter
 * makes the burst look quiet. Its wait for a change ends `settleMs` after it is called.
 */
function burst(burstMs: number): Changes {
  const start = Date.now();
  return {
    get version() {
      return Math.min(Date.now() - start, burstMs);
    },
    async changed(signal: AbortSignal, settleMs: number) {
      await sleep(settleMs, undefined, { signal }).catch(() => undefined);
      return !signal.aborted;
    },
  };
}

describe('settle: a burst of allocations is one decision of the autoscaler', () => {
  it('looks at the rooms once they have stayed unchanged for the quiet time, long before the cap', async () => {
    const t = Date.now();
    assert.equal(await settle(burst(0), new AbortController().signal, 20, 5000), true);
    assert.ok(Date.now() - t < 2500, `${Date.now() - t} ms`);
  });

  it('waits while the rooms keep changing: not before the burst has ended', async () => {
    const t = Date.now();
    assert.equal(await settle(burst(300), new AbortController().signal, 30, 5000), true);
    const took = Date.now() - t;
    assert.ok(took >= 300, `${took} ms: decided during the burst`);
    assert.ok(took < 2500, `${took} ms`);
  });

  it('decides at the cap when the changes never stop (a steady stream of allocations)', async () => {
    const t = Date.now();
    assert.equal(await settle(burst(Infinity), new AbortController().signal, 20, 200), true);
    const took = Date.now() - t;
    assert.ok(took >= 200, `${took} ms: before the cap`);
    assert.ok(took < 2500, `${took} ms: past the cap`);
  });

  it('answers false once stopped, during the wait or during the burst', async () => {
    assert.equal(await settle(burst(0), AbortSignal.abort(), 20, 200), false);
    const stop = new AbortController();
    setTimeout(() => {
      stop.abort();
    }, 100);
    const t = Date.now();
    assert.equal(await settle(burst(Infinity), stop.signal, 20, 5000), false);
    assert.ok(Date.now() - t < 2500, `${Date.now() - t} ms: the stop was not heard`);
  });
});
