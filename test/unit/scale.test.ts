import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import nock from 'nock';

import type { PodView, ServiceView } from '../../src/core/model.js';
import { planScale, preflight, scaleDisruptions, type ScaleInput } from '../../src/core/scale.js';
import { budgetChange, nodePortBudget } from '../../src/core/budget.js';
import type { EndpointChange } from '../../src/core/endpoint-changes.js';
import { formatChanges, formatPlan } from '../../src/output/scale.js';
import { ExitCode } from '../../src/errors.js';
import { rollbackArgs, upgradeArgs } from '../../src/helm/args.js';
import { readScaleObjects } from '../../src/kube/reader.js';
import { setStatefulSetReplicas } from '../../src/kube/writes.js';
import { FAKE_SERVER, fakeKube, mockReleaseLists } from '../support/kube.js';
import { endpointRow, ordinals, podService, roomPod } from '../support/fixtures.js';

const W = 'rooms-expose-pods';
const pod = (i: number, ready = true): PodView => roomPod(W, i, { ready });
const svc = (i: number, nodePort = 30880 + i): ServiceView =>
  podService(W, i, { ports: [{ port: 7777, nodePort, protocol: 'TCP' }] });
const n = ordinals;

function input(over: Partial<ScaleInput> & { live?: number } = {}): ScaleInput {
  const live = over.live ?? 2;
  return {
    release: 'rooms',
    namespace: 'game',
    workload: W,
    releaseReplicas: live,
    liveReplicas: live,
    target: 5,
    nodePortBase: 30880,
    pods: n(live).map((i) => pod(i)),
    services: n(live).map((i) => svc(i)),
    pvcs: n(live).map((i) => `data-${W}-${i}`),
    claimTemplates: ['data'],
    ...over,
  };
}

describe('planScale', () => {
  it('the plan shows the budgets the change path worked out, in its own column, with a warning from 80%', () => {
    const p = planScale(input());
    assert.doesNotMatch(formatPlan(p, false), /NodePorts:|ClusterIPs:|Pod slots:/, 'none before the preview');
    p.budget = budgetChange(
      {
        nodePorts: nodePortBudget(
          n(2202).map((i) => ({
            ...svc(0),
            name: `x${i}`,
            ports: [{ port: 80, nodePort: 30000 + i, protocol: 'TCP' }],
          })),
        ),
        clusterIPs: { unknown: 'the API server has no ServiceCIDR objects (they come with Kubernetes 1.33)' },
      },
      { nodePorts: 3, clusterIPs: 3, podSlots: 3 },
    );
    const text = formatPlan(p, false);
    assert.match(
      text,
      /^ {2}NodePorts: {10}2202 -> 2205 of 2768 used in 30000-32767 \(80% -> 80%, every Service in the cluster\) {2}\(warning: nearly full\)$/m,
    );
    assert.match(
      text,
      /^ {2}ClusterIPs: {9}unknown: the API server has no ServiceCIDR objects \(they come with Kubernetes 1\.33\)$/m,
    );
    // Without cluster-wide RBAC the plan says what it could not count, and what would let it (issue 38).
    assert.match(
      text,
      /^ {2}Pod slots: {10}unknown: not allowed to list pods in all namespaces \(rbac --pod-slots grants it\)$/m,
    );
  });

  it('up 2 -> 5: pods and Services 2..4 in order, with their nodePorts; nothing removed', () => {
    const p = planScale(input());
    assert.deepEqual(p.createPods, [`${W}-2`, `${W}-3`, `${W}-4`]);
    assert.deepEqual(
      p.addServices.map((s) => [s.name, s.nodePort]),
      [
        [`${W}-2`, 30882],
        [`${W}-3`, 30883],
        [`${W}-4`, 30884],
      ],
    );
    assert.deepEqual([p.removePods, p.removeServices, p.pvcsLeftBehind], [[], [], []]);
    assert.equal(p.exposeCount, 5);
    assert.equal(p.noop, false);
  });

  it('down 5 -> 1: pods removed from the highest ordinal, Ready ones flagged, Services removed, PVCs left behind', () => {
    const i = input({ live: 5, target: 1 });
    i.pods[3] = pod(3, false);
    const p = planScale(i);
    assert.deepEqual(p.removePods, [`${W}-4`, `${W}-3`, `${W}-2`, `${W}-1`]);
    assert.deepEqual(p.removeReadyPods, [`${W}-4`, `${W}-2`, `${W}-1`]);
    assert.deepEqual(
      p.removeServices.map((s) => [s.name, s.nodePort]),
      [
        [`${W}-1`, 30881],
        [`${W}-2`, 30882],
        [`${W}-3`, 30883],
        [`${W}-4`, 30884],
      ],
    );
    assert.deepEqual(p.pvcsLeftBehind, [`data-${W}-1`, `data-${W}-2`, `data-${W}-3`, `data-${W}-4`]);
  });

  it('the Redis PVC and other claims are never "left behind"', () => {
    const p = planScale(input({ live: 3, target: 1, pvcs: [`data-${W}-2`, `${W}-redis-data`, 'other'] }));
    assert.deepEqual(p.pvcsLeftBehind, [`data-${W}-2`]);
  });

  it("only the StatefulSet's claims by name: a user's claim with the release's label and a look-alike name is kept", () => {
    const user = [`backup-${W}-1`, `data-${W}-01`, `data-${W}-2x`, `data-other-${W}-2`, `xdata-${W}-2`];
    const p = planScale(input({ live: 3, target: 1, pvcs: [...user, `data-${W}-1`, `data-${W}-2`] }));
    assert.deepEqual(p.pvcsLeftBehind, [`data-${W}-1`, `data-${W}-2`]);
    assert.equal(formatPlan(p, true).includes('backup'), false);
    // Every template of the StatefulSet counts; with none, no claim is the StatefulSet's.
    const two = planScale(
      input({ live: 3, target: 2, claimTemplates: ['data', 'logs'], pvcs: [`logs-${W}-2`, `data-${W}-2`] }),
    );
    assert.deepEqual(two.pvcsLeftBehind, [`data-${W}-2`, `logs-${W}-2`]);
    assert.deepEqual(planScale(input({ live: 3, target: 0, claimTemplates: [] })).pvcsLeftBehind, []);
    // The boundary: the target ordinal itself is removed, the one below it is not.
    assert.deepEqual(planScale(input({ live: 3, target: 2 })).pvcsLeftBehind, [`data-${W}-2`]);
  });

  it('drift after kubectl scale: a note, and --sync to the live count adds only the missing Services', () => {
    const i = input({ live: 4, target: 4, releaseReplicas: 2, services: [svc(0), svc(1)] });
    const p = planScale(i);
    assert.deepEqual(p.createPods, []);
    assert.deepEqual(
      p.addServices.map((s) => s.name),
      [`${W}-2`, `${W}-3`],
    );
    assert.match(p.notes.join('\n'), /runs 4 replicas but the release says 2/);
    assert.equal(p.noop, false);
  });

  it('a pinned expose.count does not follow N, and says which ordinals get no Service', () => {
    const p = planScale(input({ pinnedCount: 3 }));
    assert.equal(p.exposeCount, 3);
    assert.deepEqual(
      p.addServices.map((s) => s.name),
      [`${W}-2`],
    );
    assert.match(p.notes.join('\n'), /expose\.count is pinned at 3: ordinals 3\.\.4 get no Service/);
  });

  it('explicit expose.nodePorts, and ports Kubernetes assigns (null)', () => {
    assert.deepEqual(
      planScale(input({ nodePorts: [31000, 31001, 31002, 31003, 31004] })).addServices.map((s) => s.nodePort),
      [31002, 31003, 31004],
    );
    assert.deepEqual(
      planScale(input({ nodePortBase: undefined })).addServices.map((s) => s.nodePort),
      [null, null, null],
    );
  });

  it('the same count everywhere is a no-op', () => {
    assert.equal(planScale(input({ target: 2 })).noop, true);
  });
});

describe('preflight', () => {
  it('passes a plain scale up', () => {
    const i = input();
    assert.deepEqual(preflight(i, planScale(i)), []);
  });

  it('expose.nodePorts too short for the Services', () => {
    const i = input({ nodePorts: [31000, 31001, 31002] });
    assert.match(
      preflight(i, planScale(i)).join('\n'),
      /expose\.nodePorts lists 3 ports, and 5 Services need one each/,
    );
  });
});

describe('helm args for scale', () => {
  const t = { namespace: 'game' };
  it('the description, and --force-conflicts for Helm 4 only', () => {
    const opts = {
      createNamespace: false,
      wait: true,
      timeout: '5m',
      description: 'kubectl-expose-pods scale 2 -> 5',
      forceConflicts: true,
    };
    const h4 = upgradeArgs(4, 'rooms', '/chart', t, ['--set', 'room.replicas=5'], opts);
    assert.deepEqual(h4.slice(-6), [
      '--wait=watcher',
      '--timeout',
      '5m',
      '--description',
      'kubectl-expose-pods scale 2 -> 5',
      '--force-conflicts',
    ]);
    assert.ok(!upgradeArgs(3, 'rooms', '/chart', t, [], opts).includes('--force-conflicts'));
    assert.deepEqual(rollbackArgs('rooms', 7, t), ['rollback', 'rooms', '7', '--namespace', 'game']);
  });
});

describe('setStatefulSetReplicas (nock)', () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());
  const SCALE = '/apis/apps/v1/namespaces/game/statefulsets/rooms-expose-pods/scale';

  it('reads the scale subresource and writes it only when it differs', async () => {
    let body: any;
    nock(FAKE_SERVER)
      .get(SCALE)
      .reply(200, { metadata: { name: 'rooms-expose-pods', resourceVersion: '9' }, spec: { replicas: 4 } })
      .put(SCALE, (b: any) => ((body = b), true))
      .reply(200, (_u: string, b: any) => b);
    assert.equal(await setStatefulSetReplicas(fakeKube(), 'game', 'rooms-expose-pods', 2), true);
    assert.deepEqual(body.spec, { replicas: 2 });
    assert.equal(body.metadata.resourceVersion, '9');

    nock(FAKE_SERVER)
      .get(SCALE)
      .reply(200, { metadata: { name: 'rooms-expose-pods' }, spec: { replicas: 2 } });
    assert.equal(await setStatefulSetReplicas(fakeKube(), 'game', 'rooms-expose-pods', 2), false);
  });
});

describe('readScaleObjects (nock): the pre-flight reads', () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());

  function lists(scope: nock.Scope, sts: unknown[]) {
    return mockReleaseLists(scope, {
      statefulSets: { items: sts },
      roomPods: { items: [{ metadata: { name: `${W}-0` }, status: { phase: 'Running' } }] },
      podServices: { items: [] },
      claims: { items: [{ metadata: { name: `data-${W}-0` } }] },
    });
  }
  const sts = [
    {
      metadata: { name: W },
      spec: {
        replicas: 3,
        selector: {},
        template: {},
        serviceName: W,
        volumeClaimTemplates: [{ metadata: { name: 'data' } }],
      },
    },
  ];

  it("four lists by the chart labels, whatever the replica count (the cluster-wide ones are the change path's)", async () => {
    const scope = lists(nock(FAKE_SERVER), sts);
    const o = await readScaleObjects(fakeKube(), 'game', 'rooms');
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    assert.equal(o.workload, W);
    assert.equal(o.liveReplicas, 3);
    assert.deepEqual(o.pvcs, [`data-${W}-0`]);
    assert.deepEqual(o.claimTemplates, ['data']);
  });

  it('no StatefulSet: NOT_FOUND; 403 on pods: FORBIDDEN naming the verb', async () => {
    lists(nock(FAKE_SERVER), []);
    await assert.rejects(readScaleObjects(fakeKube(), 'game', 'rooms'), { exitCode: ExitCode.NOT_FOUND });
    nock.cleanAll();
    nock(FAKE_SERVER)
      .get('/api/v1/namespaces/game/pods')
      .query(true)
      .reply(403, { kind: 'Status', code: 403, reason: 'Forbidden', message: 'pods is forbidden' })
      .get(/.*/)
      .query(true)
      .times(3)
      .reply(200, { items: sts });
    await assert.rejects(readScaleObjects(fakeKube(), 'game', 'rooms'), (e: any) => {
      assert.equal(e.exitCode, ExitCode.FORBIDDEN);
      assert.match(e.message, /^forbidden: you may not list pods in namespace game \(403\)/);
      return true;
    });
  });
});

describe('formatChanges: the endpoints a scale changed', () => {
  const row = (ordinal: number, status: 'Ready' | 'Pending'): EndpointChange['endpoint'] =>
    endpointRow(W, ordinal, { ready: status === 'Ready', status });

  it('a few: one line each, with the address a client uses', () => {
    assert.equal(
      formatChanges([
        { type: 'ADDED', endpoint: row(2, 'Ready') },
        { type: 'DELETED', endpoint: row(1, 'Ready') },
      ]),
      [
        'Endpoints:',
        `  + ${W}-2   198.51.100.1:30002   Ready`,
        `  - ${W}-1   198.51.100.1:30001   removed`,
      ].join('\n'),
    );
  });

  it('a thousand: one line per kind with ordinal ranges and a count per status, three examples, and where to see all', () => {
    const changes: EndpointChange[] = [
      ...n(1000).map((i) => ({
        type: 'ADDED' as const,
        endpoint: row(1000 + i, i < 990 ? 'Ready' : 'Pending'),
      })),
      ...n(20).map((i) => ({ type: 'DELETED' as const, endpoint: row(2100 + i, 'Ready') })),
    ];
    const lines = formatChanges(changes, 'rooms -n game').split('\n');
    assert.deepEqual(lines, [
      'Endpoints (1020 changed):',
      '  + 1000 added: ordinals 1000–1999 (Ready 990, Pending 10)',
      `      + ${W}-1000   198.51.100.1:31000   Ready`,
      `      + ${W}-1001   198.51.100.1:31001   Ready`,
      `      + ${W}-1002   198.51.100.1:31002   Ready`,
      '      ... and 997 more',
      '  - 20 removed: ordinals 2100–2119',
      `      - ${W}-2100   198.51.100.1:32100   removed`,
      `      - ${W}-2101   198.51.100.1:32101   removed`,
      `      - ${W}-2102   198.51.100.1:32102   removed`,
      '      ... and 17 more',
      '  every endpoint: kubectl expose-pods endpoints rooms -n game',
    ]);
  });
});

describe('scale-down with rooms in use: the plan and what needs a yes', () => {
  const allocated = (i: number) => roomPod(W, i, { mark: { allocated: true, draining: false } });
  it('the plan names the rooms in use it removes, highest first, and only those', () => {
    const i = input({ live: 5, target: 2 });
    i.pods[0] = allocated(0);
    i.pods[3] = allocated(3);
    i.pods[4] = allocated(4);
    const p = planScale(i);
    assert.deepEqual(p.removeInUse, [`${W}-4`, `${W}-3`]);
    assert.match(
      formatPlan(p, false),
      new RegExp(`^ {2}rooms in use: +${W}-4, ${W}-3 +every room to remove is marked Draining first`, 'm'),
    );
    assert.match(formatPlan(p, false, true), /--delete-in-use: removed with their matches/);
  });
  it('a scale up has no rooms in use to remove, and no such line', () => {
    const i = input({ live: 2, target: 5 });
    i.pods[1] = allocated(1);
    const p = planScale(i);
    assert.deepEqual(p.removeInUse, []);
    assert.doesNotMatch(formatPlan(p, false), /rooms in use/);
  });
  it('scaleDisruptions: Ready pods removed, PVCs deleted with --delete-data, rooms in use only with --delete-in-use', () => {
    const i = input({ live: 3, target: 1 });
    i.pods[2] = allocated(2);
    i.pods[1] = pod(1, false);
    const p = planScale(i);
    assert.deepEqual(scaleDisruptions(p, false), ['removes 1 Ready pod(s)']);
    assert.deepEqual(scaleDisruptions(p, true), [
      'removes 1 Ready pod(s)',
      'deletes 2 PVC(s) and their data',
    ]);
    assert.deepEqual(scaleDisruptions(p, false, true), [
      'removes 1 Ready pod(s)',
      `removes 1 room(s) in use (Allocated): ${W}-2`,
    ]);
    // Nothing removed, nothing deleted: no question to ask.
    assert.deepEqual(scaleDisruptions(planScale(input({ live: 2, target: 4 })), true, true), []);
    // A scale-down of pods that are not Ready, with their data kept: no question either.
    const notReady = input({ live: 2, target: 1 });
    notReady.pods[1] = pod(1, false);
    assert.deepEqual(scaleDisruptions(planScale(notReady), false), []);
    // Over a failed revision whose template never reached the cluster: its Free rooms are replaced, which is asked.
    assert.deepEqual(scaleDisruptions(planScale(input({ live: 2, target: 4 })), false, false, 2), [
      "replaces 2 room(s) on the release's newest pod template",
    ]);
  });
});

describe('scale: the boundaries and the notes, both sides', () => {
  it('a StatefulSet drifted from the release is not "nothing to change", even when it already has the target', () => {
    const drifted = planScale(input({ live: 3, target: 3, releaseReplicas: 2 }));
    assert.equal(drifted.noop, false);
    assert.match(drifted.notes.join('\n'), /the StatefulSet runs 3 replicas but the release says 2/);
    const settled = planScale(input({ live: 3, target: 3 }));
    assert.equal(settled.noop, true);
    assert.deepEqual(settled.notes, [], 'no drift note when the release and the StatefulSet agree');
  });
  it('expose.nodePorts: exactly as many ports as Services is enough; one Service more is refused', () => {
    const fit = input({ live: 2, target: 3, nodePorts: [31000, 31001, 31002] });
    assert.deepEqual(preflight(fit, planScale(fit)), []);
    const short = input({ live: 2, target: 4, nodePorts: [31000, 31001, 31002] });
    assert.match(
      preflight(short, planScale(short)).join('\n'),
      /expose\.nodePorts lists 3 ports, and 4 Services need one each/,
    );
  });
  it('the pinned-count notes appear only when expose.count differs from the target', () => {
    assert.deepEqual(planScale(input({ live: 2, target: 3, pinnedCount: 3 })).notes, []);
    assert.match(
      planScale(input({ live: 2, target: 4, pinnedCount: 3 })).notes.join('\n'),
      /ordinals 3\.\.3 get no Service/,
    );
    assert.match(
      planScale(input({ live: 2, target: 2, pinnedCount: 3 })).notes.join('\n'),
      /Services 2\.\.2 have no pod/,
    );
  });
});

describe('scale: the plan, both sides (mutation testing)', () => {
  it('a release at the target whose StatefulSet lags is not "nothing to change", though every pod and Service exists', () => {
    const plan = planScale(
      input({
        releaseReplicas: 5,
        liveReplicas: 3,
        target: 5,
        pods: n(5).map((i) => pod(i)),
        services: n(5).map((i) => svc(i)),
      }),
    );
    assert.equal(plan.noop, false);
    assert.deepEqual(plan.from, { release: 5, live: 3 });
  });

  it('Services listed in any order are removed in ordinal order, and one without ports has no nodePort', () => {
    const services = [svc(4), podService(W, 3, { ports: [] }), svc(2)];
    const plan = planScale(
      input({ live: 2, target: 2, pods: n(2).map((i) => pod(i)), services: [svc(0), svc(1), ...services] }),
    );
    assert.deepEqual(plan.removeServices, [
      { ordinal: 2, name: `${W}-2`, nodePort: 30882 },
      { ordinal: 3, name: `${W}-3`, nodePort: null },
      { ordinal: 4, name: `${W}-4`, nodePort: 30884 },
    ]);
  });
});

describe('scale after kubectl scale or an HPA lowered the StatefulSet: what its controller removes already', () => {
  const allocated = (i: number) => roomPod(W, i, { mark: { allocated: true, draining: false } });
  it("--sync to the live count: the rooms at or above it are the controller's, named with those in use; nothing to wait for or ask", () => {
    const i = input({ releaseReplicas: 5, liveReplicas: 3, target: 3, pods: n(5).map((x) => pod(x)) });
    i.pods[4] = allocated(4);
    const p = planScale(i);
    assert.deepEqual(p.removePods, [`${W}-4`, `${W}-3`]);
    assert.deepEqual([p.removedByController, p.removedByControllerInUse], [[`${W}-4`, `${W}-3`], [`${W}-4`]]);
    assert.deepEqual([p.removeReadyPods, p.removeInUse], [[], []]);
    assert.deepEqual(scaleDisruptions(p, false, true), []);
    assert.match(
      formatPlan(p, false),
      new RegExp(
        `note: the StatefulSet's controller is already removing rooms ${W}-3\\.\\.${W}-4 \\(its replicas were set to 3 outside the release, by kubectl scale or an HPA\\); rooms in use among them: ${W}-4: their matches end, whatever this scale does`,
      ),
    );
  });
  it("a scale below the live count: the rooms below it are this scale's (waited for), those above the controller's", () => {
    const i = input({ releaseReplicas: 5, liveReplicas: 4, target: 2, pods: n(5).map((x) => pod(x)) });
    i.pods[3] = allocated(3);
    i.pods[4] = allocated(4);
    const p = planScale(i);
    assert.deepEqual(p.removeInUse, [`${W}-3`]);
    assert.deepEqual(p.removeReadyPods, [`${W}-3`, `${W}-2`]);
    assert.deepEqual(p.removedByController, [`${W}-4`]);
    assert.match(p.notes.join('\n'), new RegExp(`already removing room ${W}-4 `));
  });
  it("no drift: nothing is the controller's, and no such note", () => {
    const p = planScale(input({ live: 5, target: 3 }));
    assert.deepEqual(p.removedByController, []);
    assert.doesNotMatch(p.notes.join('\n'), /already removing/);
  });
});

describe('the controller-removal note, both sides (mutation testing, 2026-12-07)', () => {
  const allocated = (i: number) => roomPod(W, i, { mark: { allocated: true, draining: false } });
  it('no room in use among them: says so; two in use: both named', () => {
    const free = planScale(
      input({ releaseReplicas: 5, liveReplicas: 3, target: 3, pods: n(5).map((x) => pod(x)) }),
    );
    assert.deepEqual(
      free.notes.filter((x) => x.includes('already removing')),
      [
        `the StatefulSet's controller is already removing rooms ${W}-3..${W}-4 (its replicas were set to 3 outside the release, by kubectl scale or an HPA); none of them is in use`,
      ],
    );
    const i = input({ releaseReplicas: 5, liveReplicas: 3, target: 3, pods: n(5).map((x) => pod(x)) });
    i.pods[3] = allocated(3);
    i.pods[4] = allocated(4);
    assert.match(
      planScale(i).notes.join('\n'),
      new RegExp(
        `; rooms in use among them: ${W}-4, ${W}-3: their matches end, whatever this scale does$`,
        'm',
      ),
    );
  });
});
