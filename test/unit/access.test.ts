import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import nock from 'nock';

import { changeRequirements } from '../../src/core/permissions.js';
import { ExitCode } from '../../src/errors.js';
import { missingPermissions, requireChangePermissions } from '../../src/kube/access.js';
import { FAKE_SERVER, fakeKube } from '../support/kube.js';

const RULES = '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews';
const ACCESS = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';

/** What the default `rbac --release rooms` grants in the namespace: everything, the lock's Lease by name. */
const NARROWED = [
  {
    verbs: ['*'],
    apiGroups: ['', 'apps', 'discovery.k8s.io', 'policy', 'networking.k8s.io'],
    resources: ['*'],
  },
  { verbs: ['create'], apiGroups: ['coordination.k8s.io'], resources: ['leases'] },
  {
    verbs: ['get', 'update', 'delete'],
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    resourceNames: ['rooms-expose-pods-lock'],
  },
];

describe("the pre-check against a Role narrowed to the lock's Lease", () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());

  it('a change on the release the Role names has all it needs; on another, the lock is missing by name', async () => {
    const reviews: any[] = [];
    nock(FAKE_SERVER)
      .post(RULES)
      .times(2)
      .reply(201, (_u: string, b: any) => ({ ...b, status: { resourceRules: NARROWED, incomplete: false } }))
      .post(ACCESS)
      .times(6)
      .reply(
        201,
        (_u: string, b: any) => (reviews.push(b.spec.resourceAttributes), { status: { allowed: true } }),
      );
    assert.deepEqual(await missingPermissions(fakeKube(), 'game', changeRequirements('rooms')), []);
    const other = await missingPermissions(fakeKube(), 'game', changeRequirements('lobby'));
    assert.deepEqual(
      other.map((w) => `${w.verb} ${w.resource}/${w.name ?? '*'}`),
      [
        'get leases/lobby-expose-pods-lock',
        'update leases/lobby-expose-pods-lock',
        'delete leases/lobby-expose-pods-lock',
      ],
    );
    assert.deepEqual(
      reviews.map((r) => `${r.verb} ${r.resource}`),
      ['get nodes', 'list nodes', 'watch nodes', 'get nodes', 'list nodes', 'watch nodes'],
      'only the cluster-scoped ones are asked one by one',
    );
  });

  it('an incomplete rules review asks for the Lease by its name', async () => {
    const reviews: any[] = [];
    nock(FAKE_SERVER)
      .post(RULES)
      .reply(201, (_u: string, b: any) => ({ ...b, status: { resourceRules: [], incomplete: true } }))
      .post(ACCESS)
      .times(4)
      .reply(
        201,
        (_u: string, b: any) => (reviews.push(b.spec.resourceAttributes), { status: { allowed: true } }),
      );
    const lease = changeRequirements('rooms').filter((r) => r.resource === 'leases');
    assert.deepEqual(await missingPermissions(fakeKube(), 'game', lease), []);
    assert.deepEqual(reviews, [
      { verb: 'create', group: 'coordination.k8s.io', resource: 'leases', namespace: 'game' },
      ...['get', 'update', 'delete'].map((verb) => ({
        verb,
        group: 'coordination.k8s.io',
        resource: 'leases',
        name: 'rooms-expose-pods-lock',
        namespace: 'game',
      })),
    ]);
  });

  it('recover --out-of-service without patch on nodes: exit 6 naming it, and the rbac flag that grants it', async () => {
    nock(FAKE_SERVER)
      .post(RULES)
      .reply(201, (_u: string, b: any) => ({ ...b, status: { resourceRules: NARROWED, incomplete: false } }))
      .post(ACCESS)
      .reply(201, { status: { allowed: false } });
    await assert.rejects(
      requireChangePermissions(fakeKube(), 'game', 'rooms', [
        { apiGroup: '', resource: 'nodes', verb: 'patch', scope: 'cluster' },
      ]),
      (e: any) => {
        assert.equal(e.exitCode, ExitCode.FORBIDDEN);
        assert.equal(
          e.message,
          'forbidden: this change needs permissions you do not have, so nothing was changed: patch nodes cluster-wide',
        );
        assert.match(
          e.hint,
          /^Ask a cluster admin to grant them \(--out-of-service: a ClusterRole of its own, not granted by default\): kubectl expose-pods rbac -n game --release rooms --out-of-service --user NAME/,
        );
        return true;
      },
    );
  });
});
