import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import nock from 'nock';

import type { WatchClient } from '../../src/kube/reflector.js';
import { createAllocator } from '../../src/ops/allocator.js';
import { FAKE_SERVER, fakeKubeconfigFile, mockReleaseLists } from '../support/kube.js';

const kubeconfig = fakeKubeconfigFile();

const pod = (i: number, rv: string, labels: Record<string, string> = {}) => ({
  metadata: { name: `rooms-expose-pods-${i}`, namespace: 'game', resourceVersion: rv, labels },
  spec: { nodeName: 'n0' },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
});
const service = (i: number) => ({
  metadata: { name: `rooms-expose-pods-${i}`, namespace: 'game' },
  spec: {
    type: 'NodePort',
    selector: { 'statefulset.kubernetes.io/pod-name': `rooms-expose-pods-${i}` },
    ports: [{ port: 7777, nodePort: 30000 + i }],
  },
});
const node = {
  metadata: { name: 'n0' },
  status: {
    conditions: [{ type: 'Ready', status: 'True' }],
    addresses: [{ type: 'InternalIP', address: '198.51.100.1' }],
  },
};
const statefulSet = {
  metadata: { name: 'rooms-expose-pods', namespace: 'game' },
  spec: { replicas: 3, serviceName: 'rooms-expose-pods', selector: {}, template: {} },
};
const ALLOCATED = { 'expose-pods.io/state': 'Allocated' };

/** A watch client the test drives: it pushes events to whoever watches a path. */
function fakeWatcher() {
  const watchers = new Map<string, (phase: string, object: unknown) => void>();
  const watcher: WatchClient = {
    watch: (path, _query, callback) => {
      watchers.set(path, callback);
      return Promise.resolve(new AbortController());
    },
  };
  return {
    watcher,
    push: (path: string, phase: string, object: unknown) => watchers.get(path)?.(phase, object),
  };
}

describe('createAllocator (nock, a driven watch): one write per allocation, never the same room twice', () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());

  it('concurrent calls take distinct rooms, a room another allocator took (409) is skipped, and then exit 14', async () => {
    const scope = nock(FAKE_SERVER);
    mockReleaseLists(scope, {
      statefulSets: { items: [statefulSet], resourceVersion: '1' },
      roomPods: { items: [0, 1, 2].map((i) => pod(i, `10${i}`)), resourceVersion: '2' },
      podServices: { items: [0, 1, 2].map(service), resourceVersion: '3' },
    });
    scope.get('/api/v1/nodes').reply(200, { metadata: { resourceVersion: '4' }, items: [node] });
    const sent: string[] = [];
    // Exactly one PATCH per room: nock refuses a second one.
    scope
      .patch('/api/v1/namespaces/game/pods/rooms-expose-pods-0')
      .query({ fieldManager: 'kubectl-expose-pods' })
      .reply(409, { kind: 'Status', reason: 'Conflict', code: 409 });
    for (const i of [1, 2])
      scope
        .patch(`/api/v1/namespaces/game/pods/rooms-expose-pods-${i}`)
        .query({ fieldManager: 'kubectl-expose-pods' })
        .reply(200, (_uri, body) => {
          const patch = (typeof body === 'string' ? JSON.parse(body) : body) as {
            metadata: { resourceVersion: string };
          };
          sent.push(`${i}@${patch.metadata.resourceVersion}`);
          return pod(i, `20${i}`, ALLOCATED);
        });
    const { watcher, push } = fakeWatcher();
    const rooms = await createAllocator({ release: 'rooms', namespace: 'game', kubeconfig, watcher });
    try {
      const calls = Array.from({ length: 4 }, () =>
        rooms.allocate().then(
          (r) => r.pod,
          (e: unknown) => `exit ${String((e as { exitCode?: number }).exitCode)}`,
        ),
      );
      // The watches then show what happened: room 0 taken elsewhere, 1 and 2 by us.
      await new Promise((r) => setTimeout(r, 50));
      push('/api/v1/namespaces/game/pods', 'MODIFIED', pod(0, '300', ALLOCATED));
      for (const i of [1, 2]) push('/api/v1/namespaces/game/pods', 'MODIFIED', pod(i, `20${i}`, ALLOCATED));
      const got = await Promise.all(calls);
      assert.deepEqual(got.sort(), ['exit 14', 'exit 14', 'rooms-expose-pods-1', 'rooms-expose-pods-2']);
      assert.deepEqual(
        sent.sort(),
        ['1@101', '2@102'],
        'each write carries the resourceVersion the watch saw',
      );
      assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    } finally {
      rooms.close();
    }
  });
  it('a room at or above the watched spec.replicas (kubectl scale, an HPA) is never written: the next Free one below is, then exit 14', async () => {
    const scope = nock(FAKE_SERVER);
    mockReleaseLists(scope, {
      statefulSets: {
        items: [{ ...statefulSet, spec: { ...statefulSet.spec, replicas: 2 } }],
        resourceVersion: '1',
      },
      roomPods: { items: [pod(0, '100', ALLOCATED), pod(1, '101'), pod(2, '102')], resourceVersion: '2' },
      podServices: { items: [0, 1, 2].map(service), resourceVersion: '3' },
    });
    scope.get('/api/v1/nodes').reply(200, { metadata: { resourceVersion: '4' }, items: [node] });
    // One PATCH, of room 1; a PATCH of room 2 would find no mock and fail the call.
    scope
      .patch('/api/v1/namespaces/game/pods/rooms-expose-pods-1')
      .query({ fieldManager: 'kubectl-expose-pods' })
      .reply(200, pod(1, '201', ALLOCATED));
    const { watcher, push } = fakeWatcher();
    const rooms = await createAllocator({ release: 'rooms', namespace: 'game', kubeconfig, watcher });
    try {
      assert.equal((await rooms.allocate()).pod, 'rooms-expose-pods-1');
      push('/api/v1/namespaces/game/pods', 'MODIFIED', pod(1, '201', ALLOCATED));
      await assert.rejects(rooms.allocate(), (e: { exitCode?: number; message?: string }) => {
        assert.equal(e.exitCode, 14);
        assert.match(e.message ?? '', /3 rooms: 2 Allocated, 1 Draining/);
        return true;
      });
      assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    } finally {
      rooms.close();
    }
  });
});

const PODS = '/api/v1/namespaces/game/pods';
const ID = 'expose-pods.io/allocation-id';
const holding = (i: number, rv: string, id: string) => ({
  ...pod(i, rv, ALLOCATED),
  metadata: { ...pod(i, rv, ALLOCATED).metadata, annotations: { [ID]: id } },
});
type Body = { metadata: { resourceVersion: string; annotations: Record<string, string | null> } };
const parsed = (body: unknown) => (typeof body === 'string' ? JSON.parse(body) : body) as Body;

/** An allocator over three rooms (pods as given), through a driven watch; `sent` records each PATCH as `i@rv id`. */
async function allocatorOver(pods: unknown[]) {
  const scope = nock(FAKE_SERVER);
  mockReleaseLists(scope, {
    statefulSets: { items: [statefulSet], resourceVersion: '1' },
    roomPods: { items: pods, resourceVersion: '2' },
    podServices: { items: [0, 1, 2].map(service), resourceVersion: '3' },
  });
  scope.get('/api/v1/nodes').reply(200, { metadata: { resourceVersion: '4' }, items: [node] });
  const { watcher, push } = fakeWatcher();
  const rooms = await createAllocator({ release: 'rooms', namespace: 'game', kubeconfig, watcher });
  return { scope, push, rooms };
}

/** A PATCH of room i answered by `answer`, recording `i@rv id`. */
function patch(scope: nock.Scope, i: number, sent: string[], answer: (b: Body) => nock.ReplyFnResult) {
  scope
    .patch(`${PODS}/rooms-expose-pods-${i}`)
    .query({ fieldManager: 'kubectl-expose-pods' })
    .reply((_uri, body) => {
      const b = parsed(body);
      sent.push(`${i}@${b.metadata.resourceVersion} ${String(b.metadata.annotations[ID])}`);
      return answer(b);
    });
}

describe('createAllocator with allocation ids (nock, a driven watch)', () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());

  it('an id a room holds (as the watch shows it) returns that room, with no request', async () => {
    const { scope, rooms } = await allocatorOver([pod(0, '100'), holding(1, '101', 'm-42'), pod(2, '102')]);
    try {
      const room = await rooms.allocate({ allocationId: 'm-42' });
      assert.deepEqual(
        [room.pod, room.state, room.allocation?.id],
        ['rooms-expose-pods-1', 'Allocated', 'm-42'],
      );
      assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    } finally {
      rooms.close();
    }
  });

  it('concurrent calls with one id in one process: one write, the same room for both', async () => {
    const { scope, rooms } = await allocatorOver([pod(0, '100'), pod(1, '101'), pod(2, '102')]);
    const sent: string[] = [];
    patch(scope, 0, sent, () => [200, holding(0, '200', 'm-42')]);
    try {
      const got = await Promise.all([
        rooms.allocate({ allocationId: 'm-42' }),
        rooms.allocate({ allocationId: 'm-42' }),
      ]);
      assert.deepEqual(
        got.map((r) => r.pod),
        ['rooms-expose-pods-0', 'rooms-expose-pods-0'],
      );
      assert.deepEqual(sent, ['0@100 m-42']);
      assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    } finally {
      rooms.close();
    }
  });

  it('a write whose answer was lost but which landed: the retry with the same id asks the API server and gets that room', async () => {
    const { scope, rooms } = await allocatorOver([pod(0, '100'), pod(1, '101'), pod(2, '102')]);
    // The PATCH lands on the server, but the connection drops before the answer.
    scope
      .patch(`${PODS}/rooms-expose-pods-0`)
      .query(true)
      .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    // The watch has not shown it yet; the retry reads the pod, which holds the id.
    scope.get(`${PODS}/rooms-expose-pods-0`).reply(200, holding(0, '200', 'm-42'));
    try {
      await assert.rejects(rooms.allocate({ allocationId: 'm-42' }), /socket hang up/);
      const room = await rooms.allocate({ allocationId: 'm-42' });
      assert.deepEqual([room.pod, room.allocation?.id], ['rooms-expose-pods-0', 'm-42']);
      assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    } finally {
      rooms.close();
    }
  });

  it('a write whose answer was lost and which did not land: the retry reads the pod, sees no id, and allocates anew', async () => {
    const { scope, rooms } = await allocatorOver([pod(0, '100'), pod(1, '101'), pod(2, '102')]);
    const sent: string[] = [];
    scope
      .patch(`${PODS}/rooms-expose-pods-0`)
      .query(true)
      .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    scope.get(`${PODS}/rooms-expose-pods-0`).reply(200, pod(0, '100'));
    // The same room at the same version: had the lost write landed, this one would be refused (409).
    patch(scope, 0, sent, () => [200, holding(0, '200', 'm-42')]);
    try {
      await assert.rejects(rooms.allocate({ allocationId: 'm-42' }), /socket hang up/);
      const room = await rooms.allocate({ allocationId: 'm-42' });
      assert.deepEqual([room.pod, sent], ['rooms-expose-pods-0', ['0@100 m-42']]);
      assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    } finally {
      rooms.close();
    }
  });

  it('deallocate by id: the conditional write at the version the watch saw; a conflict re-reads, and the next match keeps its room', async () => {
    const { scope, push, rooms } = await allocatorOver([
      holding(0, '100', 'm-42'),
      pod(1, '101'),
      pod(2, '102'),
    ]);
    const sent: string[] = [];
    // The watch is behind: the room was freed and given to m-43 meanwhile.
    patch(scope, 0, sent, () => [409, { kind: 'Status', reason: 'Conflict', code: 409 }]);
    scope.get(`${PODS}/rooms-expose-pods-0`).reply(200, holding(0, '300', 'm-43'));
    try {
      const late = await rooms.deallocate('m-42');
      assert.deepEqual(sent, ['0@100 null']);
      assert.deepEqual([late.wasAllocated, late.endpoint], [false, null]);
      assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
      // Now it holds m-43 as the watch shows it: its row ends it, at that version.
      push(PODS, 'MODIFIED', holding(0, '300', 'm-43'));
      const row = await rooms.allocate({ allocationId: 'm-43' });
      patch(scope, 0, sent, () => [200, pod(0, '301')]);
      const ended = await rooms.deallocate(row);
      assert.deepEqual(sent, ['0@100 null', '0@300 null']);
      assert.deepEqual(
        [ended.wasAllocated, ended.allocationId, ended.endpoint?.state],
        [true, 'm-43', 'Free'],
      );
      assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    } finally {
      rooms.close();
    }
  });

  it('deallocate of an id the watch shows on no room lists the Allocated rooms (the watch may lag) and writes nothing when none holds it', async () => {
    const { scope, rooms } = await allocatorOver([pod(0, '100'), pod(1, '101'), pod(2, '102')]);
    scope
      .get(PODS)
      .query({
        labelSelector:
          'app.kubernetes.io/instance=rooms,app.kubernetes.io/component=room,expose-pods.io/state=Allocated',
      })
      .reply(200, { items: [holding(2, '102', 'm-43')] });
    try {
      const out = await rooms.deallocate('m-42');
      assert.deepEqual(out, { endpoint: null, wasAllocated: false, replaced: false, allocationId: 'm-42' });
      assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
      await assert.rejects(
        rooms.deallocate({ pod: 'rooms-expose-pods-1', allocation: null } as never),
        (e: { exitCode?: number }) => e.exitCode === 2,
      );
    } finally {
      rooms.close();
    }
  });

  it('after this process deallocated an id, the same id allocates a new room even while the watch still shows the old one', async () => {
    const { scope, rooms } = await allocatorOver([holding(0, '100', 'm-42'), pod(1, '101'), pod(2, '102')]);
    const sent: string[] = [];
    patch(scope, 0, sent, () => [200, pod(0, '200')]);
    patch(scope, 1, sent, () => [200, holding(1, '201', 'm-42')]);
    try {
      assert.equal((await rooms.deallocate('m-42')).wasAllocated, true);
      const room = await rooms.allocate({ allocationId: 'm-42' });
      assert.equal(room.pod, 'rooms-expose-pods-1');
      assert.deepEqual(sent, ['0@100 null', '1@101 m-42']);
      assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    } finally {
      rooms.close();
    }
  });
});
