import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { PodView } from '../../src/core/model.js';
import {
  batchSize,
  DEFAULT_MAX_UNAVAILABLE,
  cordonedKeptLine,
  isOutdated,
  listed,
  parseMaxUnavailable,
  rolloutDone,
  rolloutLine,
  rolloutPlanOf,
  rolloutProgress,
  rolloutSetOf,
  rolloutStep,
  type RolloutSet,
} from '../../src/core/rollout.js';

const W = 'rooms-expose-pods';
const set = (over: Partial<RolloutSet> = {}): RolloutSet => ({
  workload: W,
  replicas: 10,
  updateRevision: 'new',
  observed: true,
  strategy: 'OnDelete',
  ...over,
});
/** Room n: Ready on `revision`, Free unless allocated. */
const room = (n: number, over: Partial<PodView> & { allocated?: boolean } = {}): PodView => {
  const { allocated, ...rest } = over;
  return {
    name: `${W}-${n}`,
    phase: 'Running',
    ready: true,
    terminating: false,
    revision: 'old',
    uid: `uid-${n}`,
    resourceVersion: `${100 + n}`,
    mark: { allocated: allocated ?? false, draining: false },
    ...rest,
  };
};
const rooms = (n: number, f: (i: number) => Partial<PodView> & { allocated?: boolean } = () => ({})) =>
  Array.from({ length: n }, (_, i) => room(i, f(i)));
const names = (pods: readonly PodView[]) => pods.map((p) => p.name);
const R = (...ns: number[]) => ns.map((n) => `${W}-${n}`);

describe('parseMaxUnavailable and batchSize', () => {
  for (const [text, want] of [
    ['25%', { percent: 25 }],
    ['100%', { percent: 100 }],
    ['1%', { percent: 1 }],
    ['3', { count: 3 }],
    ['1', { count: 1 }],
    ['12', { count: 12 }],
    [' 7 ', { count: 7 }],
    [DEFAULT_MAX_UNAVAILABLE, { percent: 25 }],
  ] as const)
    it(`${text} -> ${JSON.stringify(want)}`, () => {
      assert.deepEqual(parseMaxUnavailable(text), want);
    });
  for (const bad of ['0', '0%', '101%', '-1', '2.5', '25 %', '25%x', 'x25%', 'x', ''])
    it(`${JSON.stringify(bad)} is refused, naming the flag`, () => {
      const r = parseMaxUnavailable(bad);
      assert.equal(typeof r, 'string');
      assert.match(r as string, /^--max-unavailable .*: use a count/);
    });
  for (const [max, replicas, want] of [
    [{ percent: 25 }, 10, 2],
    [{ percent: 25 }, 3, 1],
    [{ percent: 25 }, 0, 1],
    [{ percent: 100 }, 7, 7],
    [{ percent: 50 }, 1000, 500],
    [{ count: 5 }, 3, 5],
    [{ count: 1 }, 100, 1],
  ] as const)
    it(`${JSON.stringify(max)} of ${replicas} replicas: ${want} at once (a percentage rounds down, never below 1)`, () => {
      assert.equal(batchSize(max, replicas), want);
    });
});

describe('isOutdated', () => {
  for (const [pod, update, want] of [
    ['old', 'new', true],
    ['new', 'new', false],
    [undefined, 'new', false],
    ['old', undefined, false],
  ] as const)
    it(`pod ${String(pod)}, StatefulSet ${String(update)}: ${want}`, () => {
      assert.equal(isOutdated({ revision: pod }, update), want);
    });
});

describe('rolloutStep: which rooms are replaced, in which batches', () => {
  it('10 rooms on the old build, 3 in use: a batch of the lowest Free ones; rooms in use are kept, never candidates', () => {
    const pods = rooms(10, (i) => ({ allocated: i === 0 || i === 4 || i === 9 }));
    const step = rolloutStep(set(), pods, { batch: 2 });
    assert.deepEqual(names(step.replace), R(1, 2));
    assert.deepEqual(step.pending, R(3, 5, 6, 7, 8));
    assert.deepEqual(step.inUseOutdated, R(0, 4, 9));
    assert.deepEqual(step.unavailable, []);
    assert.equal(step.updated, 0);
    // Each carries the preconditions its delete needs.
    assert.deepEqual(
      step.replace.map((p) => [p.uid, p.resourceVersion]),
      [
        ['uid-1', '101'],
        ['uid-2', '102'],
      ],
    );
  });

  it('at most a batch unavailable at once: a room missing, terminating or starting takes a place of the batch', () => {
    const all = rooms(10, (i) => (i < 2 ? { revision: 'new' } : {}));
    for (const [what, pods] of [
      ['missing', all.filter((p) => p.name !== `${W}-0`)],
      ['terminating', all.map((p, i) => (i === 0 ? { ...p, terminating: true } : p))],
      ['starting on the new revision', all.map((p, i) => (i === 1 ? { ...p, ready: false } : p))],
    ] as const) {
      const step = rolloutStep(set(), pods, { batch: 3 });
      assert.deepEqual(names(step.replace), R(2, 3), what);
      assert.equal(step.pending.length, 6, what);
      assert.equal(step.unavailable.length, 1, what);
    }
    // A whole batch down: nothing more until one is back.
    const down = all.map((p, i) => (i < 3 ? { ...p, terminating: true } : p));
    assert.deepEqual(rolloutStep(set(), down, { batch: 3 }).replace, []);
    // All Ready again: a whole batch.
    assert.deepEqual(names(rolloutStep(set(), all, { batch: 3 }).replace), R(2, 3, 4));
  });

  it('one room that stays unavailable (a lost node) slows the rollout, never stops it', () => {
    const stuck = rooms(6, (i) => (i === 5 ? { terminating: true } : {}));
    const step = rolloutStep(set({ replicas: 6 }), stuck, { batch: 2 });
    assert.deepEqual(names(step.replace), R(0));
  });

  it('OrderedReady: no room above a room in use that is not Ready is replaced (the controller would not recreate it)', () => {
    const pods = rooms(6, (i) => (i === 2 ? { allocated: true, ready: false } : {}));
    const ordered = rolloutStep(set({ replicas: 6, podManagementPolicy: 'OrderedReady' }), pods, {
      batch: 6,
    });
    assert.deepEqual(names(ordered.replace), R(0, 1));
    assert.deepEqual(ordered.pending, R(3, 4, 5));
    assert.equal(ordered.blockedBy, `${W}-2`);
    assert.equal(rolloutDone(ordered, false), false);
    // Parallel recreates each pod on its own: no block.
    const parallel = rolloutStep(set({ replicas: 6, podManagementPolicy: 'Parallel' }), pods, { batch: 6 });
    assert.deepEqual(names(parallel.replace), R(0, 1, 3, 4, 5));
    assert.equal(parallel.blockedBy, undefined);
  });

  it('a Free room on the old build that is not Ready serves nobody: replaced at once, outside the batch', () => {
    const pods = rooms(4, (i) => (i === 3 ? { ready: false, phase: 'Running' } : {}));
    const missing = pods.filter((p) => p.name !== `${W}-0`);
    const step = rolloutStep(set({ replicas: 4 }), missing, { batch: 2 });
    assert.deepEqual(names(step.replace), R(3));
    assert.deepEqual(step.unavailable, R(0));
    assert.deepEqual(step.pending, R(1, 2));
  });

  it('a room in use that is not Ready neither blocks the batches nor is replaced', () => {
    const pods = rooms(3, (i) => (i === 0 ? { allocated: true, ready: false } : {}));
    const step = rolloutStep(set({ replicas: 3 }), pods, { batch: 5 });
    assert.deepEqual(names(step.replace), R(1, 2));
    assert.deepEqual(step.inUseOutdated, R(0));
    assert.deepEqual(step.unavailable, []);
  });

  it('--delete-in-use: rooms in use are candidates like the others', () => {
    const pods = rooms(3, (i) => ({ allocated: i === 1 }));
    const step = rolloutStep(set({ replicas: 3 }), pods, { batch: 5, includeInUse: true });
    assert.deepEqual(names(step.replace), R(0, 1, 2));
    assert.deepEqual(step.inUseOutdated, []);
  });

  it('--delete-in-use, confirmed for some rooms: a room in use the confirmation did not name keeps its match', () => {
    const pods = rooms(4, (i) => ({ allocated: i === 1 || i === 3 }));
    const step = rolloutStep(set({ replicas: 4 }), pods, { batch: 5, includeInUse: new Set(R(1)) });
    assert.deepEqual(names(step.replace), R(0, 1, 2));
    assert.deepEqual(step.inUseOutdated, R(3));
    const none = rolloutStep(set({ replicas: 4 }), pods, { batch: 5, includeInUse: new Set<string>() });
    assert.deepEqual(names(none.replace), R(0, 2));
    assert.deepEqual(none.inUseOutdated, R(1, 3));
    assert.deepEqual(
      rolloutStep(set({ replicas: 4 }), pods, { batch: 5, includeInUse: false }).inUseOutdated,
      R(1, 3),
    );
  });

  it('a Draining room that is not allocated is replaced (it has no match); rooms at or above the replicas are the scale-down’s', () => {
    const pods = rooms(5, (i) => (i === 1 ? { mark: { allocated: false, draining: true } } : {}));
    const step = rolloutStep(set({ replicas: 3 }), pods, { batch: 5 });
    assert.deepEqual(names(step.replace), R(0, 1, 2));
  });

  it('until the controller has seen the new spec, nothing is replaced (its update revision is still the old one)', () => {
    const pods = rooms(3);
    for (const s of [
      set({ replicas: 3, observed: false }),
      set({ replicas: 3, updateRevision: undefined }),
    ]) {
      const step = rolloutStep(s, pods, { batch: 5 });
      assert.equal(step.waitingForController, true);
      assert.deepEqual(step.replace, []);
      assert.equal(rolloutDone(step, false), false);
    }
  });

  it('rooms on the update revision are counted, never replaced', () => {
    const pods = rooms(4, () => ({ revision: 'new' }));
    const step = rolloutStep(set({ replicas: 4 }), pods, { batch: 4 });
    assert.deepEqual(step.replace, []);
    assert.equal(step.updated, 4);
    assert.equal(rolloutDone(step, true), true);
  });
});

describe('rolloutDone and the plan', () => {
  const inUseLeft = rolloutStep(
    set({ replicas: 2 }),
    [room(0, { revision: 'new' }), room(1, { allocated: true })],
    { batch: 1 },
  );
  it('done when only rooms in use are left on the old build; not with --wait-in-use', () => {
    assert.equal(rolloutDone(inUseLeft, false), true);
    assert.equal(rolloutDone(inUseLeft, true), false);
  });
  it('not done while a room is missing, or a Free one is still to replace', () => {
    assert.equal(
      rolloutDone(rolloutStep(set({ replicas: 2 }), [room(0, { revision: 'new' })], { batch: 1 }), false),
      false,
    );
    assert.equal(rolloutDone(rolloutStep(set({ replicas: 2 }), rooms(2), { batch: 1 }), false), false);
  });
  it('the plan lists every Free room to replace (all batches) and the rooms in use kept', () => {
    const plan = rolloutPlanOf(
      set({ replicas: 5 }),
      rooms(5, (i) => ({ allocated: i === 2, ...(i === 4 ? { revision: 'new' } : {}) })),
    );
    assert.deepEqual(plan.replace, R(0, 1, 3));
    assert.deepEqual(plan.inUse, R(2));
    assert.equal(plan.updated, 1);
    assert.equal(plan.total, 5);
  });
  it('a progress line says how far, what is being replaced, and what waits for matches to end', () => {
    const s = set({ replicas: 10 });
    const step = rolloutStep(
      s,
      rooms(10, (i) => ({ allocated: i > 6, ...(i < 2 ? { revision: 'new' } : {}) })),
      { batch: 2 },
    );
    assert.equal(
      rolloutLine(rolloutProgress(s, step)),
      `rooms on revision new: 2/10 · replacing ${W}-2, ${W}-3 · 3 Free to replace · 3 in use on older revisions`,
    );
    assert.equal(
      rolloutLine({ ...rolloutProgress(s, step), waitOnly: true, updated: 9, replacing: R(9) }),
      `pods ready 9/10 · waiting for ${W}-9`,
    );
  });
});

describe('rolloutStep and cordoned rooms: the operator holds them', () => {
  const cordoned = (n: number, allocated = false, over: Partial<PodView> = {}) =>
    room(n, { mark: { allocated, draining: false, cordoned: true }, ...over });
  it('a Cordoned room on the old build is never replaced, nor waited for; the others are', () => {
    const step = rolloutStep(set({ replicas: 3 }), [room(0), cordoned(1), room(2)], { batch: 5 });
    assert.deepEqual(names(step.replace), R(0, 2));
    assert.deepEqual(step.cordonedOutdated, R(1));
    assert.deepEqual([step.pending, step.unavailable, step.inUseOutdated], [[], [], []]);
    // Not Ready either: still the operator's (a Free outdated room not Ready would be replaced at once).
    const notReady = rolloutStep(set({ replicas: 1 }), [cordoned(0, false, { ready: false })], { batch: 1 });
    assert.deepEqual([notReady.replace, notReady.cordonedOutdated], [[], R(0)]);
  });
  it('the same room uncordoned is replaced (both sides of the mark)', () => {
    const step = rolloutStep(set({ replicas: 1 }), [room(0)], { batch: 1 });
    assert.deepEqual([names(step.replace), step.cordonedOutdated], [R(0), []]);
  });
  it('a cordoned room on the update revision counts as updated', () => {
    const step = rolloutStep(set({ replicas: 1 }), [cordoned(0, false, { revision: 'new' })], { batch: 1 });
    assert.deepEqual([step.updated, step.cordonedOutdated], [1, []]);
  });
  it('a cordoned room in use is a room in use (kept; --delete-in-use replaces it)', () => {
    const kept = rolloutStep(set({ replicas: 1 }), [cordoned(0, true)], { batch: 1 });
    assert.deepEqual([kept.replace, kept.inUseOutdated, kept.cordonedOutdated], [[], R(0), []]);
    const forced = rolloutStep(set({ replicas: 1 }), [cordoned(0, true)], { batch: 1, includeInUse: true });
    assert.deepEqual(names(forced.replace), R(0));
  });
  it('done with only cordoned rooms left, --wait-in-use or not; the plan, the progress and the summary name them', () => {
    const s = set({ replicas: 2 });
    const pods = [room(0, { revision: 'new' }), cordoned(1)];
    const step = rolloutStep(s, pods, { batch: 1 });
    assert.equal(rolloutDone(step, false), true);
    assert.equal(rolloutDone(step, true), true);
    assert.deepEqual(rolloutPlanOf(s, pods).cordoned, R(1));
    assert.equal(rolloutLine(rolloutProgress(s, step)), `rooms on revision new: 1/2 · 1 cordoned kept`);
    assert.equal(
      cordonedKeptLine(R(1)),
      `1 cordoned room kept on its revision: uncordon it to update (${W}-1)`,
    );
    assert.equal(
      cordonedKeptLine(R(1, 2)),
      `2 cordoned rooms kept on their revision: uncordon them to update (${W}-1, ${W}-2)`,
    );
    assert.equal(cordonedKeptLine([]), undefined);
  });
});

describe('canonicalJson: templates the server defaulted alike compare equal', () => {
  it('key order, null and undefined members, and Dates do not matter; values do', async () => {
    const { canonicalJson } = await import('../../src/kube/apply.js');
    const a = { spec: { b: 1, a: [{ y: null, x: 'v' }] }, metadata: { creationTimestamp: undefined } };
    const b = { metadata: {}, spec: { a: [{ x: 'v' }], b: 1 } };
    assert.equal(canonicalJson(a), canonicalJson(b));
    assert.notEqual(canonicalJson({ a: [1, 2] }), canonicalJson({ a: [2, 1] }));
    assert.notEqual(canonicalJson({ image: 'room:1' }), canonicalJson({ image: 'room:2' }));
    assert.equal(canonicalJson({ t: new Date('2026-01-01T00:00:00Z') }), '{"t":"2026-01-01T00:00:00.000Z"}');
  });
});

describe('the rollout view of a StatefulSet, a plan with rooms in use, and its lines at the edges', () => {
  const sts = { name: W, replicas: 3, readyReplicas: 3, currentReplicas: 3, claimTemplates: [] };
  it('a StatefulSet whose controller state or strategy is unknown: not observed, and RollingUpdate (the API default)', () => {
    assert.deepEqual(rolloutSetOf(sts), {
      workload: W,
      replicas: 3,
      updateRevision: undefined,
      observed: false,
      strategy: 'RollingUpdate',
      podManagementPolicy: undefined,
    });
    const known = rolloutSetOf({
      ...sts,
      updateRevision: 'r2',
      observed: true,
      updateStrategy: 'OnDelete',
      podManagementPolicy: 'Parallel',
    });
    assert.deepEqual(
      [known.updateRevision, known.observed, known.strategy, known.podManagementPolicy],
      ['r2', true, 'OnDelete', 'Parallel'],
    );
  });
  it('while the controller has not seen the new spec, nothing is replaced and every Free outdated room waits, in ordinal order', () => {
    const step = rolloutStep(
      set({ replicas: 4, observed: false }),
      rooms(4, (i) => ({ allocated: i === 1 })),
      {
        batch: 1,
      },
    );
    assert.equal(step.waitingForController, true);
    assert.deepEqual(names(step.replace), []);
    assert.deepEqual(step.pending, R(0, 2, 3));
    assert.deepEqual(step.inUseOutdated, R(1));
  });
  it('with --delete-in-use the plan replaces rooms in use too, and keeps none', () => {
    const pods = rooms(3, (i) => ({ allocated: i === 1 }));
    const plan = rolloutPlanOf(set({ replicas: 3 }), pods, { includeInUse: true });
    assert.deepEqual(plan.replace, R(0, 1, 2));
    assert.deepEqual(plan.inUse, []);
    assert.deepEqual(rolloutPlanOf(set({ replicas: 3 }), pods).replace, R(0, 2));
  });
  it('a finished rollout, a revision not known yet, and a wait with nothing missing: only what is true is said', () => {
    const done = rolloutStep(
      set({ replicas: 2 }),
      rooms(2, () => ({ revision: 'new' })),
      { batch: 1 },
    );
    assert.equal(rolloutLine(rolloutProgress(set({ replicas: 2 }), done)), 'rooms on revision new: 2/2');
    assert.equal(
      rolloutLine({
        updated: 0,
        total: 2,
        replacing: [],
        pending: 2,
        inUseOutdated: [],
        cordonedOutdated: [],
      }),
      'rooms on revision (new): 0/2 · 2 Free to replace',
    );
    assert.equal(
      rolloutLine({
        updated: 2,
        total: 2,
        replacing: [],
        pending: 0,
        inUseOutdated: [],
        cordonedOutdated: [],
        waitOnly: true,
      }),
      'pods ready 2/2',
    );
  });
  it('listed names five, then how many more; a shorter list is named whole', () => {
    assert.equal(listed(['a', 'b', 'c', 'd', 'e']), 'a, b, c, d, e');
    assert.equal(listed(['a', 'b', 'c', 'd', 'e', 'f']), 'a, b, c, d, e and 1 more');
    assert.equal(listed(['a', 'b', 'c'], 2), 'a, b and 1 more');
    assert.equal(listed([]), '');
  });
});
