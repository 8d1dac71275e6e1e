import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import nock from 'nock';

import { ExitCode } from '../../src/errors.js';
import { FIELD_MANAGER, serverDryRun } from '../../src/kube/apply.js';
import { FAKE_SERVER, fakeKube } from '../support/kube.js';

const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'rooms-expose-pods-0', namespace: 'game' },
  spec: { type: 'NodePort', ports: [{ port: 8080, nodePort: 30880 }] },
};
const testPod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'rooms-expose-pods-test', namespace: 'game', annotations: { 'helm.sh/hook': 'test' } },
};
const discovery = {
  kind: 'APIResourceList',
  groupVersion: 'v1',
  resources: [
    { name: 'services', singularName: 'service', namespaced: true, kind: 'Service', verbs: ['get', 'patch'] },
    { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'patch'] },
  ],
};

describe('serverDryRun (nock: the exact PATCH)', () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());

  it('server-side applies with dryRun=All, our fieldManager, force, and the apply Content-Type; hooks are skipped', async () => {
    let body: unknown;
    const scope = nock(FAKE_SERVER)
      .get('/api/v1')
      .reply(200, discovery)
      .patch('/api/v1/namespaces/game/services/rooms-expose-pods-0', (b: unknown) => {
        body = b;
        return true;
      })
      .query({ dryRun: 'All', fieldManager: FIELD_MANAGER, force: 'true' })
      .matchHeader('content-type', 'application/apply-patch+yaml')
      .reply(200, service);
    assert.equal(await serverDryRun(fakeKube(), [service, testPod]), 1);
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    assert.equal(FIELD_MANAGER, 'kubectl-expose-pods');
    assert.deepEqual(typeof body === 'string' ? JSON.parse(body) : body, service);
  });

  it('a 422 from admission (a nodePort already allocated) is INVALID_VALUES with the server message', async () => {
    nock(FAKE_SERVER)
      .get('/api/v1')
      .reply(200, discovery)
      .patch('/api/v1/namespaces/game/services/rooms-expose-pods-0')
      .query(true)
      .reply(422, {
        kind: 'Status',
        reason: 'Invalid',
        code: 422,
        message:
          'Service "rooms-expose-pods-0" is invalid: spec.ports[0].nodePort: Invalid value: 30880: provided port is already allocated',
      });
    await assert.rejects(serverDryRun(fakeKube(), [service]), (e: any) => {
      assert.equal(e.exitCode, ExitCode.INVALID_VALUES);
      assert.match(
        e.message,
        /^the API server rejected Service\/rooms-expose-pods-0: .*provided port is already allocated$/,
      );
      assert.match(e.hint, /Nothing was changed/);
      return true;
    });
  });

  it('many objects: discovery once, the rest in parallel, and the first failure in order is the one reported', async () => {
    const svc = (i: number) => ({
      ...service,
      metadata: { ...service.metadata, name: `rooms-expose-pods-${i}` },
    });
    const objects = Array.from({ length: 20 }, (_, i) => svc(i));
    const scope = nock(FAKE_SERVER).get('/api/v1').once().reply(200, discovery);
    for (let i = 0; i < 20; i++) {
      const path = `/api/v1/namespaces/game/services/rooms-expose-pods-${i}`;
      const interceptor = scope.patch(path).query(true);
      if (i === 7)
        interceptor
          .delay(50)
          .reply(422, { kind: 'Status', code: 422, message: `port of ${i} is already allocated` });
      else if (i === 12)
        interceptor.reply(422, { kind: 'Status', code: 422, message: `port of ${i} is already allocated` });
      else interceptor.reply(200, svc(i));
    }
    await assert.rejects(serverDryRun(fakeKube(), objects), (e: any) => {
      assert.match(
        e.message,
        /^the API server rejected Service\/rooms-expose-pods-7: port of 7 is already allocated$/,
      );
      return true;
    });
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
  });
});
