import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import type { PodView, ServiceView } from '../../src/core/model.js';
import { isSecretPath, redactSecrets, redactValueChanges, writeOnlyPaths } from '../../src/core/redact.js';
import {
  budgetDelta,
  capacityProblems,
  chartMadeClaims,
  chartMadeSecrets,
  claimOrdinal,
  createdObjects,
  diffValues,
  disruptions,
  freeNodePortBlock,
  type ManifestObject,
  manifestView,
  nodePortProblems,
  ORDERED_START_NOTE_PODS,
  orderedStart,
  ownedElsewhere,
  planReleaseChange,
  renameProblem,
} from '../../src/core/release-change.js';
import { ExitCode, ExposePodsError } from '../../src/errors.js';
import { podSlotBudget } from '../../src/core/budget.js';
import { approxDuration, formatChange, formatOrderedStart } from '../../src/output/change.js';
import { CHART } from '../support/tools.js';

const W = 'rooms-expose-pods';

/** The manifest the chart renders, reduced to what a plan reads. */
function manifest(o: {
  replicas: number;
  image?: string;
  /** spec.updateStrategy.type; Kubernetes' default (RollingUpdate) when left out. */
  strategy?: string;
  base?: number | null;
  count?: number;
  redisTag?: string;
}) {
  const objects: ManifestObject[] = [
    {
      kind: 'StatefulSet',
      metadata: { name: W },
      spec: {
        replicas: o.replicas,
        ...(o.strategy ? { updateStrategy: { type: o.strategy } } : {}),
        template: { spec: { containers: [{ image: o.image ?? 'room:1' }] } },
        volumeClaimTemplates: [{ metadata: { name: 'data' } }],
      },
    },
    { kind: 'Deployment', metadata: { name: `${W}-redis` }, spec: { template: { tag: o.redisTag ?? '7' } } },
    { kind: 'PersistentVolumeClaim', metadata: { name: `${W}-redis` } },
  ];
  for (let i = 0; i < (o.count ?? o.replicas); i++) {
    const base = o.base === undefined ? 30880 : o.base;
    objects.push({
      kind: 'Service',
      metadata: { name: `${W}-${i}` },
      spec: { type: 'NodePort', ports: [{ port: 8080, ...(base === null ? {} : { nodePort: base + i }) }] },
    });
  }
  return manifestView(objects);
}

const pods = (n: number, ready = true): PodView[] =>
  Array.from({ length: n }, (_, i) => ({ name: `${W}-${i}`, phase: 'Running', ready, terminating: false }));

describe('diffValues', () => {
  it('reports set, changed and removed leaves by dotted path; unchanged ones are left out', () => {
    assert.deepEqual(
      diffValues(
        { room: { replicas: 5, image: { tag: '2.52' } }, expose: { nodePortBase: 31000 } },
        { room: { replicas: 5, image: { tag: '2.53' } }, redis: { enabled: false } },
      ),
      [
        { path: 'expose.nodePortBase', from: 31000 },
        { path: 'redis.enabled', to: false },
        { path: 'room.image.tag', from: '2.52', to: '2.53' },
      ],
    );
    assert.deepEqual(diffValues({ a: [1, 2] }, { a: [1, 2] }), []);
  });
});

describe('planReleaseChange', () => {
  it('install again with the same values: a no-op plan that needs no confirmation', () => {
    const p = planReleaseChange(manifest({ replicas: 5 }), manifest({ replicas: 5 }), [], pods(5));
    assert.equal(p.noop, true);
    assert.deepEqual(disruptions(p), []);
  });

  it('5 -> 2 replicas: the Ready pods it removes, highest first, and the Services that go', () => {
    const p = planReleaseChange(manifest({ replicas: 5 }), manifest({ replicas: 2 }), [], pods(5));
    assert.deepEqual(p.replicas, { from: 5, to: 2 });
    assert.deepEqual(p.removeReadyPods, [`${W}-4`, `${W}-3`, `${W}-2`]);
    assert.deepEqual(p.removeServices, [`${W}-2`, `${W}-3`, `${W}-4`]);
    assert.deepEqual(disruptions(p), ['removes 3 Ready pod(s)']);
  });

  it('a new template restarts rooms in use too: named, and a reason to ask only with --delete-in-use', () => {
    const live = pods(3).map((p, i) => (i === 1 ? { ...p, mark: { allocated: true, draining: false } } : p));
    const p = planReleaseChange(
      manifest({ replicas: 3 }),
      manifest({ replicas: 3, image: 'room:2' }),
      [],
      live,
    );
    assert.deepEqual(p.restartInUse, [`${W}-1`]);
    assert.deepEqual(disruptions(p, true), [
      'restarts 3 pod(s)',
      `restarts 1 room(s) in use (Allocated): ${W}-1`,
    ]);
  });

  it('OnDelete: a new template replaces the Free rooms, lowest first, and keeps rooms in use on their build; nothing to refuse', () => {
    const live = pods(4).map((p, i) =>
      i === 1 || i === 3 ? { ...p, mark: { allocated: true, draining: false } } : p,
    );
    const p = planReleaseChange(
      manifest({ replicas: 4, strategy: 'OnDelete' }),
      manifest({ replicas: 4, image: 'room:2', strategy: 'OnDelete' }),
      [],
      live,
    );
    assert.equal(p.updateStrategy, 'OnDelete');
    assert.deepEqual(p.restartPods, [`${W}-0`, `${W}-2`]);
    assert.deepEqual(p.restartInUse, []);
    assert.deepEqual(p.keepInUse, [`${W}-3`, `${W}-1`]);
    assert.deepEqual(disruptions(p), ['replaces 2 room(s) on the new pod template']);
    // --delete-in-use: every room is replaced, and those in use are named.
    const all = planReleaseChange(
      manifest({ replicas: 4, strategy: 'OnDelete' }),
      manifest({ replicas: 4, image: 'room:2', strategy: 'OnDelete' }),
      [],
      live,
      { deleteInUse: true },
    );
    assert.deepEqual(all.restartPods, [`${W}-0`, `${W}-1`, `${W}-2`, `${W}-3`]);
    assert.deepEqual(all.restartInUse, [`${W}-3`, `${W}-1`]);
    assert.deepEqual(all.keepInUse, []);
  });

  it('planned against the live StatefulSet: a scale over a failed baseline whose template never reached the cluster replaces the Free rooms, and says so', () => {
    // The newest record (failed) and the change render the same template; the live one is older.
    const same = planReleaseChange(
      manifest({ replicas: 2, image: 'room:2', strategy: 'OnDelete' }),
      manifest({ replicas: 3, image: 'room:2', strategy: 'OnDelete' }),
      [],
      pods(2),
    );
    assert.deepEqual(same.restartPods, [], 'by the manifests alone: nothing');
    const live = planReleaseChange(
      manifest({ replicas: 2, image: 'room:2', strategy: 'OnDelete' }),
      manifest({ replicas: 3, image: 'room:2', strategy: 'OnDelete' }),
      [],
      pods(2),
      { liveTemplateChanged: true },
    );
    assert.deepEqual(live.restartPods, [`${W}-0`, `${W}-1`]);
    assert.deepEqual(disruptions(live), ['replaces 2 room(s) on the new pod template']);
    assert.equal(live.noop, false);
  });

  it('back to RollingUpdate over rooms in use an OnDelete rollout left on their build: the controller would restart them, so the plan says so', () => {
    const live = pods(3).map((p, i) => ({
      ...p,
      revision: i === 1 ? 'old' : 'new',
      mark: { allocated: i === 1, draining: false },
    }));
    const p = planReleaseChange(
      manifest({ replicas: 3, strategy: 'OnDelete' }),
      manifest({ replicas: 3 }),
      [],
      live,
      { liveTemplateChanged: false, live: { updateRevision: 'new', strategy: 'OnDelete' } },
    );
    assert.deepEqual(p.restartPods, [`${W}-1`]);
    assert.deepEqual(p.restartInUse, [`${W}-1`], 'refused without --delete-in-use');
    // Every room on the update revision: nothing to restart.
    const fresh = live.map((x) => ({ ...x, revision: 'new' }));
    assert.deepEqual(
      planReleaseChange(
        manifest({ replicas: 3, strategy: 'OnDelete' }),
        manifest({ replicas: 3 }),
        [],
        fresh,
        {
          live: { updateRevision: 'new', strategy: 'OnDelete' },
        },
      ).restartPods,
      [],
    );
  });

  it('the live template, when the server was asked, decides over the release record (a failed record that never reached the cluster)', () => {
    const p = planReleaseChange(
      manifest({ replicas: 2, image: 'room:2', strategy: 'OnDelete' }),
      manifest({ replicas: 2, image: 'room:1', strategy: 'OnDelete' }),
      [],
      pods(2),
      { liveTemplateChanged: false },
    );
    assert.deepEqual(p.restartPods, []);
  });

  describe('a live strategy set outside Helm (kubectl patch to RollingUpdate) and a change that renders OnDelete', () => {
    // Measured on the local cluster: helm (3: its three-way patch; 4: server-side apply with
    // --force-conflicts) writes OnDelete in the same write as the new template, so the
    // controller rolls nothing: the plan is the rendered strategy's, and says the live one goes.
    const inUse = () => pods(3).map((p, i) => ({ ...p, mark: { allocated: i === 0, draining: false } }));
    const plan = (live: { strategy?: string }, image = 'room:2') =>
      planReleaseChange(
        manifest({ replicas: 3, strategy: 'OnDelete' }),
        manifest({ replicas: 3, image, strategy: 'OnDelete' }),
        [],
        inUse(),
        { liveTemplateChanged: image !== 'room:1', live: { updateRevision: 'r1', ...live } },
      );
    it('a new image: the Free rooms replaced by the rollout, the room in use kept, nothing refused; the strategy named', () => {
      const p = plan({ strategy: 'RollingUpdate' });
      assert.deepEqual(
        [p.updateStrategy, p.restartPods, p.restartInUse, p.keepInUse],
        ['OnDelete', [`${W}-1`, `${W}-2`], [], [`${W}-0`]],
      );
      assert.deepEqual(p.strategyChange, { from: 'RollingUpdate', to: 'OnDelete' });
      const text = (q: typeof p) =>
        formatChange({
          release: 'rooms',
          cluster: 'c',
          exists: true,
          plan: q,
          disruptions: [],
          budget: {
            delta: { nodePorts: 0, clusterIPs: 0, podSlots: 0 },
            clusterIPs: { unknown: 'not read' },
          },
        });
      assert.match(
        text(p),
        /updateStrategy: RollingUpdate \(live\) -> OnDelete, in the same write as the pod template: the controller restarts no room/,
      );
      assert.doesNotMatch(text(plan({ strategy: 'OnDelete' })), /updateStrategy/);
    });
    it('the same strategy live, or none known: no strategy change', () => {
      assert.equal(plan({ strategy: 'OnDelete' }).strategyChange, undefined);
      assert.equal(plan({}).strategyChange, undefined);
    });
    it('the same template: no room restarts, yet the plan is no no-op (helm takes the strategy back)', () => {
      const p = plan({ strategy: 'RollingUpdate' }, 'room:1');
      assert.deepEqual([p.restartPods, p.keepInUse, p.noop], [[], [], false]);
      assert.deepEqual(p.strategyChange, { from: 'RollingUpdate', to: 'OnDelete' });
      assert.equal(plan({ strategy: 'OnDelete' }, 'room:1').noop, true);
    });
    it('the other way (the values set RollingUpdate over a live OnDelete): named too, and every room restarts', () => {
      const p = planReleaseChange(
        manifest({ replicas: 3, strategy: 'OnDelete' }),
        manifest({ replicas: 3, image: 'room:2' }),
        [],
        inUse(),
        { liveTemplateChanged: true, live: { updateRevision: 'r1', strategy: 'OnDelete' } },
      );
      assert.deepEqual(p.strategyChange, { from: 'OnDelete', to: 'RollingUpdate' });
      assert.deepEqual(p.restartInUse, [`${W}-0`]);
    });
  });

  it('moving a release from RollingUpdate to OnDelete alone replaces no room: the template is the same', () => {
    const live = pods(2).map((p) => ({ ...p, mark: { allocated: true, draining: false } }));
    const p = planReleaseChange(
      manifest({ replicas: 2 }),
      manifest({ replicas: 2, strategy: 'OnDelete' }),
      [{ path: 'room.updateStrategy.type', from: 'RollingUpdate', to: 'OnDelete' }],
      live,
    );
    assert.deepEqual([p.restartPods, p.restartInUse, p.keepInUse], [[], [], []]);
    assert.deepEqual(disruptions(p), []);
  });

  it('expose.count lowered below a room in use: its Service is named, a reason to ask with --delete-in-use; the ordinal just below the count is not', () => {
    const live = pods(4).map((p, i) =>
      i === 2 || i === 1 ? { ...p, mark: { allocated: true, draining: false } } : p,
    );
    // count 4 -> 2: Services 2 and 3 go; room 2 is in use, room 3 is Free, room 1 (kept) is in use.
    const p = planReleaseChange(manifest({ replicas: 4 }), manifest({ replicas: 4, count: 2 }), [], live);
    assert.deepEqual(p.removeServices, [`${W}-2`, `${W}-3`]);
    assert.deepEqual(p.removeServicesInUse, [`${W}-2`]);
    assert.deepEqual(disruptions(p), []);
    assert.deepEqual(disruptions(p, true), [`removes the Service of 1 room(s) in use (Allocated): ${W}-2`]);
    assert.match(
      formatChange({
        release: 'rooms',
        cluster: 'c',
        exists: true,
        plan: p,
        disruptions: [],
        budget: { delta: { nodePorts: 0, clusterIPs: 0, podSlots: 0 }, clusterIPs: { unknown: 'not read' } },
      }),
      new RegExp(
        `Services removed: ${W}-2, ${W}-3; of rooms in use \\(their matches lose their address\\): ${W}-2`,
      ),
    );
    // count 4 -> 3: only Service 3 goes, of a Free room.
    const q = planReleaseChange(manifest({ replicas: 4 }), manifest({ replicas: 4, count: 3 }), [], live);
    assert.deepEqual([q.removeServices, q.removeServicesInUse], [[`${W}-3`], []]);
  });

  it("a room in use removed with its Service (replicas and count lowered together) is the drain's, not a Service in use", () => {
    const live = pods(4).map((p, i) => (i === 3 ? { ...p, mark: { allocated: true, draining: false } } : p));
    const p = planReleaseChange(manifest({ replicas: 4 }), manifest({ replicas: 3 }), [], live);
    assert.deepEqual([p.removeInUse, p.removeServices, p.removeServicesInUse], [[`${W}-3`], [`${W}-3`], []]);
    // A Terminating pod is no room in use to keep.
    const gone = pods(4).map((x, i) =>
      i === 2 ? { ...x, terminating: true, mark: { allocated: true, draining: false } } : x,
    );
    assert.deepEqual(
      planReleaseChange(manifest({ replicas: 4 }), manifest({ replicas: 4, count: 2 }), [], gone)
        .removeServicesInUse,
      [],
    );
  });

  it('5 -> 2 replicas over rooms in use: named in the plan; a reason to ask only when they are to be removed anyway', () => {
    const live = pods(5).map((p, i) =>
      i === 3 || i === 1 ? { ...p, mark: { allocated: true, draining: false } } : p,
    );
    const p = planReleaseChange(manifest({ replicas: 5 }), manifest({ replicas: 2 }), [], live);
    assert.deepEqual(p.removeInUse, [`${W}-3`]);
    assert.deepEqual(disruptions(p), ['removes 3 Ready pod(s)']);
    assert.deepEqual(disruptions(p, true), [
      'removes 3 Ready pod(s)',
      `removes 1 room(s) in use (Allocated): ${W}-3`,
    ]);
  });

  it('a new image restarts every pod; a new base moves every nodePort; both need a yes', () => {
    const p = planReleaseChange(
      manifest({ replicas: 2 }),
      manifest({ replicas: 2, image: 'room:2', base: 30880 + 100 }),
      [{ path: 'room.image.tag', from: '1', to: '2' }],
      pods(2),
    );
    assert.deepEqual(p.restartPods, [`${W}-1`, `${W}-0`]);
    assert.deepEqual(p.movedNodePorts, [
      { service: `${W}-0`, from: [30880], to: [30980] },
      { service: `${W}-1`, from: [30881], to: [30981] },
    ]);
    assert.deepEqual(disruptions(p), ['restarts 2 pod(s)', 'moves the nodePort of 2 Service(s)']);
  });

  it('scaling up adds pods and Services without disruption; a Redis change restarts Redis', () => {
    const p = planReleaseChange(
      manifest({ replicas: 2 }),
      manifest({ replicas: 4, redisTag: '8' }),
      [],
      pods(2),
    );
    assert.deepEqual(p.addServices, [`${W}-2`, `${W}-3`]);
    assert.deepEqual(p.removePods, []);
    assert.deepEqual(disruptions(p), [`restarts ${W}-redis`]);
  });

  it('a first install: everything is added, nothing is a no-op', () => {
    const p = planReleaseChange(undefined, manifest({ replicas: 2 }), [], []);
    assert.equal(p.noop, false);
    assert.deepEqual(p.addServices, [`${W}-0`, `${W}-1`]);
    assert.deepEqual(disruptions(p), []);
  });
});

const svc = (name: string, namespace: string, nodePort: number, release?: string): ServiceView => ({
  name,
  namespace,
  type: 'NodePort',
  ports: [{ port: 80, nodePort, protocol: 'TCP' }],
  ingress: [],
  release,
});

describe('nodePortProblems', () => {
  it('names the holder of each taken port and the first free block of the right size', () => {
    const all = [
      svc('first-0', 'game', 30880, 'first'),
      svc('first-1', 'game', 30881, 'first'),
      svc('x', 'arcade', 30882),
    ];
    const problems = nodePortProblems(manifest({ replicas: 3 }), all, 'second', 'game');
    assert.deepEqual(problems, [
      `nodePort 30880 (for ${W}-0) is taken by Service game/first-0`,
      `nodePort 30881 (for ${W}-1) is taken by Service game/first-1`,
      `nodePort 30882 (for ${W}-2) is taken by Service arcade/x`,
      'the first free block of 3 nodePorts starts at 30000: add --node-port-base 30000 (or --set expose.nodePortBase=30000)',
    ]);
  });

  it("another LoadBalancer's health-check nodePort is taken too: the API server would refuse it", () => {
    const lb = { ...svc('lb', 'arcade', 31000), healthCheckNodePort: 30881 };
    assert.deepEqual(nodePortProblems(manifest({ replicas: 2 }), [lb], 'rooms', 'game'), [
      `nodePort 30881 (for ${W}-1) is taken by Service arcade/lb`,
      'the first free block of 2 nodePorts starts at 30000: add --node-port-base 30000 (or --set expose.nodePortBase=30000)',
    ]);
  });

  it("the release's own Services do not count: re-applying them is no collision", () => {
    const all = [svc(`${W}-0`, 'game', 30880, 'rooms'), svc(`${W}-1`, 'game', 30881, 'rooms')];
    assert.deepEqual(nodePortProblems(manifest({ replicas: 2 }), all, 'rooms', 'game'), []);
  });

  it('freeNodePortBlock skips taken ports, and says when no block is left', () => {
    assert.equal(freeNodePortBlock(3, new Set([30000, 30002])), 30003);
    assert.equal(freeNodePortBlock(2, new Set([1, 3]), { first: 1, last: 4 }), undefined);
  });

  it('ports Kubernetes assigns must fit in what is left of the range', () => {
    const taken = Array.from({ length: 2767 }, (_, i) => svc(`s${i}`, 'other', 30000 + i));
    const problems = nodePortProblems(manifest({ replicas: 2, base: null }), taken, 'rooms', 'game');
    assert.deepEqual(problems, ['2 Service(s) need a nodePort assigned, and only 1 are free in 30000-32767']);
  });
});

describe('capacityProblems', () => {
  const nodes = [
    { name: 'a', ready: true, addresses: [], allocatablePods: 10 },
    { name: 'b', ready: true, addresses: [], allocatablePods: 10, unschedulable: true },
    { name: 'c', ready: false, addresses: [], allocatablePods: 10 },
    { name: 'd', ready: true, addresses: [], allocatablePods: 10 },
  ];
  const slots = podSlotBudget(
    nodes,
    new Map([
      ['a', 9],
      ['d', 7],
    ]),
  );

  it('new pods must fit in the free slots of Ready, schedulable nodes; the refusal says which nodes were left out', () => {
    assert.deepEqual(capacityProblems(4, 4, false, slots), []);
    assert.deepEqual(capacityProblems(6, 6, false, slots), [
      '6 new pod(s) need a slot, and the 2 node(s) that can take rooms have 4 free (allocatable pods minus pods bound) (left out: 1 cordoned; 1 not Ready): 2 would stay Pending',
    ]);
  });

  it('onePerNode: no more replicas than nodes that can take rooms', () => {
    assert.match(
      capacityProblems(0, 3, true, slots).join('\n'),
      /2 node\(s\) can take rooms \(left out: 1 cordoned; 1 not Ready\): 3 replicas cannot all be scheduled/,
    );
  });

  it("the rooms' placement counts: a tainted node or one without the selected label offers no slot", () => {
    const placed = podSlotBudget(
      [
        { name: 'a', ready: true, addresses: [], allocatablePods: 10, labels: { pool: 'game' } },
        {
          name: 'b',
          ready: true,
          addresses: [],
          allocatablePods: 10,
          labels: { pool: 'game' },
          taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }],
        },
        { name: 'c', ready: true, addresses: [], allocatablePods: 10, labels: { pool: 'web' } },
      ],
      new Map(),
      { nodeSelector: { pool: 'game' } },
    );
    assert.equal(placed.free, 10);
    assert.deepEqual(capacityProblems(11, 11, false, placed), [
      '11 new pod(s) need a slot, and the 1 node(s) that can take rooms have 10 free (allocatable pods minus pods bound) (left out: 1 tainted dedicated=db:NoSchedule; 1 no label pool=game (nodeSelector)): 1 would stay Pending',
    ]);
  });

  it('a node that does not report allocatable pods makes the slot check unknowable: no refusal', () => {
    assert.deepEqual(
      capacityProblems(
        100,
        100,
        false,
        podSlotBudget([{ name: 'x', ready: true, addresses: [] }], new Map()),
      ),
      [],
    );
  });
});

describe('chartMadeClaims', () => {
  const claim = (name: string, labels: Record<string, string> = {}) => ({ name, labels });
  it('by name from the manifest: volumeClaimTemplates per ordinal and the listed PVCs only', () => {
    assert.deepEqual(
      chartMadeClaims(
        [
          claim(`data-${W}-0`),
          claim(`data-${W}-12`),
          claim(`${W}-redis`),
          claim('my-existing-claim'),
          claim(`data-${W}-01`),
          claim(`other-${W}-0`),
        ],
        manifest({ replicas: 1 }),
      ),
      [`data-${W}-0`, `data-${W}-12`, `${W}-redis`],
    );
  });
});

describe('chartMadeClaims once the release manifest is gone: by the chart’s labels only', () => {
  const claim = (name: string, labels: Record<string, string> = {}) => ({ name, labels });
  const ours = (component: string) => ({
    'app.kubernetes.io/name': 'expose-pods',
    'app.kubernetes.io/component': component,
  });
  // Each row: a claim, and whether uninstall --delete-data may delete it.
  const cases: [string, ReturnType<typeof claim>, boolean][] = [
    ['a room claim of the chart, with an ordinal', claim(`data-${W}-3`, ours('room')), true],
    ['the chart’s Redis claim', claim(`${W}-redis-data`, ours('redis')), true],
    ['a room claim without an ordinal at the end', claim(`data-${W}-3x`, ours('room')), false],
    ['an ordinal not at the end', claim(`data-${W}-3-backup`, ours('room')), false],
    ['a leading zero is no ordinal', claim(`data-${W}-03`, ours('room')), false],
    [
      'another chart’s claim, named like ours',
      claim(`data-${W}-3`, { ...ours('room'), 'app.kubernetes.io/name': 'other' }),
      false,
    ],
    [
      'only the instance label (Argo CD puts it on everything)',
      claim(`data-${W}-3`, { 'app.kubernetes.io/instance': 'rooms' }),
      false,
    ],
    ['the chart’s name, another component', claim(`data-${W}-3`, ours('test')), false],
    [
      'the chart’s name and no component',
      claim(`data-${W}-3`, { 'app.kubernetes.io/name': 'expose-pods' }),
      false,
    ],
  ];
  for (const [name, c, deleted] of cases)
    it(`${deleted ? 'deletes' : 'keeps'}: ${name}`, () => {
      assert.deepEqual(chartMadeClaims([c], undefined), deleted ? [c.name] : []);
    });
});

describe('capacityProblems at the exact fit', () => {
  const slots = podSlotBudget(
    [
      { name: 'a', ready: true, addresses: [], allocatablePods: 3 },
      { name: 'b', ready: true, addresses: [], allocatablePods: 3 },
    ],
    new Map([['a', 1]]),
  );
  it('as many new pods as free slots fit; one more does not', () => {
    assert.equal(slots.free, 5);
    assert.deepEqual(capacityProblems(5, 5, false, slots), []);
    assert.equal(capacityProblems(6, 6, false, slots).length, 1);
  });
  it('onePerNode: as many replicas as nodes fit; one more does not', () => {
    assert.deepEqual(capacityProblems(0, 2, true, slots), []);
    assert.match(capacityProblems(0, 3, true, slots)[0] ?? '', /3 replicas cannot all be scheduled/);
  });
});

describe('redactSecrets', () => {
  it('replaces Secret values, keeps keys, comments and other objects', () => {
    const text = [
      '---',
      '# Source: expose-pods/templates/redis-secret.yaml',
      'apiVersion: v1',
      'kind: Secret',
      'metadata:',
      '  name: s',
      'data:',
      '  redis-password: "c2VjcmV0"',
      '---',
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      '  name: c',
      'data:',
      '  redis.conf: port 6379',
      '',
    ].join('\n');
    const out = redactSecrets(text);
    assert.doesNotMatch(out, /c2VjcmV0/);
    assert.match(out, /^ {2}redis-password: "<redacted>"$/m);
    assert.match(out, /^# Source: expose-pods\/templates\/redis-secret\.yaml$/m);
    assert.match(out, /^ {2}redis\.conf: port 6379$/m);
    assert.equal(redactSecrets('kind: ConfigMap\n'), 'kind: ConfigMap\n');
  });
});

describe('secret values in plans (redactValueChanges)', () => {
  it('which paths are secrets: by name anywhere in the path, or marked writeOnly by the schema', () => {
    const secret = [
      'redis.auth.password',
      'redis.auth.PASSWORD',
      'x.passwd',
      'x.passphrase',
      'x.token',
      'x.githubToken',
      'x.clientSecret',
      'x.secret.value',
      'x.credentials',
      'x.apiKey',
      'x.api_key',
      'x.privateKey',
    ];
    const shown = [
      'redis.auth.existingSecret',
      'redis.auth.existingSecretPasswordKey',
      'room.imagePullSecrets',
      'tls.secretName',
      'x.secretRef',
      'room.replicas',
      'room.image.tag',
      'expose.nodePortBase',
      'x.key',
      'x.passive',
    ];
    for (const p of secret) assert.equal(isSecretPath(p), true, p);
    for (const p of shown) assert.equal(isSecretPath(p), false, p);
    assert.equal(isSecretPath('room.image.tag', new Set(['room.image.tag'])), true, 'marked by the schema');
  });

  it("the schema's writeOnly paths, nested; the chart marks redis.auth.password", () => {
    const schema = {
      properties: {
        a: { type: 'string', writeOnly: true },
        b: { properties: { c: { writeOnly: true }, d: { writeOnly: false }, e: { type: 'string' } } },
      },
    };
    assert.deepEqual([...writeOnlyPaths(schema)].sort(), ['a', 'b.c']);
    assert.deepEqual([...writeOnlyPaths(null)], []);
    const chart = JSON.parse(readFileSync(path.join(CHART, 'values.schema.json'), 'utf8'));
    assert.ok(writeOnlyPaths(chart).has('redis.auth.password'));
  });

  it('a changed password reads <redacted> on both sides, in the plan text and in -o json; other values as they are', () => {
    const changes = redactValueChanges(
      diffValues(
        { redis: { auth: { password: 'S3cretPW' } }, room: { replicas: 2 }, app: { token: 'T0k' } },
        {
          redis: { auth: { password: 'N3wPW', existingSecret: '' } },
          room: { replicas: 3 },
          app: { note: 'x' },
        },
      ),
      new Set(),
    );
    assert.deepEqual(changes, [
      { path: 'app.note', to: 'x' },
      { path: 'app.token', from: '<redacted>' },
      { path: 'redis.auth.existingSecret', to: '' },
      { path: 'redis.auth.password', from: '<redacted>', to: '<redacted>' },
      { path: 'room.replicas', from: 2, to: 3 },
    ]);
    const plan = planReleaseChange(manifest({ replicas: 2 }), manifest({ replicas: 3 }), changes, pods(2));
    const budget = {
      delta: { nodePorts: 0, clusterIPs: 0, podSlots: 0 },
      clusterIPs: { unknown: 'not read' },
    };
    const text = formatChange({
      release: 'rooms',
      cluster: 'c',
      exists: true,
      plan,
      disruptions: [],
      budget,
    });
    assert.doesNotMatch(text + JSON.stringify(plan), /S3cretPW|N3wPW|T0k/);
    assert.match(text, /^ {4}redis\.auth\.password: <redacted> -> <redacted>$/m);
    // An empty or unset secret reveals nothing, and shows as it is.
    assert.deepEqual(redactValueChanges([{ path: 'redis.auth.password', from: '', to: 'pw' }]), [
      { path: 'redis.auth.password', from: '', to: '<redacted>' },
    ]);
  });

  it('arrays printed whole (room.env, room.args) show no secret: env values by their name, flag values, in the plan text and in -o json', () => {
    const changes = redactValueChanges(
      diffValues(
        {},
        {
          room: {
            env: [
              { name: 'DB_PASSWORD', value: 'hunter2' },
              { name: 'LOG_LEVEL', value: 'debug' },
            ],
            args: ['--api-key=K3y', '--token', 'T0k', '--port', '7777'],
          },
        },
      ),
    );
    assert.deepEqual(changes, [
      {
        path: 'room.args',
        to: ['--api-key=<redacted>', '--token', '<redacted>', '--port', '7777'],
      },
      {
        path: 'room.env',
        to: [
          { name: 'DB_PASSWORD', value: '<redacted>' },
          { name: 'LOG_LEVEL', value: 'debug' },
        ],
      },
    ]);
    const plan = planReleaseChange(manifest({ replicas: 2 }), manifest({ replicas: 2 }), changes, pods(2));
    const text = formatChange({
      release: 'rooms',
      cluster: 'c',
      exists: true,
      plan,
      disruptions: [],
      budget: { delta: { nodePorts: 0, clusterIPs: 0, podSlots: 0 }, clusterIPs: { unknown: 'not read' } },
    });
    assert.doesNotMatch(text + JSON.stringify(plan), /hunter2|K3y|T0k/);
    assert.match(text, /^ {4}room\.env: \(unset\) -> \[\{"name":"DB_PASSWORD","value":"<redacted>"\},/m);
  });
});

describe('orderedStart: how long a large step takes under OrderedReady', () => {
  const ready = (name: string, readySeconds?: number): PodView => ({
    name,
    phase: 'Running',
    ready: true,
    terminating: false,
    ...(readySeconds !== undefined && { readySeconds }),
  });

  it(`from ${ORDERED_START_NOTE_PODS} new pods, with the median start time of the release's own pods; nothing under Parallel`, () => {
    assert.equal(orderedStart('OrderedReady', ORDERED_START_NOTE_PODS - 1, []), undefined);
    assert.equal(orderedStart('Parallel', 1000, []), undefined);
    assert.deepEqual(orderedStart('OrderedReady', 1000, []), {
      pods: 1000,
      perPodSeconds: undefined,
      floorSeconds: 230,
    });
    const o = orderedStart('OrderedReady', 1000, [ready('a', 2), ready('b', 10), ready('c', 12), ready('d')]);
    assert.deepEqual(o, { pods: 1000, perPodSeconds: 10, floorSeconds: 230, estimateSeconds: 10230 });
    assert.ok(o);
    assert.equal(
      formatOrderedStart(o),
      "room.podManagementPolicy is OrderedReady: the 1000 new pods start one at a time, each after the one before is Ready: about 2h51m at the 10s this release's pods took to be Ready. Rooms that need no order start together with Parallel, which is chosen at the first install (a StatefulSet cannot change it).",
    );
    assert.match(
      formatOrderedStart({ pods: 1000, floorSeconds: 230 }),
      /: at least 3m50s, plus each pod's own start time\./,
    );
    assert.deepEqual([approxDuration(45), approxDuration(120), approxDuration(230)], ['45s', '2m', '3m50s']);
  });

  it('planReleaseChange carries it for the pods the change adds', () => {
    const sts = (replicas: number, podManagementPolicy?: string): ManifestObject => ({
      kind: 'StatefulSet',
      metadata: { name: W },
      spec: { replicas, template: {}, ...(podManagementPolicy && { podManagementPolicy }) },
    });
    const pods = [0, 1].map((i) => ready(`${W}-${i}`, 1));
    const big = planReleaseChange(manifestView([sts(2)]), manifestView([sts(102)]), [], pods);
    assert.equal(big.orderedStart?.pods, 100);
    assert.equal(big.orderedStart.estimateSeconds, 123);
    const parallel = planReleaseChange(
      manifestView([sts(2, 'Parallel')]),
      manifestView([sts(102, 'Parallel')]),
      [],
      pods,
    );
    assert.equal(parallel.orderedStart, undefined);
  });
});

describe('the decisions behind a confirmation or a deletion, both sides (mutation testing)', () => {
  const at = (i: number, over: Partial<PodView> = {}): PodView => ({ ...pods(i + 1)[i]!, ...over });

  it('5 -> 2: a Terminating pod is not removed again, a pod that is not Ready is removed but not counted Ready, unmarked pods are not in use', () => {
    const live = [at(0), at(1), at(2), at(3, { ready: false }), at(4, { terminating: true })];
    const p = planReleaseChange(manifest({ replicas: 5 }), manifest({ replicas: 2 }), [], live);
    assert.deepEqual(p.removePods, [`${W}-3`, `${W}-2`]);
    assert.deepEqual(p.removeReadyPods, [`${W}-2`]);
    assert.deepEqual(p.removeInUse, []);
    assert.deepEqual(disruptions(p, true), ['removes 1 Ready pod(s)']);
  });

  it('a new template with fewer replicas restarts only the pods kept (below the new count), highest first', () => {
    const p = planReleaseChange(
      manifest({ replicas: 5 }),
      manifest({ replicas: 3, image: 'room:2' }),
      [],
      pods(5),
    );
    assert.deepEqual(p.restartPods, [`${W}-2`, `${W}-1`, `${W}-0`]);
    assert.deepEqual(p.restartInUse, []);
    assert.deepEqual(p.removePods, [`${W}-4`, `${W}-3`]);
  });

  it('a first install removes and moves nothing; a manifest without a StatefulSet plans no pods', () => {
    const first = planReleaseChange(undefined, manifest({ replicas: 2 }), [], []);
    assert.deepEqual(first.removeServices, []);
    assert.deepEqual(first.restartDeployments, []);
    assert.deepEqual(first.movedNodePorts, []);
    const redisOnly = manifestView([{ kind: 'Deployment', metadata: { name: 'r' }, spec: { template: {} } }]);
    const p = planReleaseChange(redisOnly, redisOnly, [], pods(2));
    assert.deepEqual([p.removePods, p.restartPods, p.orderedStart], [[], [], undefined]);
    assert.equal(p.noop, true);
    const empty = planReleaseChange(undefined, manifestView([]), [], []);
    assert.equal(empty.noop, false, 'a first install is never "nothing to change"');
  });

  it('any one difference alone makes a change that is not a no-op', () => {
    const same = manifest({ replicas: 2 });
    const cases: [string, ReturnType<typeof planReleaseChange>][] = [
      ['a value', planReleaseChange(same, same, [{ path: 'x', from: 1, to: 2 }], pods(2))],
      [
        'the replicas (no pod to remove: expose.count pinned)',
        planReleaseChange(
          manifest({ replicas: 5, count: 5 }),
          manifest({ replicas: 3, count: 5 }),
          [],
          pods(3),
        ),
      ],
      ['a pod the StatefulSet removes', planReleaseChange(same, same, [], pods(4))],
      ['a new template', planReleaseChange(same, manifest({ replicas: 2, image: 'room:2' }), [], pods(2))],
      ['Redis restarts', planReleaseChange(same, manifest({ replicas: 2, redisTag: '8' }), [], pods(2))],
      ['a Service added', planReleaseChange(same, manifest({ replicas: 2, count: 3 }), [], pods(2))],
      ['a Service removed', planReleaseChange(manifest({ replicas: 2, count: 3 }), same, [], pods(2))],
      ['a nodePort moved', planReleaseChange(same, manifest({ replicas: 2, base: 31000 }), [], pods(2))],
    ];
    for (const [what, p] of cases) assert.equal(p.noop, false, what);
    assert.equal(planReleaseChange(same, same, [], pods(2)).noop, true);
  });

  it('a Service whose nodePort Kubernetes assigned does not "move" when the chart renders none', () => {
    const p = planReleaseChange(
      manifest({ replicas: 2, base: null }),
      manifest({ replicas: 2, base: null }),
      [],
      pods(2),
    );
    assert.deepEqual(p.movedNodePorts, []);
  });

  it('freeNodePortBlock: a block that ends on the last port of the range counts', () => {
    assert.equal(freeNodePortBlock(2, new Set([1, 2, 3]), { first: 1, last: 5 }), 4);
    assert.equal(freeNodePortBlock(3, new Set([1, 2, 3]), { first: 1, last: 5 }), undefined);
  });

  it('nodePortProblems: the same release name in another namespace is not ours', () => {
    const problems = nodePortProblems(
      manifest({ replicas: 1 }),
      [svc(`${W}-0`, 'elsewhere', 30880, 'rooms')],
      'rooms',
      'game',
    );
    assert.equal(problems[0], `nodePort 30880 (for ${W}-0) is taken by Service elsewhere/${W}-0`);
    assert.deepEqual(
      nodePortProblems(manifest({ replicas: 1 }), [svc(`${W}-0`, 'game', 30880, 'rooms')], 'rooms', 'game'),
      [],
    );
  });

  it('nodePortProblems: no free block left at all says so, and suggests letting Kubernetes assign', () => {
    // Every port taken but 30001 and 30003: no two free in a row.
    const all: ServiceView[] = [];
    for (let p = 30000; p <= 32767; p++) if (p !== 30001 && p !== 30003) all.push(svc(`x-${p}`, 'other', p));
    const problems = nodePortProblems(manifest({ replicas: 2, base: 30000 }), all, 'rooms', 'game');
    assert.deepEqual(problems.slice(-1), [
      'no block of 2 free nodePorts is left in 30000-32767; set expose.nodePortBase=null to let Kubernetes assign them',
    ]);
  });

  it('nodePortProblems: Services that need a nodePort assigned fit exactly the free ports, one more does not', () => {
    // Two NodePort Services without a fixed port, one ClusterIP, one with a fixed port (32767).
    const after = manifestView([
      { kind: 'Service', metadata: { name: 'auto-0' }, spec: { type: 'NodePort', ports: [{ port: 1 }] } },
      { kind: 'Service', metadata: { name: 'auto-1' }, spec: { type: 'LoadBalancer', ports: [{ port: 1 }] } },
      { kind: 'Service', metadata: { name: 'inside' }, spec: { type: 'ClusterIP', ports: [{ port: 1 }] } },
      {
        kind: 'Service',
        metadata: { name: 'fixed' },
        spec: { type: 'NodePort', ports: [{ port: 1, nodePort: 32767 }] },
      },
    ]);
    const held = (last: number) => {
      const all: ServiceView[] = [];
      for (let p = 30000; p <= last; p++) all.push(svc(`x-${p}`, 'other', p));
      return all;
    };
    // 32765 and 32766 are free: exactly the two that need one.
    assert.deepEqual(nodePortProblems(after, held(32764), 'rooms', 'game'), []);
    assert.deepEqual(nodePortProblems(after, held(32765), 'rooms', 'game'), [
      '2 Service(s) need a nodePort assigned, and only 1 are free in 30000-32767',
    ]);
  });

  it('chartMadeClaims: with a manifest but no StatefulSet in it, only the claims it lists', () => {
    const view = manifestView([{ kind: 'PersistentVolumeClaim', metadata: { name: `${W}-redis` } }]);
    assert.deepEqual(
      chartMadeClaims(
        [
          { name: `${W}-redis`, labels: {} },
          { name: `data-${W}-0`, labels: {} },
        ],
        view,
      ),
      [`${W}-redis`],
    );
  });

  it('chartMadeSecrets: the manifest decides; without it, the chart labels and Helm annotations of this release, all four', () => {
    const ours = {
      name: `${W}-redis`,
      labels: { 'app.kubernetes.io/name': 'expose-pods', 'app.kubernetes.io/component': 'redis' },
      annotations: { 'meta.helm.sh/release-name': 'rooms', 'meta.helm.sh/release-namespace': 'game' },
    };
    const off = (name: string, over: Partial<typeof ours>) => ({ ...ours, name, ...over });
    const secrets = [
      ours,
      off('other-chart', { labels: { ...ours.labels, 'app.kubernetes.io/name': 'x' } }),
      off('other-component', { labels: { ...ours.labels, 'app.kubernetes.io/component': 'room' } }),
      off('other-release', { annotations: { ...ours.annotations, 'meta.helm.sh/release-name': 'x' } }),
      off('other-namespace', { annotations: { ...ours.annotations, 'meta.helm.sh/release-namespace': 'x' } }),
    ];
    assert.deepEqual(chartMadeSecrets(secrets, 'rooms', 'game', undefined), [`${W}-redis`]);
    const view = manifestView([{ kind: 'Secret', metadata: { name: 'other-release' } }]);
    assert.deepEqual(chartMadeSecrets(secrets, 'rooms', 'game', view), ['other-release']);
  });
});

describe("the plan's readings, both sides (mutation testing, second pass)", () => {
  it('manifestView: what each Service takes, by its type, its clusterIP and its policy', () => {
    const v = manifestView([
      { kind: 'Service', metadata: { name: 'plain' }, spec: { ports: [{ port: 1 }] } },
      { kind: 'Service', metadata: { name: 'headless' }, spec: { clusterIP: 'None', ports: [] } },
      { kind: 'Service', metadata: { name: 'alias' }, spec: { type: 'ExternalName' } },
      {
        kind: 'Service',
        metadata: { name: 'lb' },
        spec: {
          type: 'LoadBalancer',
          externalTrafficPolicy: 'Local',
          ports: [
            { port: 1, nodePort: 31000 },
            { port: 2, nodePort: null },
          ],
        },
      },
      {
        kind: 'Service',
        metadata: { name: 'lb-cluster' },
        spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Cluster' },
      },
      {
        kind: 'Service',
        metadata: { name: 'np-local' },
        spec: { type: 'NodePort', externalTrafficPolicy: 'Local' },
      },
      { kind: 'Service', spec: {} },
      { kind: 'Secret', metadata: { name: 's' } },
      { kind: 'PersistentVolumeClaim', metadata: { name: 'c' } },
      { kind: 'ConfigMap', metadata: { name: 'cm' } },
    ]);
    assert.deepEqual(
      v.services.map((s) => [s.name, s.type, s.nodePorts, s.portCount, s.takesClusterIP, s.healthCheck]),
      [
        ['plain', 'ClusterIP', [], 1, true, false],
        ['headless', 'ClusterIP', [], 0, false, false],
        ['alias', 'ExternalName', [], 0, false, false],
        ['lb', 'LoadBalancer', [31000], 2, true, true],
        ['lb-cluster', 'LoadBalancer', [], 0, true, false],
        ['np-local', 'NodePort', [], 0, true, false],
        ['', 'ClusterIP', [], 0, true, false],
      ],
    );
    assert.deepEqual([v.secrets, v.pvcs, v.deployments, v.statefulSet], [['s'], ['c'], [], undefined]);
  });

  it("manifestView: a StatefulSet's claim templates by name (a template without one is skipped), and its defaults", () => {
    const v = manifestView([
      {
        kind: 'StatefulSet',
        metadata: { name: 'web' },
        spec: { volumeClaimTemplates: [{ metadata: { name: 'data' } }, {}] },
      },
    ]);
    assert.deepEqual(v.statefulSet, {
      name: 'web',
      replicas: 1,
      template: undefined,
      claimTemplates: ['data'],
      podManagementPolicy: 'OrderedReady',
      updateStrategy: 'RollingUpdate',
    });
    assert.deepEqual(
      manifestView([{ kind: 'StatefulSet', metadata: { name: 'web' } }]).statefulSet?.claimTemplates,
      [],
    );
    assert.equal(
      manifestView([
        { kind: 'StatefulSet', metadata: { name: 'web' }, spec: { updateStrategy: { type: 'OnDelete' } } },
      ]).statefulSet?.updateStrategy,
      'OnDelete',
    );
  });

  it('diffValues: an empty map is a value; top-level scalars and lists are compared whole', () => {
    assert.deepEqual(diffValues({ a: {} }, { a: { b: 1 } }), [
      { path: 'a', from: {} },
      { path: 'a.b', to: 1 },
    ]);
    assert.deepEqual(diffValues({ l: [1] }, { l: [2] }), [{ path: 'l', from: [1], to: [2] }]);
    assert.deepEqual(diffValues({ n: null }, { n: 0 }), [{ path: 'n', from: null, to: 0 }]);
  });

  it('a manifest whose StatefulSet went away plans nothing for pods, and nothing left over from the start', () => {
    const redisOnly = manifestView([{ kind: 'Deployment', metadata: { name: 'r' }, spec: { template: {} } }]);
    const p = planReleaseChange(manifest({ replicas: 2 }), redisOnly, [], pods(2));
    assert.deepEqual(
      [p.removePods, p.removeReadyPods, p.removeInUse, p.restartPods, p.replicas],
      [[], [], [], [], undefined],
    );
  });

  it('a Redis restart is named in what needs a yes', () => {
    const p = planReleaseChange(
      manifest({ replicas: 2 }),
      manifest({ replicas: 2, redisTag: '8' }),
      [],
      pods(2),
    );
    assert.deepEqual(disruptions(p), [`restarts ${W}-redis`]);
  });

  it(`orderedStart: a note from exactly ${ORDERED_START_NOTE_PODS} pods, with the median Ready time of the pods that have one`, () => {
    const timed = [9, 1, undefined, 5].map((t, i) => ({ ...pods(4)[i]!, readySeconds: t }));
    assert.equal(orderedStart('OrderedReady', ORDERED_START_NOTE_PODS - 1, timed), undefined);
    const o = orderedStart('OrderedReady', ORDERED_START_NOTE_PODS, timed);
    assert.equal(o?.pods, ORDERED_START_NOTE_PODS);
    assert.equal(o.perPodSeconds, 5, 'the median of 1, 5, 9');
  });

  it('budgetDelta: a new Deployment takes a pod slot, one that was there before does not; no StatefulSet, no rooms', () => {
    const redis = (name: string) => ({ kind: 'Deployment', metadata: { name }, spec: { template: {} } });
    const after = manifestView([redis('r'), redis('s')]);
    assert.equal(budgetDelta(undefined, after, 0).podSlots, 2);
    assert.equal(budgetDelta(manifestView([redis('r')]), after, 0).podSlots, 1);
    assert.equal(budgetDelta(after, after, 3).podSlots, -3);
    assert.deepEqual(budgetDelta(undefined, manifestView([]), 0), {
      nodePorts: 0,
      clusterIPs: 0,
      podSlots: 0,
    });
  });

  it('claimOrdinal: a template or StatefulSet name with regex characters matches only itself', () => {
    assert.equal(claimOrdinal('data.v1-web.x-3', ['data.v1'], 'web.x'), 3);
    assert.equal(claimOrdinal('dataXv1-web.x-3', ['data.v1'], 'web.x'), undefined);
    assert.equal(claimOrdinal('data.v1-webYx-3', ['data.v1'], 'web.x'), undefined);
  });

  it('chartMadeSecrets and chartMadeClaims answer sorted by name', () => {
    const view = manifestView([
      { kind: 'Secret', metadata: { name: 'b' } },
      { kind: 'Secret', metadata: { name: 'a' } },
    ]);
    const meta = (name: string) => ({ name, labels: {}, annotations: {} });
    assert.deepEqual(chartMadeSecrets([meta('b'), meta('a')], 'r', 'n', view), ['a', 'b']);
  });
});

describe('disruptions names every Deployment that restarts', () => {
  it('two, comma-separated', () => {
    const d = (name: string, tag: string) => ({
      kind: 'Deployment',
      metadata: { name },
      spec: { template: { tag } },
    });
    const p = planReleaseChange(
      manifestView([d('a', '1'), d('b', '1')]),
      manifestView([d('a', '2'), d('b', '2')]),
      [],
      [],
    );
    assert.deepEqual(disruptions(p), ['restarts a, b']);
  });
});

describe('release-change: what the 2026-12-07 mutation run left undetected', () => {
  /** Pods 0..n-1 on revision `rev(i)`, Allocated where `inUse(i)`, without a mark otherwise. */
  const live = (
    n: number,
    rev: (i: number) => string | undefined,
    inUse: (i: number) => boolean = () => false,
  ) =>
    pods(n).map((p, i) => ({
      ...p,
      revision: rev(i),
      ...(inUse(i) && { mark: { allocated: true, draining: false } }),
    }));

  describe('renameProblem: a rename that deletes rooms is refused (exit 9) unless --delete-in-use', () => {
    const renamed = manifestView([
      { kind: 'StatefulSet', metadata: { name: 'arena' }, spec: { replicas: 2 } },
    ]);
    const rooms = live(
      2,
      () => 'r',
      (i) => i === 1,
    );
    it('refused with the rooms present, those in use counted, and both ways out', () => {
      const e = renameProblem({ name: W }, renamed, rooms, 'rooms', 'game', false);
      assert.ok(e instanceof ExposePodsError);
      assert.equal(e.exitCode, ExitCode.CONFLICT);
      assert.equal(
        e.message,
        `this change renames the StatefulSet ${W} -> arena: helm would delete it and its 2 room(s), 1 of them in use, with no way back for their matches; nothing was changed`,
      );
      assert.equal(
        e.hint,
        'Keep the name (drop fullnameOverride/nameOverride, or set them back), or add --delete-in-use to delete every room with the StatefulSet after a confirmation (kubectl expose-pods install rooms -n game ... --delete-in-use).',
      );
      // None in use, and a Terminating pod is no room any more.
      const free = renameProblem(
        { name: W },
        renamed,
        [...pods(1), { ...pods(2)[1]!, terminating: true }],
        'rooms',
        'game',
        false,
      );
      assert.equal(
        free?.message,
        `this change renames the StatefulSet ${W} -> arena: helm would delete it and its 1 room(s), with no way back for their matches; nothing was changed`,
      );
    });
    it('no refusal: --delete-in-use, the same name, no StatefulSet live or rendered, or no room left', () => {
      assert.equal(renameProblem({ name: W }, renamed, rooms, 'rooms', 'game', true), undefined);
      assert.equal(renameProblem({ name: 'arena' }, renamed, rooms, 'rooms', 'game', false), undefined);
      assert.equal(renameProblem(undefined, renamed, rooms, 'rooms', 'game', false), undefined);
      assert.equal(renameProblem({ name: W }, manifestView([]), rooms, 'rooms', 'game', false), undefined);
      assert.equal(renameProblem({ name: W }, renamed, [], 'rooms', 'game', false), undefined);
      const going = rooms.map((p) => ({ ...p, terminating: true }));
      assert.equal(renameProblem({ name: W }, renamed, going, 'rooms', 'game', false), undefined);
    });
  });

  describe('ownedElsewhere: what Helm refuses to adopt', () => {
    const service = (labels?: Record<string, string>, annotations?: Record<string, string>) => ({
      kind: 'Service',
      name: `${W}-2`,
      namespace: 'game',
      ...(labels && { labels }),
      ...(annotations && { annotations }),
    });
    const helm = { 'app.kubernetes.io/managed-by': 'Helm' };
    const ours = { 'meta.helm.sh/release-name': 'rooms', 'meta.helm.sh/release-namespace': 'game' };
    it("Helm's label and this release's name and namespace: adopted", () => {
      assert.equal(ownedElsewhere(service(helm, ours), 'rooms'), undefined);
    });
    it('any one missing or another release’s: in the way, with its owner', () => {
      const theirs = (owner: string) => ({ kind: 'Service', name: `${W}-2`, namespace: 'game', owner });
      assert.deepEqual(ownedElsewhere(service(), 'rooms'), theirs('not managed by Helm'));
      assert.deepEqual(ownedElsewhere(service(undefined, ours), 'rooms'), theirs('release rooms'));
      assert.deepEqual(
        ownedElsewhere(service({ 'app.kubernetes.io/managed-by': 'kubectl' }, ours), 'rooms'),
        theirs('release rooms'),
      );
      assert.deepEqual(
        ownedElsewhere(service(helm, { ...ours, 'meta.helm.sh/release-name': 'other' }), 'rooms'),
        theirs('release other'),
      );
      assert.deepEqual(
        ownedElsewhere(service(helm, { ...ours, 'meta.helm.sh/release-namespace': 'arena' }), 'rooms'),
        theirs('release rooms'),
      );
      assert.deepEqual(ownedElsewhere(service(helm), 'rooms'), theirs('not managed by Helm'));
    });
  });

  it('createdObjects: by kind and name; the same name of another kind is another object', () => {
    const o = (kind: string | undefined, name?: string): ManifestObject => ({
      ...(kind && { kind }),
      ...(name !== undefined && { metadata: { name } }),
    });
    const before = [o('Service', 'a'), o('Secret', 's')];
    assert.deepEqual(
      createdObjects(before, [o('Service', 'a'), o('Service', 'b'), o('Secret', 's'), o('ConfigMap', 'a')]),
      [o('Service', 'b'), o('ConfigMap', 'a')],
    );
    assert.deepEqual(createdObjects(before, before), []);
    // Without a name or a kind (never rendered so, but read all the same): keyed by what there is.
    assert.deepEqual(createdObjects([o('List')], [o('List'), o(undefined, 'x')]), [o(undefined, 'x')]);
  });

  describe('a template that stays under RollingUpdate: the rooms off the update revision restart', () => {
    const plan = (rooms: PodView[], opts: { replicas?: number; strategy?: string } = {}) =>
      planReleaseChange(
        manifest({ replicas: 3, strategy: opts.strategy }),
        manifest({ replicas: opts.replicas ?? 3, strategy: opts.strategy }),
        [],
        rooms,
        { liveTemplateChanged: false, live: { updateRevision: 'new' } },
      );
    it('only those off it, highest first; of them, those in use; none kept', () => {
      const p = plan(
        live(
          4,
          (i) => (i === 1 ? 'new' : 'old'),
          (i) => i === 2,
        ),
        { replicas: 4 },
      );
      assert.deepEqual(
        [p.updateStrategy, p.restartPods, p.restartInUse, p.keepInUse],
        ['RollingUpdate', [`${W}-3`, `${W}-2`, `${W}-0`], [`${W}-2`], []],
      );
    });
    it('not a room the StatefulSet removes, nor a pod whose revision is unknown', () => {
      const removed = plan(
        live(3, () => 'old'),
        { replicas: 2 },
      );
      assert.deepEqual([removed.restartPods, removed.removePods], [[`${W}-1`, `${W}-0`], [`${W}-2`]]);
      const unknown = plan(live(3, (i) => (i === 0 ? undefined : 'new')));
      assert.deepEqual(unknown.restartPods, []);
    });
    it('every room on it: nothing restarts, and the plan names no strategy', () => {
      const p = plan(live(3, () => 'new'));
      assert.deepEqual([p.updateStrategy, p.restartPods, p.restartInUse], [undefined, [], []]);
      assert.equal(p.noop, true);
    });
    it('under OnDelete the controller restarts nothing by itself: the rollout replaces them later', () => {
      const p = plan(
        live(3, () => 'old'),
        { strategy: 'OnDelete' },
      );
      assert.deepEqual([p.updateStrategy, p.restartPods, p.restartInUse], [undefined, [], []]);
    });
  });

  it('a manifest without a StatefulSet removes no Service of a room in use', () => {
    const redisOnly = manifestView([{ kind: 'Deployment', metadata: { name: 'r' }, spec: { template: {} } }]);
    assert.deepEqual(planReleaseChange(redisOnly, redisOnly, [], pods(2)).removeServicesInUse, []);
  });

  it('budgetDelta: a Deployment there before takes no new slot, alone or among others', () => {
    const deployment = (name: string) => ({ kind: 'Deployment', metadata: { name }, spec: { template: {} } });
    const one = manifestView([deployment('r')]);
    assert.equal(budgetDelta(one, one, 0).podSlots, 0);
    assert.equal(budgetDelta(one, manifestView([deployment('s')]), 0).podSlots, 1);
  });
});
