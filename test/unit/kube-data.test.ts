import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import nock from 'nock';

import { FAKE_SERVER, fakeKube } from '../support/kube.js';

import { ExitCode } from '../../src/errors.js';
import { deleteReleaseData, listReleaseData } from '../../src/kube/data.js';

const SERVER = FAKE_SERVER;
const kube = fakeKube;
const notFound = {
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  reason: 'NotFound',
  code: 404,
  message: 'not found',
};

describe('release data (nock: exact requests)', () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());

  it('lists PVCs by the instance label and only the chart-made Redis Secret', async () => {
    const scope = nock(SERVER)
      .get('/api/v1/namespaces/game/persistentvolumeclaims')
      .query({ labelSelector: 'app.kubernetes.io/instance=rooms' })
      .reply(200, { items: [{ metadata: { name: 'b' } }, { metadata: { name: 'a' } }] })
      .get('/api/v1/namespaces/game/secrets')
      .query({ labelSelector: 'app.kubernetes.io/instance=rooms,app.kubernetes.io/component=redis' })
      .reply(200, { items: [{ metadata: { name: 'rooms-expose-pods-redis' } }] });
    assert.deepEqual(await listReleaseData(kube(), 'game', 'rooms'), {
      pvcs: ['a', 'b'],
      secrets: ['rooms-expose-pods-redis'],
    });
    assert.ok(scope.isDone());
  });

  it('deletes each one; NotFound counts as deleted, so a re-run converges', async () => {
    const scope = nock(SERVER)
      .delete('/api/v1/namespaces/game/persistentvolumeclaims/a')
      .reply(200, { metadata: { name: 'a' } })
      .delete('/api/v1/namespaces/game/persistentvolumeclaims/b')
      .reply(404, notFound)
      .delete('/api/v1/namespaces/game/secrets/s')
      .reply(200, { kind: 'Status', status: 'Success' });
    await deleteReleaseData(kube(), 'game', { pvcs: ['a', 'b'], secrets: ['s'] });
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
  });

  it('403 on delete stops with FORBIDDEN naming the verb and resource', async () => {
    nock(SERVER).delete('/api/v1/namespaces/game/persistentvolumeclaims/a').reply(403, {
      kind: 'Status',
      reason: 'Forbidden',
      message: 'persistentvolumeclaims "a" is forbidden',
    });
    await assert.rejects(deleteReleaseData(kube(), 'game', { pvcs: ['a'], secrets: ['s'] }), (e: any) => {
      assert.equal(e.exitCode, ExitCode.FORBIDDEN);
      assert.match(
        e.message,
        /^forbidden: you may not delete persistentvolumeclaim a in namespace game \(403\)/,
      );
      return true;
    });
  });
});
