/**
 * One command run reads each thing once (kube/api.ts readOnce): the same list
 * asked twice, or by two readers at once, is one request, until a write
 * through the clients, a refresh, or the next poll of a wait. nock answers each
 * request once, so a second request of the same list fails the test.
 */
import assert from 'node:assert/strict';
import { afterEach, before, after, describe, it } from 'node:test';

import nock from 'nock';

import { chartSelector, FAKE_SERVER, fakeKube, mockReleaseLists } from '../support/kube.js';

import { mayWrite, pollReads, refreshReads } from '../../src/kube/api.js';
import { serverDryRun } from '../../src/kube/apply.js';
import { KubeApiError } from '../../src/kube/errors.js';
import {
  readBudgetObjects,
  readChangeObjects,
  readEndpointObjects,
  readProgressObjects,
  readRoomPods,
  readScaleObjects,
  releaseReader,
} from '../../src/kube/reader.js';
import { markPod } from '../../src/kube/writes.js';

const set = {
  metadata: { name: 'rooms-expose-pods' },
  spec: { replicas: 1, serviceName: 'rooms-expose-pods', template: { spec: { containers: [] } } },
};
const pod = {
  metadata: { name: 'rooms-expose-pods-0', uid: 'u0', resourceVersion: '7' },
  spec: { nodeName: 'n0' },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
};
const roomPods = (scope: nock.Scope, items: unknown[] = [pod]) =>
  mockReleaseLists(scope, { roomPods: { items } });

/** The budget's cluster-wide lists, each answered once. */
function budgetLists(scope: nock.Scope): nock.Scope {
  scope.get('/api/v1/nodes').reply(200, { items: [{ metadata: { name: 'n0' } }] });
  scope.get('/api/v1/services').reply(200, { items: [] });
  scope.get('/api/v1/pods').query(true).reply(200, { items: [] });
  scope.get('/apis/networking.k8s.io/v1/servicecidrs').reply(200, { items: [] });
  return scope.get('/apis/networking.k8s.io/v1/ipaddresses').reply(200, { items: [] });
}

describe('one command run reads each thing once (nock answers each request once)', () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());

  it("a scale's plan, its preview and the endpoint rows before the upgrade share the lists", async () => {
    const kube = fakeKube();
    const scope = nock(FAKE_SERVER);
    mockReleaseLists(scope, {
      statefulSets: { items: [set] },
      roomPods: { items: [pod] },
      podServices: { items: [] },
      claims: { items: [] },
    });
    budgetLists(scope);
    // As ops/scale.ts reads them: the plan, the preview's live objects, then the endpoint rows.
    const plan = await readScaleObjects(kube, 'game', 'rooms');
    const [change, rows] = await Promise.all([
      readChangeObjects(kube, 'game', 'rooms'),
      readEndpointObjects(kube, 'game', 'rooms'),
    ]);
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    assert.deepEqual(
      [plan.workload, plan.pods.length, change.pods.length, change.nodes.length, rows.nodes?.length],
      ['rooms-expose-pods', 1, 1, 1, 1],
    );
  });

  it('readers asking at once share the one request in flight', async () => {
    const kube = fakeKube();
    // Answered late, so the second reader asks while the first request is in flight.
    const scope = nock(FAKE_SERVER)
      .get('/api/v1/namespaces/game/pods')
      .query({ labelSelector: chartSelector('room') })
      .delay(20)
      .reply(200, { items: [pod] });
    const [a, b] = await Promise.all([
      releaseReader(kube, 'game', 'rooms').then((r) => r.roomPods()),
      releaseReader(kube, 'game', 'rooms').then((r) => r.roomPods()),
    ]);
    assert.ok(scope.isDone());
    assert.equal(a, b);
  });

  it('a write through the clients forgets what was read: the next read is sent again', async () => {
    const kube = fakeKube();
    const scope = roomPods(nock(FAKE_SERVER));
    scope.patch('/api/v1/namespaces/game/pods/rooms-expose-pods-0').query(true).reply(200, pod);
    roomPods(scope, []);
    const read = await releaseReader(kube, 'game', 'rooms');
    assert.equal((await read.roomPods()).items.length, 1);
    await markPod(
      kube,
      'game',
      { name: 'rooms-expose-pods-0', resourceVersion: '7' },
      { labels: { 'expose-pods.io/draining': 'true' }, annotations: {} },
      true,
    );
    assert.equal((await read.roomPods()).items.length, 0, 'the list after the write is the second answer');
    assert.ok(scope.isDone());
  });

  it('a server dry run writes nothing, so it forgets nothing', async () => {
    const kube = fakeKube();
    const scope = roomPods(nock(FAKE_SERVER));
    scope.get('/apis/apps/v1').reply(200, {
      kind: 'APIResourceList',
      groupVersion: 'apps/v1',
      resources: [{ name: 'statefulsets', namespaced: true, kind: 'StatefulSet', verbs: ['patch'] }],
    });
    scope
      .patch('/apis/apps/v1/namespaces/game/statefulsets/rooms-expose-pods')
      .query((q) => q.dryRun === 'All')
      .reply(200, set);
    const read = await releaseReader(kube, 'game', 'rooms');
    await read.roomPods();
    await serverDryRun(kube, [
      { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { ...set.metadata, namespace: 'game' } },
    ]);
    await read.roomPods();
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
  });

  it('a poll reads anew from its second round on; refreshReads (after helm writes) forgets all', async () => {
    const kube = fakeKube();
    const scope = mockReleaseLists(nock(FAKE_SERVER), {
      statefulSets: { items: [set] },
      roomPods: { items: [pod] },
    });
    // The plan read the rooms; a drain's first round uses that, nothing more is asked.
    assert.equal((await readRoomPods(kube, 'game', 'rooms')).pods.length, 1);
    const polls = pollReads(kube);
    polls.next();
    assert.equal((await readRoomPods(kube, 'game', 'rooms')).pods.length, 1);
    assert.ok(scope.isDone());
    // Its second round reads again.
    mockReleaseLists(scope, { statefulSets: { items: [set] }, roomPods: { items: [] } });
    polls.next();
    assert.equal((await readRoomPods(kube, 'game', 'rooms')).pods.length, 0);
    assert.ok(scope.isDone());
    budgetLists(scope);
    await readBudgetObjects(kube);
    refreshReads(kube);
    budgetLists(scope);
    await readBudgetObjects(kube);
    assert.ok(scope.isDone());
  });

  it("progress polls ask the API server's watch cache (resourceVersion=0), never etcd", async () => {
    const kube = fakeKube();
    const cached = (path: string, component: string, items: unknown[]) =>
      scope
        .get(path)
        .query({ labelSelector: chartSelector(component), resourceVersion: '0' })
        .reply(200, { items });
    const scope = nock(FAKE_SERVER);
    cached('/apis/apps/v1/namespaces/game/statefulsets', 'room', [set]);
    cached('/api/v1/namespaces/game/pods', 'room', [pod]);
    cached('/apis/apps/v1/namespaces/game/deployments', 'redis', []);
    cached('/api/v1/namespaces/game/pods', 'redis', []);
    assert.equal((await readProgressObjects(kube, 'game', 'rooms'))?.pods.length, 1);
    assert.ok(scope.isDone());
  });

  it('a failed read is not kept: the next asks again', async () => {
    const kube = fakeKube();
    const scope = nock(FAKE_SERVER)
      .get('/api/v1/namespaces/game/pods')
      .query({ labelSelector: chartSelector('room') })
      .reply(500, { kind: 'Status', message: 'etcd busy' });
    roomPods(scope);
    const read = await releaseReader(kube, 'game', 'rooms');
    await assert.rejects(read.roomPods(), KubeApiError);
    assert.equal((await read.roomPods()).items.length, 1);
    assert.ok(scope.isDone());
  });

  it('a fresh reader (a reflector relisting) and another command run never use what was kept', async () => {
    const kube = fakeKube();
    const scope = roomPods(roomPods(roomPods(nock(FAKE_SERVER))));
    await (await releaseReader(kube, 'game', 'rooms')).roomPods();
    await (await releaseReader(kube, 'game', 'rooms', { fresh: true })).roomPods();
    await (await releaseReader(fakeKube(), 'game', 'rooms')).roomPods();
    assert.ok(scope.isDone());
  });

  it('what counts as a write: anything but a GET, except a server dry run and a self-review', () => {
    const base = 'https://k8s.test:6443';
    const cases: [string, string, boolean][] = [
      ['GET', `${base}/api/v1/pods`, false],
      ['PATCH', `${base}/api/v1/namespaces/game/pods/p`, true],
      ['DELETE', `${base}/api/v1/namespaces/game/services/s`, true],
      ['PUT', `${base}/apis/apps/v1/namespaces/game/statefulsets/s/scale`, true],
      ['POST', `${base}/api/v1/namespaces/game/pods/p/eviction`, true],
      ['PATCH', `${base}/apis/apps/v1/namespaces/game/statefulsets/s?dryRun=All&fieldManager=x`, false],
      ['PATCH', `${base}/apis/apps/v1/namespaces/game/statefulsets/s?fieldManager=x&dryRun=All`, false],
      ['PATCH', `${base}/apis/apps/v1/namespaces/game/statefulsets/s?dryRun=Allx`, true],
      ['POST', `${base}/apis/authorization.k8s.io/v1/selfsubjectrulesreviews`, false],
      ['POST', `${base}/apis/authorization.k8s.io/v1/selfsubjectaccessreviews`, false],
    ];
    for (const [method, url, writes] of cases)
      assert.equal(mayWrite(method, url), writes, `${method} ${url}`);
  });
});
