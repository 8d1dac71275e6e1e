import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import nock from 'nock';

import { ExitCode, ExposePodsError } from '../../src/errors.js';
import type { Endpoint } from '../../src/core/endpoints.js';
import {
  allocate,
  allocateRoom,
  checkedSelector,
  deallocate,
  type Deallocation,
} from '../../src/ops/allocate.js';
import { render } from '../../src/output/format.js';
import { deallocationNotice, deallocationPrinters } from '../../src/output/rooms.js';
import { chartSelector, FAKE_SERVER, fakeKubeconfigFile, mockReleaseLists } from '../support/kube.js';

const kubeconfig = fakeKubeconfigFile();
const opts = { release: 'rooms', kubeconfig, namespace: 'game' };
const MERGE_PATCH = 'application/merge-patch+json';

const pod = (i: number, labels: Record<string, string> = {}, annotations: Record<string, string> = {}) => ({
  metadata: { name: `rooms-expose-pods-${i}`, resourceVersion: `10${i}`, uid: `u${i}`, labels, annotations },
  spec: { nodeName: 'n0' },
  status: {
    phase: 'Running',
    podIP: `10.244.0.${i}`,
    conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [{ name: 'room', restartCount: i, ready: true, image: 'x', imageID: 'x' }],
  },
});
const service = (i: number) => ({
  metadata: { name: `rooms-expose-pods-${i}`, namespace: 'game' },
  spec: {
    type: 'NodePort',
    selector: { 'statefulset.kubernetes.io/pod-name': `rooms-expose-pods-${i}` },
    ports: [{ port: 8080, nodePort: 30880 + i, protocol: 'TCP' }],
  },
});
const node = {
  metadata: { name: 'n0' },
  status: {
    conditions: [{ type: 'Ready', status: 'True' }],
    addresses: [{ type: 'InternalIP', address: '198.51.100.10' }],
  },
};
const statefulSet = (
  annotations: Record<string, string> = {},
  templateAnnotations?: Record<string, string>,
) => ({
  metadata: { name: 'rooms-expose-pods', annotations },
  spec: {
    replicas: 3,
    serviceName: 'rooms-expose-pods',
    selector: {},
    template: { metadata: templateAnnotations ? { annotations: templateAnnotations } : {} },
  },
});

/** The four lists deallocate (and allocate, to count the rooms when none is Free) reads, with these pods. */
function reads(
  scope: nock.Scope,
  pods: unknown[],
  set: unknown = statefulSet(),
  nodes: unknown[] = [node],
): nock.Scope {
  mockReleaseLists(scope, {
    // null: the command read the StatefulSet already, and reads it once.
    ...(set === null ? {} : { statefulSets: { items: [set] } }),
    roomPods: { items: pods },
    podServices: { items: [0, 1, 2].map(service) },
  });
  return scope.get('/api/v1/nodes').reply(200, { items: nodes });
}

/** nock hands a body it did not parse (merge-patch+json) as text. */
const asPatch = (body: unknown): Patch =>
  typeof body === 'string' ? (JSON.parse(body) as Patch) : (body as Patch);

const UNMARKED = '!expose-pods.io/state,!expose-pods.io/draining,!expose-pods.io/cordoned';

/**
 * What allocate reads first: the StatefulSet and the names of the unmarked
 * room pods, as metadata only (the server filters; this mock answers with
 * those given), then each pod it tries, and for each candidate its per-pod
 * Service and its node, by name.
 */
function allocateReads(
  scope: nock.Scope,
  unmarked: unknown[],
  candidates: number[],
  o: { set?: unknown; node?: unknown; selector?: string } = {},
): nock.Scope {
  mockReleaseLists(scope, { statefulSets: { items: [o.set ?? statefulSet()] } });
  scope
    .get('/api/v1/namespaces/game/pods')
    .query({ labelSelector: `${chartSelector('room')},${UNMARKED}${o.selector ? `,${o.selector}` : ''}` })
    .matchHeader('accept', /^application\/json;as=PartialObjectMetadataList;g=meta\.k8s\.io;v=v1/)
    .reply(200, { items: unmarked.length ? unmarked : null });
  // Each room tried is read whole; those that may take a match, also their Service and node.
  for (const p of unmarked as { metadata: { name: string } }[])
    scope.get(`/api/v1/namespaces/game/pods/${p.metadata.name}`).reply(200, p);
  for (const i of candidates) {
    scope.get(`/api/v1/namespaces/game/services/rooms-expose-pods-${i}`).reply(200, service(i));
    scope.get('/api/v1/nodes/n0').reply(200, o.node ?? node);
  }
  return scope;
}

/** What deallocate reads: the StatefulSet, the one pod, then its Service and node for the row. */
function deallocateReads(scope: nock.Scope, thePod: unknown, i: number): nock.Scope {
  mockReleaseLists(scope, { statefulSets: { items: [statefulSet()] } });
  scope.get(`/api/v1/namespaces/game/pods/rooms-expose-pods-${i}`).reply(200, thePod as nock.Body);
  scope.get(`/api/v1/namespaces/game/services/rooms-expose-pods-${i}`).reply(200, service(i));
  return scope.get('/api/v1/nodes/n0').reply(200, node);
}

interface Patch {
  metadata: {
    resourceVersion: string;
    labels: Record<string, string | null>;
    annotations: Record<string, string | null>;
  };
}

describe('allocate and deallocate (nock): the exact writes', () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());

  it('a merge patch of the lowest Free room carrying its resourceVersion; a 409 moves on to the next room', async () => {
    const bodies: { name: string; body: Patch; type: string | undefined }[] = [];
    const scope = allocateReads(nock(FAKE_SERVER), [pod(2), pod(1)], [1, 2]);
    scope
      .patch('/api/v1/namespaces/game/pods/rooms-expose-pods-1')
      .query({ fieldManager: 'kubectl-expose-pods' })
      .reply(function (_uri, body) {
        bodies.push({ name: '1', body: asPatch(body), type: this.req.headers['content-type'] });
        return [409, { kind: 'Status', reason: 'Conflict', message: 'the object has been modified' }];
      });
    scope
      .patch('/api/v1/namespaces/game/pods/rooms-expose-pods-2')
      .query({ fieldManager: 'kubectl-expose-pods' })
      .reply(function (_uri, body) {
        bodies.push({ name: '2', body: asPatch(body), type: this.req.headers['content-type'] });
        const p = pod(2);
        return [200, { ...p, metadata: { ...p.metadata, ...asPatch(body).metadata } }];
      });
    const row = await allocate({ ...opts, metadata: { match: 'm-7' } });
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    assert.deepEqual(
      bodies.map((b) => [b.name, b.type, b.body.metadata.resourceVersion]),
      [
        ['1', MERGE_PATCH, '101'],
        ['2', MERGE_PATCH, '102'],
      ],
    );
    const written = bodies[1]!.body.metadata;
    assert.deepEqual(written.labels, { 'expose-pods.io/state': 'Allocated' });
    assert.equal(written.annotations['expose-pods.io/allocated-restarts'], '2');
    assert.equal(written.annotations['expose-pods.io/allocation-metadata'], '{"match":"m-7"}');
    assert.equal(written.annotations['cluster-autoscaler.kubernetes.io/safe-to-evict'], 'false');
    assert.deepEqual(
      {
        pod: row.pod,
        state: row.state,
        address: row.address,
        port: row.port,
        metadata: row.allocation?.metadata,
        stale: row.allocation?.stale,
      },
      {
        pod: 'rooms-expose-pods-2',
        state: 'Allocated',
        address: '198.51.100.10',
        port: 30882,
        metadata: { match: 'm-7' },
        stale: false,
      },
    );
  });

  it('no safe-to-evict when the chart turns it off, or when the pod template sets it itself', async () => {
    for (const set of [
      statefulSet({ 'expose-pods.io/mark-safe-to-evict': 'false' }),
      statefulSet({}, { 'cluster-autoscaler.kubernetes.io/safe-to-evict': 'true' }),
    ]) {
      let written: Patch | undefined;
      const scope = allocateReads(nock(FAKE_SERVER), [pod(0)], [0], { set });
      scope
        .patch('/api/v1/namespaces/game/pods/rooms-expose-pods-0')
        .query(true)
        .reply(200, (_uri, body) => {
          written = asPatch(body);
          return pod(0, { 'expose-pods.io/state': 'Allocated' });
        });
      await allocate(opts);
      assert.ok(scope.isDone());
      assert.ok(written);
      assert.equal('cluster-autoscaler.kubernetes.io/safe-to-evict' in written.metadata.annotations, false);
    }
  });

  it('--selector narrows the pod lists on the server', async () => {
    // The StatefulSet is read once (allocateReads), for the unmarked rooms and the count alike.
    const scope = allocateReads(nock(FAKE_SERVER), [], [], { selector: 'zone=a' });
    scope
      .get('/api/v1/namespaces/game/pods')
      .query({ labelSelector: `${chartSelector('room')},zone=a` })
      .reply(200, { items: [] });
    scope
      .get('/api/v1/namespaces/game/services')
      .query({ labelSelector: chartSelector('pod-service') })
      .reply(200, { items: [0, 1, 2].map(service) });
    scope.get('/api/v1/nodes').reply(200, { items: [node] });
    await assert.rejects(allocate({ ...opts, selector: 'zone=a' }), (e: ExposePodsError) => {
      assert.equal(e.exitCode, ExitCode.NO_FREE_ROOM);
      assert.match(e.message, /^no Free room matching zone=a in release rooms \(namespace game\): 0 rooms$/);
      return true;
    });
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
  });

  it('exit 14 with the rooms counted by state, and nothing written', async () => {
    // The unmarked rooms first (one, not Ready: no candidate), then the release as endpoints reads it, to count.
    const scope = allocateReads(
      nock(FAKE_SERVER),
      [{ ...pod(2), status: { phase: 'Pending', conditions: [] } }],
      [],
    );
    reads(
      scope,
      [
        pod(0, { 'expose-pods.io/state': 'Allocated' }),
        pod(1, { 'expose-pods.io/draining': 'true' }),
        { ...pod(2), status: { phase: 'Pending', conditions: [] } },
      ],
      null,
    );
    await assert.rejects(allocate(opts), (e: ExposePodsError) => {
      assert.equal(e.exitCode, 14);
      assert.equal(
        e.message,
        'no Free room in release rooms (namespace game): 3 rooms: 1 Allocated, 1 Draining, 1 not ready to take a match',
      );
      assert.match(e.hint ?? '', /deallocate rooms -n game POD/);
      return true;
    });
    assert.ok(scope.isDone());
  });

  it('deallocate removes the marks with the resourceVersion as precondition, and converges on a Free room', async () => {
    let written: Patch | undefined;
    const allocated = pod(
      1,
      { 'expose-pods.io/state': 'Allocated', 'expose-pods.io/draining': 'true' },
      {
        'expose-pods.io/allocated-at': '2026-12-04T00:00:00Z',
      },
    );
    const scope = deallocateReads(nock(FAKE_SERVER), allocated, 1);
    scope
      .patch('/api/v1/namespaces/game/pods/rooms-expose-pods-1')
      .query({ fieldManager: 'kubectl-expose-pods' })
      .matchHeader('content-type', MERGE_PATCH)
      .reply(200, (_uri, body) => {
        written = asPatch(body);
        return pod(1, { 'expose-pods.io/draining': 'true' });
      });
    const out = await deallocate({ ...opts, pod: 'pod/rooms-expose-pods-1' });
    assert.ok(scope.isDone());
    assert.equal(written?.metadata.resourceVersion, '101');
    assert.deepEqual(written.metadata.labels, { 'expose-pods.io/state': null });
    assert.equal(written.metadata.annotations['expose-pods.io/allocated-at'], null);
    assert.deepEqual([out.wasAllocated, out.endpoint?.state], [true, 'Draining']);

    // Not allocated: nothing is written (nock would refuse an unexpected PATCH).
    const again = deallocateReads(nock(FAKE_SERVER), pod(1), 1);
    const second = await deallocate({ ...opts, ordinal: 1 });
    assert.ok(again.isDone());
    assert.deepEqual([second.wasAllocated, second.endpoint?.state], [false, 'Free']);
  });

  it('deallocate of a pod the release does not have is exit 7', async () => {
    // Another prefix: not one of its rooms, and no request for it.
    const scope = mockReleaseLists(nock(FAKE_SERVER), { statefulSets: { items: [statefulSet()] } });
    await assert.rejects(deallocate({ ...opts, pod: 'other-0' }), (e: ExposePodsError) => {
      assert.equal(e.exitCode, ExitCode.NOT_FOUND);
      assert.match(e.message, /release rooms has no room pod other-0 in namespace game/);
      return true;
    });
    assert.ok(scope.isDone());
    // Its own name, but gone.
    const gone = mockReleaseLists(nock(FAKE_SERVER), { statefulSets: { items: [statefulSet()] } });
    gone.get('/api/v1/namespaces/game/pods/rooms-expose-pods-7').reply(404, { kind: 'Status', code: 404 });
    await assert.rejects(
      deallocate({ ...opts, ordinal: 7 }),
      /release rooms has no room pod rooms-expose-pods-7/,
    );
    assert.ok(gone.isDone());
  });

  it("warns, as endpoints does, when the address handed out is one kube-proxy's configuration refuses NodePorts on", async () => {
    const bareMetal = {
      metadata: { name: 'n0' },
      status: {
        conditions: [{ type: 'Ready', status: 'True' }],
        addresses: [
          { type: 'ExternalIP', address: '203.0.113.12' },
          { type: 'InternalIP', address: '198.51.100.12' },
        ],
      },
    };
    const scope = allocateReads(nock(FAKE_SERVER), [pod(0)], [0], { node: bareMetal });
    scope
      .patch('/api/v1/namespaces/game/pods/rooms-expose-pods-0')
      .query(true)
      .reply(200, pod(0, { 'expose-pods.io/state': 'Allocated' }));
    scope.get('/api/v1/namespaces/kube-system/configmaps/kube-proxy').reply(200, {
      data: {
        'config.conf':
          'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\n',
      },
    });
    const { endpoint, scopeWarning } = await allocateRoom(opts);
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    assert.equal(endpoint.address, '203.0.113.12');
    assert.deepEqual(
      scopeWarning?.addresses.map((a) => [a.address, a.pods]),
      [['203.0.113.12', ['rooms-expose-pods-0']]],
    );
  });
});

describe('a room that ended its own match, and cordon (nock): the exact writes', () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());

  // Allocated when it had 0 restarts; pod(1) has 1 now: its container restarted since.
  const restarted = () =>
    pod(
      1,
      { 'expose-pods.io/state': 'Allocated' },
      {
        'expose-pods.io/allocated-at': '2026-12-04T00:00:00Z',
        'expose-pods.io/allocated-restarts': '0',
        'expose-pods.io/allocation-id': 'old-match',
      },
    );

  it('allocate takes it when no unmarked room is left: the same conditional write, fresh marks', async () => {
    let written: Patch | undefined;
    const scope = allocateReads(nock(FAKE_SERVER), [], []);
    reads(scope, [pod(0, { 'expose-pods.io/state': 'Allocated' }), restarted()], null);
    scope
      .patch('/api/v1/namespaces/game/pods/rooms-expose-pods-1')
      .query({ fieldManager: 'kubectl-expose-pods' })
      .matchHeader('content-type', MERGE_PATCH)
      .reply(200, (_uri, body) => {
        written = asPatch(body);
        const p = restarted();
        Object.assign(p.metadata.annotations, written.metadata.annotations);
        return p;
      });
    const row = await allocate(opts);
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    assert.equal(written?.metadata.resourceVersion, '101');
    assert.deepEqual(written.metadata.labels, { 'expose-pods.io/state': 'Allocated' });
    assert.equal(written.metadata.annotations['expose-pods.io/allocated-restarts'], '1');
    assert.notEqual(written.metadata.annotations['expose-pods.io/allocated-at'], '2026-12-04T00:00:00Z');
    assert.deepEqual([row.pod, row.state, row.lastAllocation], ['rooms-expose-pods-1', 'Allocated', null]);
  });

  it('with allocation.endOnRestart false the same room stays Allocated (stale): exit 14, nothing written', async () => {
    const set = statefulSet({ 'expose-pods.io/end-on-restart': 'false' });
    const scope = allocateReads(nock(FAKE_SERVER), [], [], { set });
    reads(scope, [pod(0, { 'expose-pods.io/state': 'Allocated' }), restarted()], null);
    await assert.rejects(allocate(opts), (e: ExposePodsError) => {
      assert.equal(e.exitCode, ExitCode.NO_FREE_ROOM);
      assert.match(e.message, /: 3 rooms: 2 Allocated \(1 stale\), 1 not ready to take a match$/);
      return true;
    });
    assert.ok(scope.isDone());
  });

  it('deallocate removes the marks an ended allocation left, and says it had ended', async () => {
    let written: Patch | undefined;
    const scope = deallocateReads(nock(FAKE_SERVER), restarted(), 1);
    scope
      .patch('/api/v1/namespaces/game/pods/rooms-expose-pods-1')
      .query({ fieldManager: 'kubectl-expose-pods' })
      .reply(200, (_uri, body) => {
        written = asPatch(body);
        return pod(1);
      });
    const out = await deallocate({ ...opts, ordinal: 1 });
    assert.ok(scope.isDone());
    assert.deepEqual(written?.metadata.labels, { 'expose-pods.io/state': null });
    assert.deepEqual([out.wasAllocated, out.ended?.id, out.endpoint?.state], [false, 'old-match', 'Free']);
  });

  it('cordon writes its label only, on the resourceVersion read; a conflict reads again; twice converges', async () => {
    const { setCordon } = await import('../../src/ops/cordon.js');
    const bodies: Patch[] = [];
    const allocated = pod(
      1,
      { 'expose-pods.io/state': 'Allocated' },
      { 'expose-pods.io/allocated-restarts': '1' },
    );
    const scope = mockReleaseLists(nock(FAKE_SERVER), { statefulSets: { items: [statefulSet()] } });
    scope.get('/api/v1/namespaces/game/pods/rooms-expose-pods-1').reply(200, allocated);
    scope
      .patch('/api/v1/namespaces/game/pods/rooms-expose-pods-1')
      .query({ fieldManager: 'kubectl-expose-pods' })
      .matchHeader('content-type', MERGE_PATCH)
      .reply(409, (_uri, body) => {
        bodies.push(asPatch(body));
        return { kind: 'Status', code: 409 };
      });
    scope.get('/api/v1/namespaces/game/pods/rooms-expose-pods-1').reply(200, allocated);
    const cordoned = pod(
      1,
      { ...allocated.metadata.labels, 'expose-pods.io/cordoned': 'true' },
      allocated.metadata.annotations,
    );
    scope
      .patch('/api/v1/namespaces/game/pods/rooms-expose-pods-1')
      .query({ fieldManager: 'kubectl-expose-pods' })
      .reply(200, (_uri, body) => {
        bodies.push(asPatch(body));
        return cordoned;
      });
    scope.get('/api/v1/namespaces/game/services/rooms-expose-pods-1').reply(200, service(1));
    scope.get('/api/v1/nodes/n0').reply(200, node);
    const out = await setCordon({ ...opts, pod: 'pod/rooms-expose-pods-1' }, true);
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    assert.deepEqual(
      bodies.map((b) => b.metadata),
      [0, 1].map(() => ({
        resourceVersion: '101',
        labels: { 'expose-pods.io/cordoned': 'true' },
        annotations: {},
      })),
    );
    // Its match runs on: still Allocated, cordoned.
    assert.deepEqual([out.changed, out.endpoint.state, out.endpoint.cordoned], [true, 'Allocated', true]);

    // Again: nothing written (nock would refuse a PATCH).
    const again = deallocateReads(nock(FAKE_SERVER), cordoned, 1);
    const second = await setCordon({ ...opts, ordinal: 1 }, true);
    assert.ok(again.isDone());
    assert.equal(second.changed, false);
  });

  it('uncordon removes the label only; a room not cordoned is left alone; a room not the release’s is exit 7', async () => {
    const { setCordon } = await import('../../src/ops/cordon.js');
    let written: Patch | undefined;
    const scope = deallocateReads(nock(FAKE_SERVER), pod(2, { 'expose-pods.io/cordoned': 'true' }), 2);
    scope
      .patch('/api/v1/namespaces/game/pods/rooms-expose-pods-2')
      .query({ fieldManager: 'kubectl-expose-pods' })
      .reply(200, (_uri, body) => {
        written = asPatch(body);
        return pod(2);
      });
    const out = await setCordon({ ...opts, ordinal: 2 }, false);
    assert.ok(scope.isDone());
    assert.deepEqual(written?.metadata, {
      resourceVersion: '102',
      labels: { 'expose-pods.io/cordoned': null },
      annotations: {},
    });
    assert.deepEqual([out.changed, out.endpoint.state], [true, 'Free']);
    const free = deallocateReads(nock(FAKE_SERVER), pod(2), 2);
    assert.equal((await setCordon({ ...opts, ordinal: 2 }, false)).changed, false);
    assert.ok(free.isDone());
    const other = mockReleaseLists(nock(FAKE_SERVER), { statefulSets: { items: [statefulSet()] } });
    await assert.rejects(setCordon({ ...opts, pod: 'other-0' }, true), (e: ExposePodsError) => {
      assert.equal(e.exitCode, ExitCode.NOT_FOUND);
      return true;
    });
    assert.ok(other.isDone());
    await assert.rejects(setCordon({ ...opts }, true), /name the room by its pod or by --ordinal/);
  });
});

const ALLOCATED_ROOMS = `${chartSelector('room')},expose-pods.io/state=Allocated`;
const allocatedTo = (i: number, id: string, rv = `10${i}`) => {
  const p = pod(i, { 'expose-pods.io/state': 'Allocated' }, { 'expose-pods.io/allocation-id': id });
  return { ...p, metadata: { ...p.metadata, resourceVersion: rv } };
};

/** The one list by-id lookups make: the release's Allocated room pods (also matching `selector`), as metadata only. */
function allocatedList(scope: nock.Scope, pods: unknown[], selector?: string): nock.Scope {
  return scope
    .get('/api/v1/namespaces/game/pods')
    .query({ labelSelector: selector ? `${ALLOCATED_ROOMS},${selector}` : ALLOCATED_ROOMS })
    .matchHeader('accept', /^application\/json;as=PartialObjectMetadataList;g=meta\.k8s\.io;v=v1/)
    .reply(200, { items: pods.length ? pods : null });
}

/** A PATCH of room i that records its body and answers `answer` (a status code and body). */
function patchOf(
  scope: nock.Scope,
  i: number,
  bodies: Patch[],
  answer: (body: Patch) => [number, unknown],
): nock.Scope {
  return scope
    .patch(`/api/v1/namespaces/game/pods/rooms-expose-pods-${i}`)
    .query({ fieldManager: 'kubectl-expose-pods' })
    .matchHeader('content-type', MERGE_PATCH)
    .reply((_uri, body) => {
      bodies.push(asPatch(body));
      return answer(asPatch(body));
    });
}

const conflict = [409, { kind: 'Status', reason: 'Conflict', code: 409 }] as [number, unknown];

describe('allocation ids (nock): the exact requests', () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());

  it('allocate writes the id given, in the same conditional patch as the Allocated mark', async () => {
    const bodies: Patch[] = [];
    const scope = allocateReads(nock(FAKE_SERVER), [pod(0)], [0]);
    allocatedList(scope, [allocatedTo(2, 'm-41')]);
    patchOf(scope, 0, bodies, (b) => [
      200,
      pod(0, b.metadata.labels as Record<string, string>, b.metadata.annotations as Record<string, string>),
    ]);
    const { endpoint, existing } = await allocateRoom({ ...opts, allocationId: 'm-42' });
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    assert.equal(bodies.length, 1);
    const [written] = bodies as [Patch];
    assert.equal(written.metadata.resourceVersion, '100');
    assert.deepEqual(written.metadata.labels, { 'expose-pods.io/state': 'Allocated' });
    assert.equal(written.metadata.annotations['expose-pods.io/allocation-id'], 'm-42');
    assert.deepEqual(
      [endpoint.pod, endpoint.allocation?.id, existing],
      ['rooms-expose-pods-0', 'm-42', false],
    );
  });

  it('without an id, allocate generates a UUID and looks nothing up', async () => {
    const bodies: Patch[] = [];
    // No list of the Allocated rooms: nock would refuse it.
    const scope = allocateReads(nock(FAKE_SERVER), [pod(0)], [0]);
    patchOf(scope, 0, bodies, (b) => [
      200,
      pod(0, b.metadata.labels as Record<string, string>, b.metadata.annotations as Record<string, string>),
    ]);
    const row = await allocate(opts);
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    const id = bodies[0]?.metadata.annotations['expose-pods.io/allocation-id'];
    assert.match(id ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(row.allocation?.id, id);
  });

  it('allocate with an id a room holds returns that room and writes nothing (a retry after a lost answer)', async () => {
    const scope = mockReleaseLists(nock(FAKE_SERVER), { statefulSets: { items: [statefulSet()] } });
    // Another room holds another id; the list says room 1 holds it, and the pod read whole confirms.
    allocatedList(scope, [allocatedTo(0, 'm-41'), allocatedTo(1, 'm-42')]);
    scope.get('/api/v1/namespaces/game/pods/rooms-expose-pods-1').reply(200, allocatedTo(1, 'm-42'));
    scope.get('/api/v1/namespaces/game/services/rooms-expose-pods-1').reply(200, service(1));
    scope.get('/api/v1/nodes/n0').reply(200, node);
    const { endpoint, existing } = await allocateRoom({ ...opts, allocationId: 'm-42' });
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    assert.deepEqual(
      [endpoint.pod, endpoint.state, endpoint.allocation?.id, endpoint.port, existing],
      ['rooms-expose-pods-1', 'Allocated', 'm-42', 30881, true],
    );
  });

  it('a retry with --selector: the room that holds the id is returned when the selector matches it', async () => {
    const scope = mockReleaseLists(nock(FAKE_SERVER), { statefulSets: { items: [statefulSet()] } });
    allocatedList(scope, [allocatedTo(1, 'm-42')]);
    allocatedList(scope, [allocatedTo(1, 'm-42')], 'zone=a');
    scope.get('/api/v1/namespaces/game/pods/rooms-expose-pods-1').reply(200, allocatedTo(1, 'm-42'));
    scope.get('/api/v1/namespaces/game/services/rooms-expose-pods-1').reply(200, service(1));
    scope.get('/api/v1/nodes/n0').reply(200, node);
    const { endpoint, existing } = await allocateRoom({ ...opts, allocationId: 'm-42', selector: 'zone=a' });
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    assert.deepEqual(
      [endpoint.pod, endpoint.allocation?.id, existing],
      ['rooms-expose-pods-1', 'm-42', true],
    );
  });

  it('a retry whose --selector leaves out the room that holds the id: exit 9, and no second room taken', async () => {
    // No list of unmarked rooms and no PATCH is mocked: nock refuses any, so nothing is written.
    const scope = mockReleaseLists(nock(FAKE_SERVER), { statefulSets: { items: [statefulSet()] } });
    allocatedList(scope, [allocatedTo(1, 'm-42')]);
    allocatedList(scope, [], 'zone=b');
    scope.get('/api/v1/namespaces/game/pods/rooms-expose-pods-1').reply(200, allocatedTo(1, 'm-42'));
    await assert.rejects(
      allocateRoom({ ...opts, allocationId: 'm-42', selector: 'zone=b' }),
      (e: ExposePodsError) => {
        assert.equal(e.exitCode, ExitCode.CONFLICT);
        assert.equal(
          e.message,
          'allocation m-42 holds rooms-expose-pods-1 already, which --selector zone=b leaves out: one allocation id is one room, so no other room was allocated',
        );
        assert.match(e.hint ?? '', /deallocate rooms -n game --allocation-id m-42/);
        return true;
      },
    );
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
  });

  it('a first try with --selector and an id no room holds: one list of the holders, none filtered by the selector', async () => {
    const bodies: Patch[] = [];
    // Only the unfiltered list of holders is mocked: a second, filtered one would be refused by nock.
    const scope = allocateReads(nock(FAKE_SERVER), [pod(0)], [0], { selector: 'zone=a' });
    allocatedList(scope, []);
    patchOf(scope, 0, bodies, (b) => [
      200,
      pod(0, b.metadata.labels as Record<string, string>, b.metadata.annotations as Record<string, string>),
    ]);
    const { endpoint, existing } = await allocateRoom({ ...opts, allocationId: 'm-42', selector: 'zone=a' });
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    assert.deepEqual([endpoint.pod, existing, bodies.length], ['rooms-expose-pods-0', false, 1]);
  });

  it('a selector naming the labels allocate writes is exit 2 before any request; an empty one is no selector', async () => {
    for (const selector of [
      '!expose-pods.io/state',
      'expose-pods.io/state!=Allocated',
      'zone=a, expose-pods.io/draining',
      'expose-pods.io/cordoned in (true)',
    ]) {
      await assert.rejects(
        allocateRoom({ ...opts, allocationId: 'm-42', selector }),
        (e: ExposePodsError) => {
          assert.equal(e.exitCode, ExitCode.USAGE);
          assert.match(
            e.message,
            /^--selector ".*" names expose-pods\.io\/(state|draining|cordoned), which allocate writes itself/,
          );
          return true;
        },
      );
    }
    for (const selector of [
      'zone=a,expose-pods.io/state-x',
      'myexpose-pods.io/state=1',
      'region in (eu,us),!gpu',
    ])
      assert.equal(checkedSelector(selector), selector);
    assert.equal(checkedSelector('  '), undefined);
    assert.equal(checkedSelector(undefined), undefined);
  });

  it('a room the list showed with the id but that lost it since (read whole) is not returned: a new room is taken', async () => {
    const bodies: Patch[] = [];
    const scope = allocateReads(nock(FAKE_SERVER), [pod(0)], [0]);
    allocatedList(scope, [allocatedTo(1, 'm-42')]);
    scope.get('/api/v1/namespaces/game/pods/rooms-expose-pods-1').reply(200, pod(1));
    patchOf(scope, 0, bodies, (b) => [
      200,
      pod(0, b.metadata.labels as Record<string, string>, b.metadata.annotations as Record<string, string>),
    ]);
    const { endpoint, existing } = await allocateRoom({ ...opts, allocationId: 'm-42' });
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    assert.deepEqual([endpoint.pod, existing, bodies.length], ['rooms-expose-pods-0', false, 1]);
  });

  it('a malformed id is exit 2 before any request, for allocate and deallocate alike', async () => {
    for (const allocationId of ['', 'm 42', '-m', 'a'.repeat(129)]) {
      await assert.rejects(allocate({ ...opts, allocationId }), (e: ExposePodsError) => {
        assert.equal(e.exitCode, ExitCode.USAGE);
        assert.match(e.message, /^--allocation-id .*: use 1 to 128 letters/);
        return true;
      });
      await assert.rejects(
        deallocate({ ...opts, allocationId }),
        (e: ExposePodsError) => e.exitCode === ExitCode.USAGE,
      );
    }
    await assert.rejects(deallocate(opts), (e: ExposePodsError) => {
      assert.equal(e.exitCode, ExitCode.USAGE);
      assert.match(e.message, /--allocation-id/);
      return true;
    });
  });

  it('deallocate --allocation-id: the room that holds it, read whole, then a conditional patch removing the id and the marks', async () => {
    const bodies: Patch[] = [];
    const scope = mockReleaseLists(nock(FAKE_SERVER), { statefulSets: { items: [statefulSet()] } });
    allocatedList(scope, [allocatedTo(0, 'm-41'), allocatedTo(2, 'm-42')]);
    scope.get('/api/v1/namespaces/game/pods/rooms-expose-pods-2').reply(200, allocatedTo(2, 'm-42', '502'));
    patchOf(scope, 2, bodies, () => [200, pod(2)]);
    scope.get('/api/v1/namespaces/game/services/rooms-expose-pods-2').reply(200, service(2));
    scope.get('/api/v1/nodes/n0').reply(200, node);
    const out = await deallocate({ ...opts, allocationId: 'm-42' });
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    assert.deepEqual(bodies, [
      {
        metadata: {
          resourceVersion: '502',
          labels: { 'expose-pods.io/state': null },
          annotations: {
            'expose-pods.io/allocation-id': null,
            'expose-pods.io/allocated-at': null,
            'expose-pods.io/allocated-restarts': null,
            'expose-pods.io/allocation-metadata': null,
            'cluster-autoscaler.kubernetes.io/safe-to-evict': null,
          },
        },
      },
    ]);
    assert.deepEqual(
      [out.wasAllocated, out.allocationId, out.endpoint?.pod, out.endpoint?.state],
      [true, 'm-42', 'rooms-expose-pods-2', 'Free'],
    );
  });

  it('deallocate --allocation-id when no room holds it: one list, nothing written, wasAllocated false', async () => {
    const scope = mockReleaseLists(nock(FAKE_SERVER), { statefulSets: { items: [statefulSet()] } });
    // The room the id had is held by the next match now.
    allocatedList(scope, [allocatedTo(2, 'm-43')]);
    const out = await deallocate({ ...opts, allocationId: 'm-42' });
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    assert.deepEqual(out, { endpoint: null, wasAllocated: false, replaced: false, allocationId: 'm-42' });
  });

  it('a conflict re-reads the pod: given to the next match meanwhile, it is left alone (no second write)', async () => {
    const bodies: Patch[] = [];
    const scope = mockReleaseLists(nock(FAKE_SERVER), { statefulSets: { items: [statefulSet()] } });
    allocatedList(scope, [allocatedTo(1, 'm-42')]);
    scope.get('/api/v1/namespaces/game/pods/rooms-expose-pods-1').reply(200, allocatedTo(1, 'm-42', '201'));
    patchOf(scope, 1, bodies, () => conflict);
    scope.get('/api/v1/namespaces/game/pods/rooms-expose-pods-1').reply(200, allocatedTo(1, 'm-43', '203'));
    const out = await deallocate({ ...opts, allocationId: 'm-42' });
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    assert.deepEqual(
      bodies.map((b) => b.metadata.resourceVersion),
      ['201'],
    );
    assert.deepEqual([out.wasAllocated, out.endpoint], [false, null]);
  });

  it('a conflict re-reads the pod: still holding the id (the kubelet wrote its status), the write goes again at the new version', async () => {
    const bodies: Patch[] = [];
    const scope = mockReleaseLists(nock(FAKE_SERVER), { statefulSets: { items: [statefulSet()] } });
    allocatedList(scope, [allocatedTo(1, 'm-42')]);
    scope.get('/api/v1/namespaces/game/pods/rooms-expose-pods-1').reply(200, allocatedTo(1, 'm-42', '201'));
    patchOf(scope, 1, bodies, () => conflict);
    scope.get('/api/v1/namespaces/game/pods/rooms-expose-pods-1').reply(200, allocatedTo(1, 'm-42', '202'));
    patchOf(scope, 1, bodies, () => [200, pod(1)]);
    scope.get('/api/v1/namespaces/game/services/rooms-expose-pods-1').reply(200, service(1));
    scope.get('/api/v1/nodes/n0').reply(200, node);
    const out = await deallocate({ ...opts, allocationId: 'm-42' });
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    assert.deepEqual(
      bodies.map((b) => b.metadata.resourceVersion),
      ['201', '202'],
    );
    assert.deepEqual([out.wasAllocated, out.endpoint?.state], [true, 'Free']);
  });

  it('deallocate POD --allocation-id ends it only if that pod holds the id', async () => {
    // Holds another: nothing written (nock refuses a PATCH), its row returned.
    const other = deallocateReads(nock(FAKE_SERVER), allocatedTo(1, 'm-43'), 1);
    const kept = await deallocate({ ...opts, pod: 'rooms-expose-pods-1', allocationId: 'm-42' });
    assert.ok(other.isDone(), other.pendingMocks().join(', '));
    assert.deepEqual(
      [kept.wasAllocated, kept.endpoint?.state, kept.endpoint?.allocation?.id],
      [false, 'Allocated', 'm-43'],
    );
    // Holds it: the conditional write.
    const bodies: Patch[] = [];
    const mine = deallocateReads(nock(FAKE_SERVER), allocatedTo(1, 'm-42'), 1);
    patchOf(mine, 1, bodies, () => [200, pod(1)]);
    const ended = await deallocate({ ...opts, ordinal: 1, allocationId: 'm-42' });
    assert.ok(mine.isDone(), mine.pendingMocks().join(', '));
    assert.deepEqual(
      [bodies[0]?.metadata.resourceVersion, ended.wasAllocated, ended.endpoint?.state],
      ['101', true, 'Free'],
    );
  });

  it('by id, a room on an older revision under OnDelete is replaced after its allocation ends (a delete with preconditions)', async () => {
    const onDelete = {
      ...statefulSet(),
      spec: { ...statefulSet().spec, updateStrategy: { type: 'OnDelete' } },
      status: { updateRevision: 'rooms-new' },
    };
    const old = (p: ReturnType<typeof pod>) => ({
      ...p,
      metadata: { ...p.metadata, labels: { ...p.metadata.labels, 'controller-revision-hash': 'rooms-old' } },
    });
    const bodies: Patch[] = [];
    let deleted: unknown;
    const scope = mockReleaseLists(nock(FAKE_SERVER), { statefulSets: { items: [onDelete] } });
    allocatedList(scope, [allocatedTo(1, 'm-42')]);
    scope.get('/api/v1/namespaces/game/pods/rooms-expose-pods-1').reply(200, old(allocatedTo(1, 'm-42')));
    patchOf(scope, 1, bodies, () => [
      200,
      old({ ...pod(1), metadata: { ...pod(1).metadata, resourceVersion: '301' } }),
    ]);
    scope.delete('/api/v1/namespaces/game/pods/rooms-expose-pods-1').reply(200, (_u, body) => {
      deleted = typeof body === 'string' ? JSON.parse(body) : body;
      return pod(1);
    });
    scope.get('/api/v1/namespaces/game/services/rooms-expose-pods-1').reply(200, service(1));
    scope.get('/api/v1/nodes/n0').reply(200, node);
    const out = await deallocate({ ...opts, allocationId: 'm-42' });
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    assert.deepEqual(deleted, { preconditions: { uid: 'u1', resourceVersion: '301' } });
    assert.deepEqual([out.wasAllocated, out.replaced, out.endpoint?.status], [true, true, 'Terminating']);
  });
});

describe('what deallocate prints', () => {
  const row = (pod: string, state: Endpoint['state']) => ({ pod, state }) as Endpoint;
  const cases: [string, Deallocation, string | undefined][] = [
    [
      'ended by id: nothing to say',
      { endpoint: row('r-1', 'Free'), wasAllocated: true, replaced: false, allocationId: 'm-1' },
      undefined,
    ],
    [
      'by id, no room holds it',
      { endpoint: null, wasAllocated: false, replaced: false, allocationId: 'm-1' },
      'allocation m-1 had already ended: no room holds it; nothing to change',
    ],
    [
      'by id and pod, the room holds another',
      { endpoint: row('r-1', 'Allocated'), wasAllocated: false, replaced: false, allocationId: 'm-1' },
      'allocation m-1 had already ended: r-1 holds another allocation, or none; nothing to change',
    ],
    [
      'by pod, not allocated',
      { endpoint: row('r-1', 'Free'), wasAllocated: false, replaced: false },
      'r-1 was not allocated: nothing to change',
    ],
    ['by pod, ended', { endpoint: row('r-1', 'Free'), wasAllocated: true, replaced: false }, undefined],
    [
      'by id, a container restart had ended it: its leftover marks removed',
      {
        endpoint: row('r-1', 'Free'),
        wasAllocated: false,
        replaced: false,
        allocationId: 'm-1',
        ended: { id: 'm-1', allocatedAt: null, endedAt: '2026-12-07T06:00:00Z' },
      },
      'allocation m-1 had already ended (a container of r-1 restarted at 2026-12-07T06:00:00Z): its marks were removed',
    ],
    [
      'by pod, a container restart had ended it, time unknown',
      {
        endpoint: row('r-1', 'Free'),
        wasAllocated: false,
        replaced: false,
        ended: { id: null, allocatedAt: null, endedAt: null },
      },
      "r-1's allocation had already ended (a container of r-1 restarted): its marks were removed",
    ],
    [
      'replaced on the new revision',
      { endpoint: row('r-1', 'Free'), wasAllocated: true, replaced: true, allocationId: 'm-1' },
      'r-1 ran an older revision than its StatefulSet: it is being replaced on the new one, at the same address and port once Ready',
    ],
  ];
  for (const [name, d, want] of cases)
    it(`notice: ${name}`, () => {
      assert.equal(deallocationNotice(d), want);
    });
  it('by id with no room: -o name and the table print nothing, -o json says ended false with a null endpoint', () => {
    const printers = deallocationPrinters({ headers: true });
    const none = { allocationId: 'm-1', ended: false, endpoint: null };
    assert.equal(render(none, 'name', printers), '');
    assert.equal(render(none, 'table', printers), '');
    assert.deepEqual(JSON.parse(render(none, 'json', printers)), {
      allocationId: 'm-1',
      ended: false,
      endpoint: null,
    });
    const some = { allocationId: 'm-1', ended: true, endpoint: row('r-1', 'Free') };
    assert.equal(render(some, 'name', printers), 'pod/r-1\n');
    assert.equal(render(row('r-2', 'Free'), 'name', printers), 'pod/r-2\n');
  });
});
