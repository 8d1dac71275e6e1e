import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import nock from 'nock';

import { ExitCode, ExposePodsError } from '../../src/errors.js';
import { spareRoomsInUse, undoDrainKept } from '../../src/ops/drain.js';
import { FAKE_SERVER, fakeKube, mockReleaseLists } from '../support/kube.js';

const W = 'rooms-expose-pods';
const ALLOCATED = { 'expose-pods.io/state': 'Allocated' };
const DRAINING = { 'expose-pods.io/draining': 'true' };

const pod = (i: number, labels: Record<string, string> = {}, rv = `10${i}`) => ({
  metadata: { name: `${W}-${i}`, resourceVersion: rv, uid: `u${i}`, labels, annotations: {} },
  spec: { nodeName: 'n0' },
  status: {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [{ name: 'room', restartCount: 0, ready: true, image: 'x', imageID: 'x' }],
  },
});
const statefulSet = {
  metadata: { name: W },
  spec: { replicas: 4, serviceName: W, selector: {}, template: {} },
};

/** What one round of the drain reads: the StatefulSet and the room pods. */
const round = (scope: nock.Scope, pods: unknown[]) =>
  mockReleaseLists(scope, { statefulSets: { items: [statefulSet] }, roomPods: { items: pods } });

/** nock hands a body it did not parse (merge-patch+json) as text. */
const asJson = (body: unknown): { metadata: { resourceVersion: string; labels: Record<string, unknown> } } =>
  (typeof body === 'string' ? JSON.parse(body) : body) as never;

describe('spareRoomsInUse with refuseInUse: the autoscaler never waits on a match', () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());

  it('a room in use among those removed refuses at once (exit 15), naming it, and writes nothing', async () => {
    const scope = round(nock(FAKE_SERVER), [pod(0), pod(1), pod(2), pod(3, ALLOCATED)]);
    await assert.rejects(
      spareRoomsInUse(fakeKube(), 'game', 'rooms', 2, {
        deleteInUse: false,
        refuseInUse: true,
        timeoutMs: 60_000,
      }),
      (e: unknown) => {
        assert.ok(e instanceof ExposePodsError);
        assert.equal(e.exitCode, ExitCode.ROOMS_IN_USE);
        assert.equal(
          e.message,
          `1 room(s) to be removed are in use (Allocated) now: ${W}-3; nothing was scaled`,
        );
        return true;
      },
    );
    // No PATCH was mocked: nock would have refused one. Every read was made.
    assert.ok(scope.isDone());
  });

  it('a room taken while the marks were written: its mark refused (409), the marks written are taken back', async () => {
    const patches: { name: string; rv: string; draining: unknown }[] = [];
    const scope = nock(FAKE_SERVER);
    round(scope, [pod(0), pod(1), pod(2), pod(3)]);
    const patch = (i: number, status: number, answer: (rv: string) => unknown) =>
      scope
        .patch(`/api/v1/namespaces/game/pods/${W}-${i}`)
        .query({ fieldManager: 'kubectl-expose-pods' })
        .reply((_uri, body) => {
          const b = asJson(body);
          patches.push({
            name: `${W}-${i}`,
            rv: b.metadata.resourceVersion,
            draining: b.metadata.labels['expose-pods.io/draining'],
          });
          return [status, answer(b.metadata.resourceVersion) as nock.Body];
        });
    // Highest first: room 3 is marked; room 2 was allocated a moment before its mark.
    patch(3, 200, () => pod(3, DRAINING, '201'));
    patch(2, 409, () => ({ kind: 'Status', reason: 'Conflict', message: 'the object has been modified' }));
    // The next round sees room 2 in use: refused, and room 3 returned to service.
    round(scope, [pod(0), pod(1), pod(2, ALLOCATED, '202'), pod(3, DRAINING, '201')]);
    scope.get(`/api/v1/namespaces/game/pods/${W}-3`).reply(200, pod(3, DRAINING, '201'));
    patch(3, 200, () => pod(3, {}, '203'));

    await assert.rejects(
      spareRoomsInUse(fakeKube(), 'game', 'rooms', 2, {
        deleteInUse: false,
        refuseInUse: true,
        timeoutMs: 60_000,
      }),
      { message: `1 room(s) to be removed are in use (Allocated) now: ${W}-2; nothing was scaled` },
    );
    assert.deepEqual(patches, [
      { name: `${W}-3`, rv: '103', draining: 'true' },
      { name: `${W}-2`, rv: '102', draining: 'true' },
      { name: `${W}-3`, rv: '201', draining: null },
    ]);
    assert.ok(scope.isDone());
  });

  it('without refuseInUse, the same room in use is waited for (marked Draining, and named to onWaiting)', async () => {
    const patches: string[] = [];
    const scope = round(nock(FAKE_SERVER), [pod(0), pod(1), pod(2), pod(3, ALLOCATED)]);
    for (const i of [3, 2])
      scope
        .patch(`/api/v1/namespaces/game/pods/${W}-${i}`)
        .query({ fieldManager: 'kubectl-expose-pods' })
        .reply(() => {
          patches.push(`${W}-${i}`);
          return [200, pod(i, { ...DRAINING, ...(i === 3 ? ALLOCATED : {}) }, `20${i}`)];
        });
    const waited: string[][] = [];
    await assert.rejects(
      spareRoomsInUse(fakeKube(), 'game', 'rooms', 2, {
        deleteInUse: false,
        timeoutMs: 0,
        onWaiting: (inUse) => waited.push(inUse),
      }),
      { message: `1 room(s) to be removed are still in use (Allocated): ${W}-3; nothing was scaled` },
    );
    assert.deepEqual(patches, [`${W}-3`, `${W}-2`]);
    assert.deepEqual(waited, [[`${W}-3`]]);
    assert.ok(scope.isDone());
  });
});

describe('undoDrainKept: a change that failed past its drain gives back only the rooms the StatefulSet keeps', () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());

  it('helm wrote 2 replicas before it failed: room 1 (kept) is unmarked on its resourceVersion; room 3 (being removed) keeps its mark', async () => {
    const scope = mockReleaseLists(nock(FAKE_SERVER), {
      statefulSets: { items: [{ ...statefulSet, spec: { ...statefulSet.spec, replicas: 2 } }] },
      roomPods: { items: [pod(0), pod(1, DRAINING, '301'), pod(3, DRAINING, '303')] },
    });
    const unmarked: ReturnType<typeof asJson>[] = [];
    scope
      .get(`/api/v1/namespaces/game/pods/${W}-1`)
      .reply(200, pod(1, DRAINING, '301'))
      .patch(`/api/v1/namespaces/game/pods/${W}-1`, (b) => (unmarked.push(asJson(b)), true))
      .query({ fieldManager: 'kubectl-expose-pods' })
      .reply(200, pod(1, {}, '302'));
    await undoDrainKept(fakeKube(), 'game', 'rooms', [`${W}-3`, `${W}-1`]);
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    assert.equal(unmarked.length, 1, 'one write: room 1');
    const [write] = unmarked;
    assert.ok(write);
    assert.equal(write.metadata.resourceVersion, '301');
    assert.equal(write.metadata.labels['expose-pods.io/draining'], null);
  });

  it('nothing marked: nothing read; the StatefulSet unreadable: no throw, no write, every mark left for the next change', async () => {
    const requests: string[] = [];
    const scope = nock(FAKE_SERVER)
      .persist()
      .get(/.*/)
      .reply((uri) => (requests.push(`GET ${uri}`), [500, { kind: 'Status', message: 'etcd down' }]))
      .patch(/.*/)
      .reply((uri) => (requests.push(`PATCH ${uri}`), [200, {}]));
    await undoDrainKept(fakeKube(), 'game', 'rooms', []);
    assert.equal(requests.join(), '', 'nothing read');
    await undoDrainKept(fakeKube(), 'game', 'rooms', [`${W}-1`]);
    assert.match(requests.join(), /^GET /, 'the StatefulSet read');
    assert.ok(
      requests.every((r) => r.startsWith('GET')),
      requests.join(', '),
    );
    scope.persist(false);
  });
});
