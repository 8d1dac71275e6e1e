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
