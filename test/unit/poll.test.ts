import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { pollUntil, progressInterval } from '../../src/core/poll.js';

/** A check that answers undefined `misses` times, then `value`, counting its calls. */
function after<T>(misses: number, value: T) {
  const c = {
    calls: 0,
    check: () => (++c.calls > misses ? value : undefined),
  };
  return c;
}

describe('pollUntil: every wait on the cluster', () => {
  it('returns the first answer that is not undefined, asking again until then', async () => {
    const c = after(3, 'ready');
    assert.equal(await pollUntil(c.check, { timeoutMs: 10_000, intervalMs: 1 }), 'ready');
    assert.equal(c.calls, 4);
  });

  it('null, 0, false and "" are answers, not "ask again"', async () => {
    for (const v of [null, 0, false, '']) {
      const c = after(0, v);
      assert.equal(await pollUntil(c.check, { timeoutMs: 10_000, intervalMs: 1 }), v);
      assert.equal(c.calls, 1, String(v));
    }
  });

  it('an async check is awaited', async () => {
    let calls = 0;
    const check = () => Promise.resolve(++calls === 2 ? 'yes' : undefined);
    assert.equal(await pollUntil(check, { timeoutMs: 10_000, intervalMs: 1 }), 'yes');
  });

  it('asks at least once, even with no time at all, and answers undefined when time is up', async () => {
    const once = after(0, 'at once');
    assert.equal(await pollUntil(once.check, { timeoutMs: 0, intervalMs: 1000 }), 'at once');
    const never = after(Infinity, 'never');
    assert.equal(await pollUntil(never.check, { timeoutMs: 0, intervalMs: 1000 }), undefined);
    assert.equal(never.calls, 1);
    const some = after(Infinity, 'never');
    assert.equal(await pollUntil(some.check, { timeoutMs: 60, intervalMs: 5 }), undefined);
    assert.ok(some.calls >= 2, `asked again before the deadline (${some.calls} calls)`);
  });

  it('the last pause is cut to the deadline, not a whole interval', async () => {
    const never = after(Infinity, 'never');
    const t0 = Date.now();
    assert.equal(await pollUntil(never.check, { timeoutMs: 50, intervalMs: 60_000 }), undefined);
    assert.ok(Date.now() - t0 < 30_000, 'returned long before one interval');
    // A timer may fire a millisecond before Date.now() reaches the deadline: then one more short pause.
    assert.ok(never.calls >= 2 && never.calls <= 4, `asked again at the deadline (${never.calls} calls)`);
  });

  it('an abort before the first check throws its reason and asks nothing', async () => {
    const c = after(0, 'x');
    const stop = new AbortController();
    stop.abort(new Error('stopped'));
    await assert.rejects(
      pollUntil(c.check, { timeoutMs: 1000, intervalMs: 1, signal: stop.signal }),
      /stopped/,
    );
    assert.equal(c.calls, 0);
  });

  it('an abort during a pause ends it at once with the abort reason', async () => {
    const c = after(Infinity, 'never');
    const stop = new AbortController();
    const t0 = Date.now();
    setTimeout(() => stop.abort(new Error('interrupted')), 20);
    await assert.rejects(
      pollUntil(c.check, { timeoutMs: 120_000, intervalMs: 60_000, signal: stop.signal }),
      (e: unknown) => e instanceof Error && e.message === 'interrupted',
    );
    assert.ok(Date.now() - t0 < 30_000, 'did not wait out the interval');
    assert.equal(c.calls, 1);
  });

  it('a check that throws ends the wait with its error', async () => {
    const check = () => {
      throw new Error('403 forbidden');
    };
    await assert.rejects(pollUntil(check, { timeoutMs: 1000, intervalMs: 1 }), /403 forbidden/);
  });
});

describe('progressInterval: watching a fleet takes at most a sixth of the time', () => {
  it('a second while polls are quick; five times the poll once it takes more than 200 ms', () => {
    const cases: [number, number][] = [
      [0, 1000],
      [150, 1000],
      [200, 1000],
      [201, 1005],
      [400, 2000],
      [1000, 5000],
    ];
    for (const [poll, wait] of cases) assert.equal(progressInterval(poll), wait, `a poll of ${poll} ms`);
    assert.equal(progressInterval(100, 250), 500);
  });
});
