import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import nock from 'nock';

import { FAKE_SERVER, fakeKube } from '../support/kube.js';

import { ExitCode } from '../../src/errors.js';
import { METADATA_ONLY_ACCEPT } from '../../src/kube/api.js';
import { deleteReleaseData } from '../../src/kube/writes.js';
import { listReleaseData } from '../../src/kube/reader.js';

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

  it('lists PVCs by the instance label, keeps only the chart-made ones, and only the chart-made Redis Secret', async () => {
    const chart = (component: string) => ({
      'app.kubernetes.io/name': 'expose-pods',
      'app.kubernetes.io/instance': 'rooms',
      'app.kubernetes.io/component': component,
    });
    const claims = [
      { metadata: { name: 'data-rooms-expose-pods-1', labels: chart('room') } },
      { metadata: { name: 'data-rooms-expose-pods-0', labels: chart('room') } },
      { metadata: { name: 'rooms-expose-pods-redis', labels: chart('redis') } },
      // Argo CD tracks by the same instance label: a user's claim, never the chart's.
      { metadata: { name: 'scores', labels: { 'app.kubernetes.io/instance': 'rooms' } } },
    ];
    const helmMade = { 'meta.helm.sh/release-name': 'rooms', 'meta.helm.sh/release-namespace': 'game' };
    const secrets = [
      { metadata: { name: 'rooms-expose-pods-redis', labels: chart('redis'), annotations: helmMade } },
      // A user's redis.auth.existingSecret, labelled like the chart's (copied from it): never the chart's.
      { metadata: { name: 'my-redis-password', labels: chart('redis') } },
      // Made by Helm for a release of the same name in another namespace, or another release.
      {
        metadata: {
          name: 'copied',
          labels: chart('redis'),
          annotations: { ...helmMade, 'meta.helm.sh/release-namespace': 'other' },
        },
      },
      {
        metadata: {
          name: 'other-release',
          labels: chart('redis'),
          annotations: { ...helmMade, 'meta.helm.sh/release-name': 'lobby' },
        },
      },
    ];
    const list = () =>
      nock(SERVER)
        .get('/api/v1/namespaces/game/persistentvolumeclaims')
        .query({ labelSelector: 'app.kubernetes.io/instance=rooms' })
        .reply(200, { items: claims })
        .get('/api/v1/namespaces/game/secrets')
        // Names only: the Redis password never reaches the plugin.
        .matchHeader('accept', METADATA_ONLY_ACCEPT.list)
        .query({ labelSelector: 'app.kubernetes.io/instance=rooms,app.kubernetes.io/component=redis' })
        .reply(200, { items: secrets });
    // The release is gone: by the chart's own labels.
    let scope = list();
    assert.deepEqual(await listReleaseData(kube(), 'game', 'rooms'), {
      pvcs: ['data-rooms-expose-pods-0', 'data-rooms-expose-pods-1', 'rooms-expose-pods-redis'],
      secrets: ['rooms-expose-pods-redis'],
    });
    assert.ok(scope.isDone());
    // The release exists: by name from its manifest (here without Redis persistence).
    scope = list();
    const manifest = {
      statefulSet: {
        name: 'rooms-expose-pods',
        replicas: 2,
        template: {},
        claimTemplates: ['data'],
        podManagementPolicy: 'OrderedReady',
        updateStrategy: 'OnDelete',
      },
      deployments: [],
      services: [],
      pvcs: [],
      secrets: ['rooms-expose-pods-redis'],
    };
    assert.deepEqual(await listReleaseData(kube(), 'game', 'rooms', manifest), {
      pvcs: ['data-rooms-expose-pods-0', 'data-rooms-expose-pods-1'],
      secrets: ['rooms-expose-pods-redis'],
    });
    assert.ok(scope.isDone());
    // The release uses an existingSecret: its manifest has no Secret, so none is the chart's.
    scope = list();
    assert.deepEqual(
      (await listReleaseData(kube(), 'game', 'rooms', { ...manifest, secrets: [] })).secrets,
      [],
    );
    assert.ok(scope.isDone());
  });

  it('no Secret: the metadata-only list answers items null, as the real API server does; that is none', async () => {
    const scope = nock(SERVER)
      .get('/api/v1/namespaces/game/persistentvolumeclaims')
      .query(true)
      .reply(200, { items: [] })
      .get('/api/v1/namespaces/game/secrets')
      .query(true)
      .reply(200, {
        kind: 'PartialObjectMetadataList',
        apiVersion: 'meta.k8s.io/v1',
        metadata: {},
        items: null,
      });
    assert.deepEqual(await listReleaseData(kube(), 'game', 'rooms'), { pvcs: [], secrets: [] });
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
