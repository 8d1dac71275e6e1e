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
import { acquireReleaseLock, helmAlive, holderIdentity, leaseIsStale } from '../../src/kube/lock.js';
import { readScaleObjects, setStatefulSetReplicas } from '../../src/kube/scale-objects.js';
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
    assert.doesNotMatch(text, /Pod slots:/, 'unknown without cluster-wide RBAC: left out');
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

describe('the release lock (nock)', () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());
  const LEASES = '/apis/coordination.k8s.io/v1/namespaces/game/leases';
  const LEASE = `${LEASES}/rooms-expose-pods-lock`;
  const created = (rv: string) => (_u: string, b: any) => ({
    ...b,
    metadata: { ...b.metadata, resourceVersion: rv },
  });

  it('one renewal at a time: a second waits for the first and sends the resourceVersion it got back', async () => {
    const puts: any[] = [];
    const scope = nock(FAKE_SERVER)
      .post(LEASES)
      .reply(201, created('41'))
      .put(LEASE, (b: any) => (puts.push(b), true))
      .delay(200)
      .reply(200, created('42'))
      .put(LEASE, (b: any) => (puts.push(b), true))
      .reply(200, created('43'))
      .delete(LEASE, (b: any) => b.preconditions.resourceVersion === '43')
      .reply(200, {});
    const lock = await acquireReleaseLock(fakeKube(), 'game', 'rooms', 'scale', () => undefined);
    const first = lock.noteHelm(1);
    // The first renewal is on the wire (its reply takes 200 ms) when the second is asked for.
    while (puts.length < 1) await new Promise((r) => setImmediate(r));
    await lock.noteHelm(2);
    await first;
    assert.deepEqual(
      puts.map((b) => [b.metadata.resourceVersion, b.metadata.annotations['expose-pods.io/helm-pid']]),
      [
        ['41', '1'],
        ['42', '2'],
      ],
    );
    assert.equal(lock.signal.aborted, false);
    await lock.release();
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
  });

  it('a 409 on renewal while the lease still names this holder (a write of its own) is not a loss: read again, renewed', async () => {
    const scope = nock(FAKE_SERVER)
      .post(LEASES)
      .reply(201, created('41'))
      .put(LEASE)
      .reply(409, { kind: 'Status', code: 409, reason: 'Conflict' })
      .get(LEASE)
      .reply(200, {
        metadata: { name: 'rooms-expose-pods-lock', namespace: 'game', resourceVersion: '45' },
        spec: { holderIdentity: holderIdentity(), leaseDurationSeconds: 30 },
      })
      .put(LEASE, (b: any) => b.metadata.resourceVersion === '45')
      .reply(200, created('46'))
      .delete(LEASE, (b: any) => b.preconditions.resourceVersion === '46')
      .reply(200, {});
    const lock = await acquireReleaseLock(fakeKube(), 'game', 'rooms', 'scale', () => undefined);
    await lock.noteHelm(7);
    assert.equal(lock.signal.aborted, false, 'still ours');
    await lock.noteHelm(7);
    await lock.release();
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
  });

  it('creates the Lease (holder, 30 s, labels), renews nothing yet, and deletes it with a precondition on release', async () => {
    let created: any;
    let deleted: any;
    const scope = nock(FAKE_SERVER)
      .post(LEASES, (b: any) => ((created = b), true))
      .reply(201, (_u: string, b: any) => ({ ...b, metadata: { ...b.metadata, resourceVersion: '41' } }))
      .delete(`${LEASES}/rooms-expose-pods-lock`, (b: any) => ((deleted = b), true))
      .reply(200, {});
    const lock = await acquireReleaseLock(fakeKube(), 'game', 'rooms', 'scale --replicas 5', () => undefined);
    assert.equal(created.metadata.name, 'rooms-expose-pods-lock');
    assert.equal(created.spec.holderIdentity, holderIdentity());
    assert.equal(created.spec.leaseDurationSeconds, 30);
    assert.match(created.spec.renewTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'MicroTime: 6 digits');
    assert.equal(created.metadata.annotations['expose-pods.io/operation'], 'scale --replicas 5');
    await lock.release();
    assert.deepEqual(deleted.preconditions, { resourceVersion: '41' });
    assert.ok(scope.isDone());
  });

  it("a renewal that finds the lease taken over aborts the holder: signal aborted with CONFLICT, no delete of the new holder's lease", async () => {
    const scope = nock(FAKE_SERVER)
      .post(LEASES)
      .reply(201, (_u: string, b: any) => ({ ...b, metadata: { ...b.metadata, resourceVersion: '41' } }))
      .put(`${LEASES}/rooms-expose-pods-lock`)
      .reply(409, { kind: 'Status', code: 409, reason: 'Conflict' })
      .get(`${LEASES}/rooms-expose-pods-lock`)
      .reply(200, {
        metadata: { name: 'rooms-expose-pods-lock', resourceVersion: '50' },
        spec: { holderIdentity: 'someone-else@elsewhere', leaseDurationSeconds: 30 },
      });
    const lock = await acquireReleaseLock(fakeKube(), 'game', 'rooms', 'scale', () => undefined);
    assert.equal(lock.signal.aborted, false);
    await lock.noteHelm(4242); // renews at once
    assert.equal(lock.signal.aborted, true);
    assert.equal(lock.signal.reason.exitCode, ExitCode.CONFLICT);
    assert.match(
      (lock.signal.reason as Error).message,
      /^lost the lock on release rooms: the lease game\/rooms-expose-pods-lock was taken over; stopped$/,
    );
    await lock.release(); // no DELETE: nock would refuse one
    assert.ok(scope.isDone());
  });

  it('a holder on this host whose process is gone is waited for until its lease lapses, then taken over', async () => {
    const renewed = new Date(Date.now() - 28_500).toISOString().replace('Z', '000Z');
    const gone = {
      metadata: { name: 'rooms-expose-pods-lock', resourceVersion: '5' },
      spec: {
        holderIdentity: holderIdentity(undefined, 4_194_305),
        leaseDurationSeconds: 30,
        acquireTime: renewed,
        renewTime: renewed,
      },
    };
    const warnings: string[] = [];
    const scope = nock(FAKE_SERVER)
      .post(LEASES)
      .reply(409, { kind: 'Status', code: 409, reason: 'AlreadyExists' })
      .get(`${LEASES}/rooms-expose-pods-lock`)
      .times(4)
      .reply(200, gone)
      .put(`${LEASES}/rooms-expose-pods-lock`)
      .reply(200, (_u: string, b: any) => b);
    const t0 = Date.now();
    const lock = await acquireReleaseLock(fakeKube(), 'game', 'rooms', 'scale', (m) => warnings.push(m));
    assert.ok(Date.now() - t0 >= 1000, 'it waited for the lapse');
    assert.match(warnings.join(), /which is not running here; waiting up to \d+s for its lease to lapse/);
    nock(FAKE_SERVER).delete(/.*/).reply(200, {});
    await lock.release();
    assert.ok(
      scope.pendingMocks().every((m) => m.startsWith('GET')),
      scope.pendingMocks().join(', '),
    );
  });

  it('a live holder: CONFLICT naming the operation and the holder', async () => {
    nock(FAKE_SERVER)
      .post(LEASES)
      .reply(409, { kind: 'Status', code: 409, reason: 'AlreadyExists' })
      .get(`${LEASES}/rooms-expose-pods-lock`)
      .reply(200, {
        metadata: {
          name: 'rooms-expose-pods-lock',
          annotations: { 'expose-pods.io/operation': 'scale --replicas 9' },
        },
        spec: {
          holderIdentity: 'kubectl-expose-pods/elsewhere/4242',
          leaseDurationSeconds: 30,
          acquireTime: new Date().toISOString(),
          renewTime: new Date().toISOString(),
        },
      });
    await assert.rejects(
      acquireReleaseLock(fakeKube(), 'game', 'rooms', 'scale --replicas 5', () => undefined),
      (e: any) => {
        assert.equal(e.exitCode, ExitCode.CONFLICT);
        assert.match(
          e.message,
          /^another operation is in progress on release rooms: scale --replicas 9 by kubectl-expose-pods\/elsewhere\/4242 since /,
        );
        return true;
      },
    );
  });

  it('an expired holder is taken over with a PUT carrying its resourceVersion; losing that race is CONFLICT', async () => {
    const old = new Date(Date.now() - 120_000).toISOString();
    const stale = {
      metadata: { name: 'rooms-expose-pods-lock', resourceVersion: '77' },
      spec: {
        holderIdentity: 'kubectl-expose-pods/elsewhere/1',
        leaseDurationSeconds: 30,
        acquireTime: old,
        renewTime: old,
      },
    };
    let put: any;
    nock(FAKE_SERVER)
      .post(LEASES)
      .reply(409, {})
      .get(`${LEASES}/rooms-expose-pods-lock`)
      .reply(200, stale)
      .put(`${LEASES}/rooms-expose-pods-lock`, (b: any) => ((put = b), true))
      .reply(200, (_u: string, b: any) => b);
    const lock = await acquireReleaseLock(fakeKube(), 'game', 'rooms', 'scale', () => undefined);
    assert.equal(put.metadata.resourceVersion, '77');
    assert.equal(put.spec.holderIdentity, holderIdentity());
    assert.deepEqual(lock.previous, { acquired: Date.parse(old), renewed: Date.parse(old) });
    nock.cleanAll();
    nock(FAKE_SERVER).delete(/.*/).reply(200, {});
    await lock.release();

    nock(FAKE_SERVER)
      .post(LEASES)
      .reply(409, {})
      .get(`${LEASES}/rooms-expose-pods-lock`)
      .reply(200, stale)
      .put(`${LEASES}/rooms-expose-pods-lock`)
      .reply(409, { kind: 'Status', code: 409, reason: 'Conflict' });
    await assert.rejects(
      acquireReleaseLock(fakeKube(), 'game', 'rooms', 'scale', () => undefined),
      {
        exitCode: ExitCode.CONFLICT,
      },
    );
  });

  it('403 on Leases: a warning, and the operation goes on unguarded', async () => {
    nock(FAKE_SERVER).post(LEASES).reply(403, { kind: 'Status', code: 403, reason: 'Forbidden' });
    const warnings: string[] = [];
    const lock = await acquireReleaseLock(fakeKube(), 'game', 'rooms', 'scale', (m) => warnings.push(m));
    assert.match(
      warnings.join(),
      /not allowed to create Leases in namespace game: a concurrent operation on rooms would not be detected/,
    );
    await lock.release();
  });

  it('leaseIsStale: only a lapsed lease (renewTime + duration past); a renewed one whose pid is not alive here is still held', () => {
    const now = Date.now();
    const lease = (holder: string, renewedAgo: number, duration = 30) => ({
      spec: {
        holderIdentity: holder,
        leaseDurationSeconds: duration,
        renewTime: new Date(now - renewedAgo) as any,
      },
    });
    assert.equal(leaseIsStale(lease(holderIdentity(), 1000), now), false, 'this very process holds it');
    assert.equal(leaseIsStale(lease('kubectl-expose-pods/elsewhere/1', 31_000), now), true);
    assert.equal(leaseIsStale(lease('kubectl-expose-pods/elsewhere/1', 1000), now), false);
    // Same hostname, pid 2^22+1 (above Linux's pid_max, so not alive here): another machine
    // or container named like this one, still renewing. Not ours to take.
    assert.equal(leaseIsStale(lease(holderIdentity(undefined, 4_194_305), 1000), now), false);
    assert.equal(leaseIsStale(lease(holderIdentity(undefined, 4_194_305), 11_000, 10), now), true);
  });

  it('helmAlive: a missing pid, and a live pid that is not helm (reused), are not waited for', () => {
    assert.equal(helmAlive(4_194_305), false);
    assert.equal(helmAlive(process.pid), false, 'this node process is alive, but is not helm');
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
