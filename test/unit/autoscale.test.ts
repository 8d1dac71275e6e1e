import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  AUTOSCALER_POLICY_ANNOTATION,
  bufferTarget,
  bufferText,
  decide,
  decisionLine,
  desiredReplicas,
  fleetOf,
  fleetPhrase,
  parseBuffer,
  policyProblems,
  scaleDownFloor,
  stepLead,
  bufferRooms,
  type AutoscalePolicy,
  type Fleet,
} from '../../src/core/autoscale.js';
import type { Endpoint } from '../../src/core/endpoints.js';
import { ExitCode, ExposePodsError } from '../../src/errors.js';
import { nextBackoff, policyOf, policyView, retryable, unattendedConfirm } from '../../src/ops/autoscale.js';
import { stopOnAbort } from '../../src/ops/change-signals.js';
import { formatAutoscaleEvent } from '../../src/output/autoscale.js';
import { autoscalerStatusOf } from '../../src/core/status.js';
import { autoscalerPhrase } from '../../src/output/status.js';
import { endpointRow } from '../support/fixtures.js';

const W = 'rooms-expose-pods';
const row = (n: number, extra: Partial<Endpoint> = {}) => endpointRow(W, n, extra);
const inUse = (n: number, extra: Partial<Endpoint> = {}) =>
  row(n, {
    state: 'Allocated',
    allocation: { id: `m-${n}`, allocatedAt: '2026-12-07T08:00:00Z', metadata: {}, stale: false },
    ...extra,
  });

const MIN = 60_000;
const policy = (over: Partial<AutoscalePolicy> = {}): AutoscalePolicy => ({
  buffer: { count: 3 },
  min: 3,
  max: 20,
  scaleDownDelayMs: 5 * MIN,
  lead: true,
  ...over,
});
const fleet = (over: Partial<Fleet> = {}): Fleet => ({
  replicas: 8,
  allocated: 5,
  cordoned: 0,
  free: 3,
  draining: 0,
  highestKept: 4,
  ...over,
});

describe('parseBuffer: a count of Free rooms or a percentage of the rooms', () => {
  it('takes counts from 0 and percentages from 1% to 99%', () => {
    assert.deepEqual(parseBuffer('3'), { count: 3 });
    assert.deepEqual(parseBuffer(' 0 '), { count: 0 });
    assert.deepEqual(parseBuffer('25%'), { percent: 25 });
    assert.deepEqual(parseBuffer('1%'), { percent: 1 });
    assert.deepEqual(parseBuffer('99%'), { percent: 99 });
  });

  it('refuses the rest, saying what it takes', () => {
    assert.deepEqual(parseBuffer('30'), { count: 30 });
    assert.deepEqual(parseBuffer('30%'), { percent: 30 });
    for (const bad of ['0%', '100%', '-1', '2.5', '3 rooms', '', '%', '25 %', 'a25%', '25%x', 'a3', '3a']) {
      const r = parseBuffer(bad);
      assert.equal(typeof r, 'string', bad);
      assert.match(r as string, new RegExp(`^--buffer ${bad.replace(/[%.+]/g, '\\$&')}: use a count`));
    }
  });

  it('bufferText gives it back as the flag takes it', () => {
    assert.equal(bufferText({ count: 3 }), '3');
    assert.equal(bufferText({ percent: 25 }), '25%');
  });
});

it("the autoscaler's Lease carries its settings under expose-pods.io/autoscaler-policy (status reads it there)", () => {
  assert.equal(AUTOSCALER_POLICY_ANNOTATION, 'expose-pods.io/autoscaler-policy');
});

describe('policyProblems', () => {
  it('accepts min 0 up to max, and a buffer that fits under max', () => {
    assert.deepEqual(policyProblems({ buffer: { count: 20 }, min: 0, max: 20 }), []);
    assert.deepEqual(policyProblems({ buffer: { percent: 50 }, min: 20, max: 20 }), []);
  });

  it('names each problem', () => {
    assert.deepEqual(policyProblems({ buffer: { count: 3 }, min: 5, max: 4 }), [
      '--min 5 is more than --max 4',
    ]);
    assert.deepEqual(policyProblems({ buffer: { count: 1 }, min: 0, max: 0 }), [
      '--max 0 must be a whole number, 1 or more',
      '--buffer 1 is more than --max 0: the buffer could never be kept',
    ]);
    assert.deepEqual(policyProblems({ buffer: { count: 1 }, min: -1, max: 1 }), [
      '--min -1 must be a whole number, 0 or more',
    ]);
    assert.deepEqual(policyProblems({ buffer: { count: 1 }, min: 0.5, max: 1.5 }), [
      '--max 1.5 must be a whole number, 1 or more',
      '--min 0.5 must be a whole number, 0 or more',
    ]);
    assert.deepEqual(policyProblems({ buffer: { count: 21 }, min: 0, max: 20 }), [
      '--buffer 21 is more than --max 20: the buffer could never be kept',
    ]);
  });

  it('a buffer that can reach no room (a percentage, or 0) needs --min 1 or more: no allocation would bring one back', () => {
    assert.deepEqual(policyProblems({ buffer: { percent: 25 }, min: 0, max: 20 }), [
      '--buffer 25% with --min 0 can shrink the fleet to no room, and no allocation would bring one back: give --min 1 or more',
    ]);
    assert.deepEqual(policyProblems({ buffer: { count: 0 }, min: 0, max: 20 }), [
      '--buffer 0 with --min 0 can shrink the fleet to no room, and no allocation would bring one back: give --min 1 or more',
    ]);
    assert.deepEqual(policyProblems({ buffer: { percent: 25 }, min: 1, max: 20 }), []);
    assert.deepEqual(policyProblems({ buffer: { count: 0 }, min: 1, max: 20 }), []);
    assert.deepEqual(policyProblems({ buffer: { count: 1 }, min: 0, max: 20 }), []);
  });
});

describe('bufferTarget: Agones Buffer policy', () => {
  it('a count: the rooms taken plus the buffer', () => {
    assert.equal(bufferTarget(0, { count: 3 }), 3);
    assert.equal(bufferTarget(5, { count: 3 }), 8);
    assert.equal(bufferTarget(5, { count: 0 }), 5);
  });

  it('a percentage: the smallest fleet of which P% are Free, ceil(taken × 100 / (100 − P))', () => {
    assert.equal(bufferTarget(0, { percent: 25 }), 0);
    assert.equal(bufferTarget(3, { percent: 25 }), 4);
    assert.equal(bufferTarget(7, { percent: 25 }), 10); // 9.33 up
    assert.equal(bufferTarget(75, { percent: 25 }), 100);
    assert.equal(bufferTarget(76, { percent: 25 }), 102); // 101.33 up
    assert.equal(bufferTarget(1, { percent: 50 }), 2);
    assert.equal(bufferTarget(1, { percent: 99 }), 100);
  });
});

describe('fleetOf: the fleet from the rows', () => {
  it('counts rooms in use and cordoned below the replicas, and the highest of them', () => {
    const rows = [
      inUse(0),
      row(1),
      inUse(2, { cordoned: true }),
      row(3, { state: 'Cordoned', cordoned: true }),
      row(4),
      row(5, { state: 'Draining', draining: true }),
    ];
    assert.deepEqual(fleetOf(rows, 6), {
      replicas: 6,
      allocated: 2,
      cordoned: 1,
      free: 2,
      draining: 1,
      highestKept: 3,
    });
  });

  it('leaves out rooms the StatefulSet removes already (above the replicas), in use or not', () => {
    const rows = [row(0), inUse(1), inUse(2, { state: 'Allocated' }), row(3, { state: 'Draining' })];
    assert.deepEqual(fleetOf(rows, 2), {
      replicas: 2,
      allocated: 1,
      cordoned: 0,
      free: 1,
      draining: 0,
      highestKept: 1,
    });
  });

  it('no room in use: highestKept -1; a Free room not Ready is not Free', () => {
    const rows = [row(0), row(1, { ready: false, status: 'NotReady' })];
    assert.deepEqual(fleetOf(rows, 2), {
      replicas: 2,
      allocated: 0,
      cordoned: 0,
      free: 1,
      draining: 0,
      highestKept: -1,
    });
  });
});

describe('desiredReplicas and scaleDownFloor', () => {
  it('the buffer on top of the rooms in use and cordoned, within --min and --max', () => {
    assert.equal(desiredReplicas(policy(), fleet({ allocated: 5 })), 8);
    assert.equal(desiredReplicas(policy(), fleet({ allocated: 4, cordoned: 1 })), 8);
    assert.equal(desiredReplicas(policy({ min: 10 }), fleet({ allocated: 5 })), 10);
    assert.equal(desiredReplicas(policy({ max: 7 }), fleet({ allocated: 5 })), 7);
    assert.equal(desiredReplicas(policy({ min: 0, buffer: { count: 0 } }), fleet({ allocated: 0 })), 0);
  });

  it('never below the highest room in use or cordoned: a scale-down removes only Free rooms', () => {
    // 1 room in use, at ordinal 9: the buffer wants 4, the room keeps 10.
    assert.equal(scaleDownFloor(policy(), fleet({ allocated: 1, highestKept: 9, replicas: 12 })), 10);
    assert.equal(scaleDownFloor(policy(), fleet({ allocated: 1, highestKept: 0, replicas: 12 })), 4);
    assert.equal(scaleDownFloor(policy(), fleet({ allocated: 1, highestKept: 3, replicas: 12 })), 4);
    assert.equal(scaleDownFloor(policy(), fleet({ allocated: 1, highestKept: 4, replicas: 12 })), 5);
  });
});

describe('stepLead: the rooms taken while the last step ran, expected during the next', () => {
  // A step decided at 10 s with 20 rooms taken, which ended at 13 s with 26 taken.
  const step = { startedAt: 10_000, endedAt: 13_000, takenBefore: 20, takenAfter: 26 };

  it('the rooms taken during the last step, while it ended no longer ago than it lasted', () => {
    assert.equal(stepLead(step, 13_000, 50), 6);
    assert.equal(stepLead(step, 16_000, 50), 6);
    assert.equal(stepLead(step, 16_001, 50), 0);
  });

  it('is at most the buffer, and never below 0 (rooms freed during the step)', () => {
    assert.equal(stepLead(step, 14_000, 5), 5);
    assert.equal(stepLead(step, 14_000, 6), 6);
    assert.equal(stepLead({ ...step, takenAfter: 17 }, 14_000, 50), 0);
  });

  it('is 0 before any step', () => {
    assert.equal(stepLead(undefined, 14_000, 50), 0);
  });

  it('bufferRooms: the buffer on top of the rooms taken, a percentage at the current size', () => {
    assert.equal(bufferRooms(policy(), fleet({ allocated: 5, cordoned: 2 })), 3);
    // 25% of a fleet with 9 taken: ceil(9 × 100 / 75) = 12, so 3 Free.
    assert.equal(bufferRooms(policy({ buffer: { percent: 25 } }), fleet({ allocated: 6, cordoned: 3 })), 3);
  });
});

describe('decide with a lead', () => {
  const t0 = 1_000_000;

  it('a scale-up adds the lead on top of the buffer, and says so', () => {
    const d = decide(policy(), fleet({ replicas: 8, allocated: 7, free: 1, highestKept: 6 }), {}, t0, 4);
    assert.deepEqual(d, { decision: { kind: 'up', from: 8, to: 14, lead: 4 }, clock: {} });
  });

  it('the lead stops at --max, and the decision says how much of it was kept', () => {
    const d = decide(policy({ max: 12 }), fleet({ replicas: 8, allocated: 7, free: 1 }), {}, t0, 4);
    assert.deepEqual(d.decision, { kind: 'up', from: 8, to: 12, lead: 2 });
  });

  it('a lead scales up while Free still keeps the buffer: steps follow a stream of allocations', () => {
    assert.deepEqual(decide(policy(), fleet(), {}, t0, 5).decision, { kind: 'up', from: 8, to: 13, lead: 5 });
    assert.deepEqual(decide(policy(), fleet(), {}, t0, 0).decision, { kind: 'hold', replicas: 8 });
    // At --max already: nothing to add.
    assert.deepEqual(decide(policy({ max: 8 }), fleet(), {}, t0, 5).decision, { kind: 'hold', replicas: 8 });
  });

  it('rooms the lead wants are no surplus: held, no clock started', () => {
    const f = fleet({ replicas: 12, allocated: 5, free: 7, highestKept: 4 });
    assert.deepEqual(decide(policy(), f, {}, t0, 4), { decision: { kind: 'hold', replicas: 12 }, clock: {} });
    // One room over what the lead wants: a surplus, its clock on the floor without the lead.
    assert.deepEqual(decide(policy(), f, {}, t0, 3), {
      decision: { kind: 'pending', from: 12, to: 11, at: t0 + 5 * MIN },
      clock: { since: t0, floor: 8 },
    });
  });

  it('a scale-down due while a lead lasts keeps the rooms the lead wants, and no more', () => {
    const f = fleet({ replicas: 12, allocated: 5, free: 7, highestKept: 4 });
    assert.deepEqual(decide(policy(), f, { since: t0, floor: 8 }, t0 + 5 * MIN, 1).decision, {
      kind: 'down',
      from: 12,
      to: 9,
    });
    // The clock keeps the floor without the lead: once the lead lapses, the next scale-down goes to it.
    assert.deepEqual(decide(policy(), f, { since: t0, floor: 8 }, t0 + MIN, 2), {
      decision: { kind: 'pending', from: 12, to: 10, at: t0 + 5 * MIN },
      clock: { since: t0, floor: 8 },
    });
    assert.deepEqual(decide(policy(), f, { since: t0, floor: 8 }, t0 + 5 * MIN, 0).decision, {
      kind: 'down',
      from: 12,
      to: 8,
    });
  });
});

describe('decide', () => {
  const t0 = 1_000_000;

  it('scales up at once when the Free rooms fall below the buffer, and forgets a surplus', () => {
    const d = decide(
      policy(),
      fleet({ replicas: 8, allocated: 6, highestKept: 7 }),
      { since: t0, floor: 7 },
      t0,
    );
    assert.deepEqual(d, { decision: { kind: 'up', from: 8, to: 9, lead: 0 }, clock: {} });
  });

  it('folds allocations into one step: the target is from the rooms now, not one room at a time', () => {
    const d = decide(policy(), fleet({ replicas: 8, allocated: 8, free: 0, highestKept: 7 }), {}, t0);
    assert.deepEqual(d.decision, { kind: 'up', from: 8, to: 11, lead: 0 });
  });

  it('up to --min from a fleet below it, up to no more than --max', () => {
    assert.deepEqual(
      decide(policy({ min: 5 }), fleet({ replicas: 0, allocated: 0, highestKept: -1 }), {}, t0).decision,
      { kind: 'up', from: 0, to: 5, lead: 0 },
    );
    assert.deepEqual(decide(policy({ max: 9 }), fleet({ replicas: 8, allocated: 8 }), {}, t0).decision, {
      kind: 'up',
      from: 8,
      to: 9,
      lead: 0,
    });
  });

  it('holds at the target, and at --max with the buffer short', () => {
    assert.deepEqual(decide(policy(), fleet(), {}, t0), {
      decision: { kind: 'hold', replicas: 8 },
      clock: {},
    });
    assert.deepEqual(decide(policy({ max: 8 }), fleet({ allocated: 8, highestKept: 7 }), {}, t0).decision, {
      kind: 'hold',
      replicas: 8,
    });
  });

  it('a surplus waits the delay: pending until then, down once it has lasted', () => {
    const p = policy();
    const f = fleet({ replicas: 8, allocated: 2, highestKept: 1 });
    const first = decide(p, f, {}, t0);
    assert.deepEqual(first, {
      decision: { kind: 'pending', from: 8, to: 5, at: t0 + 5 * MIN },
      clock: { since: t0, floor: 5 },
    });
    const before = decide(p, f, first.clock, t0 + 5 * MIN - 1);
    assert.deepEqual(before.decision, { kind: 'pending', from: 8, to: 5, at: t0 + 5 * MIN });
    assert.deepEqual(decide(p, f, before.clock, t0 + 5 * MIN), {
      decision: { kind: 'down', from: 8, to: 5 },
      clock: {},
    });
  });

  it('goes down no lower than the highest floor seen during the delay', () => {
    const p = policy();
    const busy = decide(p, fleet({ replicas: 10, allocated: 4, highestKept: 3 }), {}, t0);
    assert.deepEqual(busy.clock, { since: t0, floor: 7 });
    const quiet = decide(p, fleet({ replicas: 10, allocated: 1, highestKept: 0 }), busy.clock, t0 + 5 * MIN);
    assert.deepEqual(quiet.decision, { kind: 'down', from: 10, to: 7 });
  });

  it('a surplus that ends resets the clock: the next one waits the whole delay again', () => {
    const p = policy();
    const surplus = decide(p, fleet({ replicas: 8, allocated: 2, highestKept: 1 }), {}, t0);
    const full = decide(p, fleet({ replicas: 8, allocated: 5, highestKept: 4 }), surplus.clock, t0 + MIN);
    assert.deepEqual(full, { decision: { kind: 'hold', replicas: 8 }, clock: {} });
    const again = decide(p, fleet({ replicas: 8, allocated: 2, highestKept: 1 }), full.clock, t0 + 5 * MIN);
    assert.deepEqual(again.decision, { kind: 'pending', from: 8, to: 5, at: t0 + 10 * MIN });
  });

  it('a room in use at the top holds the fleet: no surplus to remove', () => {
    const d = decide(policy(), fleet({ replicas: 8, allocated: 1, highestKept: 7 }), {}, t0);
    assert.deepEqual(d, { decision: { kind: 'hold', replicas: 8 }, clock: {} });
  });

  it('a clock from more replicas than now (a scale by someone else) starts again', () => {
    const d = decide(
      policy(),
      fleet({ replicas: 6, allocated: 1, highestKept: 0 }),
      { since: t0, floor: 7 },
      t0 + 5 * MIN,
    );
    assert.deepEqual(d, {
      decision: { kind: 'pending', from: 6, to: 4, at: t0 + 10 * MIN },
      clock: { since: t0 + 5 * MIN, floor: 4 },
    });
    const same = decide(
      policy(),
      fleet({ replicas: 6, allocated: 1, highestKept: 0 }),
      { since: t0, floor: 6 },
      t0 + 5 * MIN,
    );
    assert.deepEqual(same.clock, { since: t0 + 5 * MIN, floor: 4 });
    const below = decide(
      policy(),
      fleet({ replicas: 6, allocated: 1, highestKept: 0 }),
      { since: t0, floor: 5 },
      t0 + 5 * MIN,
    );
    assert.deepEqual(below.decision, { kind: 'down', from: 6, to: 5 });
  });

  it('at --max exactly, a surplus waits its delay as any other', () => {
    const d = decide(policy({ max: 8 }), fleet({ replicas: 8, allocated: 1, highestKept: 0 }), {}, t0);
    assert.deepEqual(d.decision, { kind: 'pending', from: 8, to: 4, at: t0 + 5 * MIN });
  });

  it('above --max, the Free rooms over it go at once; never a room in use', () => {
    assert.deepEqual(
      decide(policy({ max: 10 }), fleet({ replicas: 14, allocated: 2, highestKept: 1 }), {}, t0),
      {
        decision: { kind: 'down', from: 14, to: 10 },
        clock: {},
      },
    );
    assert.deepEqual(
      decide(policy({ max: 10 }), fleet({ replicas: 14, allocated: 2, highestKept: 11 }), {}, t0),
      {
        decision: { kind: 'down', from: 14, to: 12 },
        clock: {},
      },
    );
    // The room in use at the top: nothing to remove at once; only the delay may apply, and it cannot go below 14.
    assert.deepEqual(
      decide(policy({ max: 10 }), fleet({ replicas: 14, allocated: 2, highestKept: 13 }), {}, t0),
      {
        decision: { kind: 'hold', replicas: 14 },
        clock: {},
      },
    );
  });
});

describe('decisionLine', () => {
  const delay = '5m';
  it('says why, with the counts first', () => {
    const f = fleet({ replicas: 8, allocated: 7, free: 1, highestKept: 6 });
    assert.equal(
      decisionLine(policy(), f, { kind: 'up', from: 8, to: 10, lead: 0 }, delay),
      'Allocated 7, Free 1 < buffer 3: scaling 8 -> 10',
    );
    assert.equal(
      decisionLine(policy(), f, { kind: 'up', from: 8, to: 14, lead: 4 }, delay),
      'Allocated 7, Free 1 < buffer 3 (+4 taken during the last step, expected during this one): scaling 8 -> 14',
    );
    assert.equal(
      decisionLine(policy(), fleet(), { kind: 'up', from: 8, to: 13, lead: 5 }, delay),
      'Allocated 5, Free 3, buffer 3 (+5 taken during the last step, expected during this one): scaling 8 -> 13',
    );
    assert.equal(
      decisionLine(
        policy(),
        fleet({ allocated: 6, free: 2 }),
        { kind: 'up', from: 8, to: 10, lead: 1 },
        delay,
      ),
      'Allocated 6, Free 2 < buffer 3 (+1 taken during the last step, expected during this one): scaling 8 -> 10',
    );
    assert.equal(
      decisionLine(
        policy({ min: 5 }),
        fleet({ replicas: 0, allocated: 0, free: 0 }),
        { kind: 'up', from: 0, to: 5, lead: 0 },
        delay,
      ),
      'Allocated 0, Free 0, below --min 5: scaling 0 -> 5',
    );
    assert.equal(
      decisionLine(
        policy({ min: 5 }),
        fleet({ replicas: 0, allocated: 0, free: 0 }),
        { kind: 'up', from: 0, to: 6, lead: 1 },
        delay,
      ),
      'Allocated 0, Free 0, below --min 5 (+1 taken during the last step, expected during this one): scaling 0 -> 6',
    );
    assert.equal(
      decisionLine(
        policy({ min: 3 }),
        fleet({ replicas: 0, allocated: 0, free: 0 }),
        { kind: 'up', from: 0, to: 3, lead: 0 },
        delay,
      ),
      'Allocated 0, Free 0 < buffer 3: scaling 0 -> 3',
    );
    assert.equal(
      decisionLine(
        policy({ max: 8 }),
        fleet({ allocated: 1, free: 7 }),
        { kind: 'down', from: 8, to: 4 },
        delay,
      ),
      'Allocated 1, Free 7 > buffer 3 for 5m: scaling 8 -> 4, removing only Free rooms',
    );
    assert.equal(
      decisionLine(
        policy({ min: 3 }),
        fleet({ replicas: 8, allocated: 4, cordoned: 2, free: 1 }),
        { kind: 'up', from: 8, to: 9, lead: 0 },
        delay,
      ),
      'Allocated 4, Cordoned 2, Free 1 < buffer 3: scaling 8 -> 9',
    );
    assert.equal(
      decisionLine(policy(), fleet({ allocated: 1, free: 7 }), { kind: 'down', from: 8, to: 4 }, delay),
      'Allocated 1, Free 7 > buffer 3 for 5m: scaling 8 -> 4, removing only Free rooms',
    );
    assert.equal(
      decisionLine(
        policy({ max: 6 }),
        fleet({ allocated: 1, free: 7 }),
        { kind: 'down', from: 8, to: 6 },
        delay,
      ),
      'Allocated 1, Free 7, above --max 6: scaling 8 -> 6, removing only Free rooms',
    );
    assert.equal(
      decisionLine(
        policy(),
        fleet({ allocated: 1, free: 7 }),
        { kind: 'pending', from: 8, to: 4, at: Date.UTC(2026, 11, 7, 8, 5) },
        delay,
      ),
      'Allocated 1, Free 7 > buffer 3: scaling 8 -> 4 at 2026-12-07T08:05:00.000Z (after 5m) unless rooms are allocated meanwhile',
    );
    assert.equal(
      decisionLine(policy({ buffer: { percent: 25 } }), fleet(), { kind: 'hold', replicas: 8 }, delay),
      'Allocated 5, Free 3: 8 rooms keep the buffer 25%',
    );
  });

  it('names cordoned rooms only when there are some', () => {
    assert.equal(
      fleetPhrase(fleet({ allocated: 2, cordoned: 1, free: 3 })),
      'Allocated 2, Cordoned 1, Free 3',
    );
    assert.equal(fleetPhrase(fleet({ allocated: 2, cordoned: 0, free: 3 })), 'Allocated 2, Free 3');
  });
});

describe('the autoscaler loop: its answers and retries (ops/autoscale.ts)', () => {
  it('confirms only the removal of Ready rooms (Free: it plans below no room in use); anything else is for a person', async () => {
    await unattendedConfirm({ what: 'this scale removes 3 Ready pod(s)', question: '?' });
    for (const what of [
      "this scale replaces 2 room(s) on the release's newest pod template",
      "this scale replaces 2 room(s) on the release's newest pod template and removes 3 Ready pod(s)",
      'this scale removes 3 Ready pod(s) and deletes 3 PVC(s) and their data',
      'this scale removes 1 room(s) in use (Allocated): rooms-expose-pods-4',
    ])
      await assert.rejects(unattendedConfirm({ what, question: '?' }), {
        exitCode: ExitCode.NOT_CONFIRMED,
        message: `the autoscaler does not confirm that ${what}`,
      });
  });

  it('retries all but what no retry mends', () => {
    for (const code of [
      ExitCode.CONFLICT,
      ExitCode.CLUSTER_UNREACHABLE,
      ExitCode.TIMEOUT,
      ExitCode.ROOMS_IN_USE,
      ExitCode.INVALID_VALUES,
      ExitCode.NOT_CONFIRMED,
      ExitCode.ERROR,
    ])
      assert.equal(retryable(new ExposePodsError('x', code)), true, String(code));
    for (const code of [
      ExitCode.USAGE,
      ExitCode.HELM_MISSING,
      ExitCode.FORBIDDEN,
      ExitCode.NOT_FOUND,
      ExitCode.INTERRUPTED,
      ExitCode.TERMINATED,
      ExitCode.HUNG_UP,
    ])
      assert.equal(retryable(new ExposePodsError('x', code)), false, String(code));
    assert.equal(retryable(new Error('socket hang up')), true);
  });

  it('backs off 1 s, doubling to 30 s', () => {
    const seen: number[] = [];
    for (let ms = 0, i = 0; i < 7; i++) seen.push((ms = nextBackoff(ms)));
    assert.deepEqual(seen, [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });

  it('policyOf: the flags checked together, exit 2 naming each problem', () => {
    assert.deepEqual(policyOf({ buffer: '25%', min: 2, max: 40, scaleDownDelay: '90s' }), {
      policy: { buffer: { percent: 25 }, min: 2, max: 40, scaleDownDelayMs: 90_000, lead: false },
      delay: '90s',
    });
    assert.deepEqual(policyOf({ buffer: 3, max: 20, lead: true }).policy, {
      buffer: { count: 3 },
      min: 0,
      max: 20,
      scaleDownDelayMs: 300_000,
      lead: true,
    });
    assert.throws(() => policyOf({ buffer: '3x', max: 20 }), {
      exitCode: ExitCode.USAGE,
      message: /^--buffer 3x: use/,
    });
    assert.throws(() => policyOf({ buffer: '3', min: 9, max: 4 }), {
      exitCode: ExitCode.USAGE,
      message: '--min 9 is more than --max 4',
    });
    assert.throws(() => policyOf({ buffer: '3', max: 4, scaleDownDelay: 'soon' }), {
      exitCode: ExitCode.USAGE,
      message: /^--scale-down-delay soon is not a duration/,
    });
    assert.deepEqual(policyView(policyOf({ buffer: '25%', min: 2, max: 40, scaleDownDelay: '90s' }).policy), {
      buffer: '25%',
      min: 2,
      max: 40,
      scaleDownDelaySeconds: 90,
      lead: false,
    });
  });

  it('stopOnAbort: the abort stops helm (SIGTERM) once, and dispose forgets it', () => {
    const stopped: string[] = [];
    const a = new AbortController();
    const s = stopOnAbort(a.signal, (sig) => (stopped.push(sig), 1));
    assert.equal(s.signal, a.signal);
    a.abort();
    a.abort();
    assert.deepEqual(stopped, ['SIGTERM']);
    const b = new AbortController();
    stopOnAbort(b.signal, (sig) => (stopped.push(sig), 1)).dispose();
    b.abort();
    assert.deepEqual(stopped, ['SIGTERM'], 'disposed: nothing stopped');
    stopOnAbort(AbortSignal.abort(), (sig) => (stopped.push(sig), 1));
    assert.deepEqual(stopped, ['SIGTERM', 'SIGTERM'], 'aborted already: stopped at once');
  });
});

describe('formatAutoscaleEvent', () => {
  const base = {
    schemaVersion: 1 as const,
    time: '2026-12-07T08:09:06.123Z',
    release: 'rooms',
    namespace: 'game',
  };
  const printed = (e: Parameters<typeof formatAutoscaleEvent>[0], json: boolean) => {
    const out: string[] = [];
    const warned: string[] = [];
    formatAutoscaleEvent(e, json, { warn: (m: string) => warned.push(m) }, (t) => out.push(t));
    return { out, warned };
  };

  it('text: decisions on stdout after the time; retries and notices as warnings', () => {
    const scaling = {
      ...base,
      type: 'scaling' as const,
      direction: 'up' as const,
      from: 3,
      to: 4,
      rooms: { replicas: 3, allocated: 2, free: 1, cordoned: 0 },
      message: 'Allocated 2, Free 1 < buffer 2: scaling 3 -> 4',
    };
    assert.deepEqual(printed(scaling, false), {
      out: ['08:09:06 Allocated 2, Free 1 < buffer 2: scaling 3 -> 4\n'],
      warned: [],
    });
    const retry = {
      ...base,
      type: 'retrying' as const,
      from: 3,
      to: 4,
      exitCode: 9,
      inSeconds: 2,
      message: 'the scale 3 -> 4 did not happen: busy; trying again in 2s',
      hint: 'Wait.',
    };
    assert.deepEqual(printed(retry, false), {
      out: [],
      warned: ['the scale 3 -> 4 did not happen: busy; trying again in 2s (Wait.)'],
    });
    assert.deepEqual(printed({ ...base, type: 'notice', message: 'watch reconnected' }, false), {
      out: [],
      warned: ['watch reconnected'],
    });
  });

  it('json: the event whole, one line', () => {
    const e = { ...base, type: 'stopped' as const, message: 'autoscaler stopped', exitCode: 0 };
    const { out, warned } = printed(e, true);
    assert.deepEqual(warned, []);
    assert.equal(out.length, 1);
    assert.ok(out[0]?.endsWith('}\n') && !out[0].slice(0, -1).includes('\n'));
    assert.deepEqual(JSON.parse(out[0] ?? ''), e);
  });
});

describe('status: the autoscaler from its Lease', () => {
  const now = Date.UTC(2026, 11, 7, 9, 0, 0);
  const policyJson = JSON.stringify({ buffer: '3', min: 3, max: 20, scaleDownDelaySeconds: 300 });
  const lease = (renewedAgoMs: number, policy = policyJson) => ({
    holder: 'kubectl-expose-pods/host/41/ab12',
    policy,
    acquired: new Date(now - 3_600_000),
    renewed: new Date(now - renewedAgoMs),
    durationSeconds: 30,
  });

  it('active while renewed within its duration, by this clock', () => {
    assert.deepEqual(autoscalerStatusOf(lease(30_000), now), {
      active: true,
      holder: 'kubectl-expose-pods/host/41/ab12',
      policy: { buffer: '3', min: 3, max: 20, scaleDownDelaySeconds: 300 },
      since: '2026-12-07T08:00:00.000Z',
      renewedAt: '2026-12-07T08:59:30.000Z',
    });
    assert.equal(autoscalerStatusOf(lease(30_001), now).active, false);
    assert.equal(autoscalerStatusOf({ holder: 'x' }, now).active, false);
  });

  it('settings it cannot read are unknown, not an error', () => {
    for (const bad of ['', 'not json', '{"buffer":3}', 'null', '{"buffer":"3"}'])
      assert.equal(autoscalerStatusOf(lease(0, bad), now).policy, null, bad);
    assert.deepEqual(autoscalerStatusOf({}, now), {
      active: false,
      holder: 'unknown',
      policy: null,
      since: null,
      renewedAt: null,
    });
  });

  it('settings need a text buffer and a numeric max: a max alone, or with a numeric buffer, is unknown', () => {
    for (const bad of [
      '{"max":20}',
      '{"buffer":3,"max":20}',
      '{"min":3,"max":20,"scaleDownDelaySeconds":300}',
    ])
      assert.equal(autoscalerStatusOf(lease(0, bad), now).policy, null, bad);
    assert.deepEqual(autoscalerStatusOf(lease(0, '{"buffer":"2","max":9}'), now).policy, {
      buffer: '2',
      max: 9,
    });
  });

  it('a Lease without a duration is active for 30 s; one with its own duration, for that long', () => {
    const noDuration = (renewedAgoMs: number) => ({ ...lease(renewedAgoMs), durationSeconds: undefined });
    assert.equal(autoscalerStatusOf(noDuration(30_000), now).active, true);
    assert.equal(autoscalerStatusOf(noDuration(30_001), now).active, false);
    assert.equal(autoscalerStatusOf({ ...lease(45_000), durationSeconds: 60 }, now).active, true);
    assert.equal(autoscalerStatusOf({ ...lease(60_000), durationSeconds: 60 }, now).active, true);
    assert.equal(autoscalerStatusOf({ ...lease(60_001), durationSeconds: 60 }, now).active, false);
  });

  it('one line: active with its settings, none, or not running since its last renewal', () => {
    assert.equal(
      autoscalerPhrase(autoscalerStatusOf(lease(1000), now)),
      'active: buffer 3, min 3, max 20, scale-down delay 300s (kubectl-expose-pods/host/41/ab12 since 2026-12-07T08:00:00.000Z)',
    );
    assert.equal(
      autoscalerPhrase(
        autoscalerStatusOf(
          lease(
            1000,
            JSON.stringify({ buffer: '10', min: 10, max: 500, scaleDownDelaySeconds: 300, lead: true }),
          ),
          now,
        ),
      ),
      'active: buffer 10, min 10, max 500, scale-down delay 300s, lead (kubectl-expose-pods/host/41/ab12 since 2026-12-07T08:00:00.000Z)',
    );
    assert.equal(autoscalerPhrase(null), 'none');
    assert.equal(
      autoscalerPhrase(autoscalerStatusOf(lease(60_000, 'x'), now)),
      'not running (last renewed 2026-12-07T08:59:00.000Z by kubectl-expose-pods/host/41/ab12; settings unknown)',
    );
  });
});
