import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import nock from 'nock';

import { chartSelector, FAKE_SERVER, fakeKube, redisDeployment as chartRedis } from '../support/kube.js';

import { ExitCode } from '../../src/errors.js';
import { METADATA_ONLY_ACCEPT } from '../../src/kube/api.js';
import { KubeApiError } from '../../src/kube/errors.js';
import { readReleaseObjects } from '../../src/kube/reader.js';

const SERVER = FAKE_SERVER;
const kube = fakeKube;

const list = (items: unknown[] = []) => ({ apiVersion: 'v1', kind: 'List', metadata: {}, items });
const redisDeployment = chartRedis({
  secret: 'rooms-expose-pods-redis',
  claim: 'rooms-expose-pods-redis-data',
});

/** Every request `status` makes for a healthy release, each matched exactly: path, labelSelector, token. */
function expectAll(
  scope: nock.Scope,
  statefulSets: (i: nock.Interceptor) => nock.Scope = (i) =>
    i.reply(
      200,
      list([
        {
          metadata: { name: 'rooms-expose-pods' },
          spec: { replicas: 2 },
          status: { readyReplicas: 2, currentReplicas: 2 },
        },
      ]),
    ),
): nock.Scope {
  return (
    statefulSets(
      scope.get('/apis/apps/v1/namespaces/game/statefulsets').query({ labelSelector: chartSelector('room') }),
    )
      .get('/api/v1/namespaces/game/pods')
      .query({ labelSelector: chartSelector('room') })
      .reply(
        200,
        list([
          {
            metadata: { name: 'rooms-expose-pods-0' },
            spec: { nodeName: 'n1' },
            status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
          },
        ]),
      )
      .get('/api/v1/namespaces/game/services')
      .query({ labelSelector: chartSelector('pod-service') })
      .reply(
        200,
        list([
          {
            metadata: { name: 'rooms-expose-pods-0', namespace: 'game' },
            spec: {
              type: 'NodePort',
              selector: { 'statefulset.kubernetes.io/pod-name': 'rooms-expose-pods-0' },
              ports: [{ port: 8080, nodePort: 30880 }],
            },
          },
        ]),
      )
      .get('/apis/discovery.k8s.io/v1/namespaces/game/endpointslices')
      .query({ labelSelector: chartSelector('pod-service') })
      .reply(
        200,
        list([
          {
            metadata: { labels: { 'kubernetes.io/service-name': 'rooms-expose-pods-0' } },
            addressType: 'IPv4',
            endpoints: [{ addresses: ['10.244.0.1'], conditions: { ready: true }, nodeName: 'n1' }],
          },
        ]),
      )
      .get('/api/v1/nodes')
      .reply(
        200,
        list([
          {
            metadata: { name: 'n1' },
            status: { addresses: [{ type: 'ExternalIP', address: '203.0.113.1' }] },
          },
        ]),
      )
      .get('/apis/apps/v1/namespaces/game/deployments')
      .query({ labelSelector: chartSelector('redis') })
      .reply(200, list([redisDeployment]))
      .get('/api/v1/namespaces/game/pods')
      .query({ labelSelector: chartSelector('redis') })
      .reply(
        200,
        list([{ metadata: { name: 'r' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }]),
      )
      .get('/api/v1/services')
      .reply(200, list([]))
      .get('/api/v1/pods')
      .query({ fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' })
      .reply(200, list([{ metadata: { name: 'x' }, spec: { nodeName: 'n1' } }]))
      .get('/apis/networking.k8s.io/v1/servicecidrs')
      .reply(200, list([{ metadata: { name: 'kubernetes' }, spec: { cidrs: ['10.96.0.0/16'] } }]))
      .get('/apis/networking.k8s.io/v1/ipaddresses')
      // Counted by name (an IPAddress is named by its IP): metadata only.
      .matchHeader('accept', METADATA_ONLY_ACCEPT.list)
      .reply(200, list([{ metadata: { name: '10.96.0.1' } }, { metadata: { name: '10.96.0.10' } }]))
      .get('/api/v1/namespaces/game/secrets/rooms-expose-pods-redis')
      // Whether it exists, not what it holds: metadata only.
      .matchHeader('accept', METADATA_ONLY_ACCEPT.get)
      .reply(200, { metadata: { name: 'rooms-expose-pods-redis' } })
      .get('/api/v1/namespaces/game/persistentvolumeclaims/rooms-expose-pods-redis-data')
      .reply(200, { metadata: { name: 'rooms-expose-pods-redis-data' }, status: { phase: 'Bound' } })
  );
}

describe('readReleaseObjects (nock: the exact requests, and fault injection)', () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());

  it('finds everything by the chart labels, with the bearer token, and maps it to views', async () => {
    const scope = expectAll(nock(SERVER, { reqheaders: { authorization: 'Bearer secret-token' } }));
    const o = await readReleaseObjects(kube(), 'game', 'rooms');
    assert.ok(scope.isDone(), `not requested: ${scope.pendingMocks().join(', ')}`);
    assert.equal(o.statefulSet?.name, 'rooms-expose-pods');
    assert.deepEqual(
      o.pods.map((p) => [p.name, p.ready, p.nodeName]),
      [['rooms-expose-pods-0', true, 'n1']],
    );
    assert.equal(o.services[0]?.selectsPod, 'rooms-expose-pods-0');
    assert.deepEqual(o.endpoints, [
      { service: 'rooms-expose-pods-0', addresses: ['10.244.0.1'], ready: true, nodeName: 'n1' },
    ]);
    assert.deepEqual(o.redis, {
      podReady: true,
      pvc: { name: 'rooms-expose-pods-redis-data', phase: 'Bound' },
      pvcExpected: true,
      secretPresent: true,
      secretName: 'rooms-expose-pods-redis',
    });
    assert.deepEqual(o.cluster.allServices, []);
    assert.deepEqual([...(o.cluster.boundPerNode ?? [])], [['n1', 1]]);
    assert.deepEqual(o.cluster.serviceIPs, {
      cidrs: [{ name: 'kubernetes', cidrs: ['10.96.0.0/16'] }],
      addresses: ['10.96.0.1', '10.96.0.10'],
    });
  });

  it('a missing Secret is reported, not thrown', async () => {
    const scope = nock(SERVER);
    expectAll(scope);
    nock.removeInterceptor({
      hostname: 'k8s.test',
      port: 6443,
      proto: 'https',
      path: '/api/v1/namespaces/game/secrets/rooms-expose-pods-redis',
    });
    scope.get('/api/v1/namespaces/game/secrets/rooms-expose-pods-redis').reply(404, {
      kind: 'Status',
      reason: 'NotFound',
      message: 'secrets "rooms-expose-pods-redis" not found',
    });
    const o = await readReleaseObjects(kube(), 'game', 'rooms');
    assert.equal(o.redis?.secretPresent, false);
  });

  it('403 on the cluster-wide Service list skips the collision check', async () => {
    const scope = nock(SERVER);
    expectAll(scope);
    nock.removeInterceptor({ hostname: 'k8s.test', port: 6443, proto: 'https', path: '/api/v1/services' });
    scope
      .get('/api/v1/services')
      .reply(403, { kind: 'Status', reason: 'Forbidden', message: 'services is forbidden' });
    const o = await readReleaseObjects(kube(), 'game', 'rooms');
    assert.equal(o.cluster.allServices, undefined);
  });

  it('ServiceCIDRs: 404 (before Kubernetes 1.33) and 403 leave the ClusterIP budget unknown, with why; 403 on all pods leaves the slots unknown', async () => {
    for (const [code, why] of [
      [404, /they come with Kubernetes 1\.33/],
      [403, /not allowed to list servicecidrs and ipaddresses/],
    ] as const) {
      const scope = nock(SERVER);
      expectAll(scope);
      for (const path of ['/apis/networking.k8s.io/v1/servicecidrs', '/api/v1/pods'])
        nock.removeInterceptor({ hostname: 'k8s.test', port: 6443, proto: 'https', path });
      scope
        .get('/apis/networking.k8s.io/v1/servicecidrs')
        .reply(code, { kind: 'Status', code, reason: code === 404 ? 'NotFound' : 'Forbidden' })
        .get('/api/v1/pods')
        .query(true)
        .reply(403, { kind: 'Status', code: 403, reason: 'Forbidden' });
      const o = await readReleaseObjects(kube(), 'game', 'rooms');
      const ips = o.cluster.serviceIPs;
      assert.ok('unknown' in ips);
      assert.match(ips.unknown, why);
      assert.equal(o.cluster.boundPerNode, undefined);
      nock.cleanAll();
    }
  });

  const faults: {
    name: string;
    reply: (s: nock.Interceptor) => nock.Scope;
    code: number;
    message: RegExp;
  }[] = [
    {
      name: '401',
      reply: (i) => i.reply(401, { kind: 'Status', reason: 'Unauthorized', message: 'Unauthorized' }),
      code: ExitCode.CLUSTER_UNREACHABLE,
      message:
        /refused the credentials \(401 Unauthorized\) while trying to list statefulsets in namespace game/,
    },
    {
      name: '403 names the verb and resource',
      reply: (i) =>
        i.reply(
          403,
          JSON.stringify({
            kind: 'Status',
            reason: 'Forbidden',
            message: 'statefulsets.apps is forbidden: User "bob" cannot list resource "statefulsets"',
          }),
        ),
      code: ExitCode.FORBIDDEN,
      message:
        /^forbidden: you may not list statefulsets in namespace game \(403\): statefulsets\.apps is forbidden: User "bob"/,
    },
    {
      name: '404',
      reply: (i) =>
        i.reply(404, {
          kind: 'Status',
          reason: 'NotFound',
          message: 'the server could not find the requested resource',
        }),
      code: ExitCode.NOT_FOUND,
      message: /not found while trying to list statefulsets/,
    },
    {
      name: '409',
      reply: (i) =>
        i.reply(409, { kind: 'Status', reason: 'Conflict', message: 'the object has been modified' }),
      code: ExitCode.CONFLICT,
      message:
        /^conflict while trying to list statefulsets in namespace game \(409\): the object has been modified$/,
    },
    {
      name: '503',
      reply: (i) =>
        i.reply(503, { kind: 'Status', reason: 'ServiceUnavailable', message: 'apiserver is shutting down' }),
      code: ExitCode.ERROR,
      message: /answered 503 while trying to list statefulsets in namespace game: apiserver is shutting down/,
    },
    {
      name: '500',
      reply: (i) => i.reply(500, 'etcdserver: request timed out'),
      code: ExitCode.ERROR,
      message:
        /answered 500 while trying to list statefulsets in namespace game: etcdserver: request timed out/,
    },
  ];
  // Each test has its own API server name: the lists a failed read left in flight cannot take the next test's replies.
  let servers = 0;
  const fresh = () => `https://k8s-${++servers}.test:6443`;
  for (const f of faults) {
    it(`${f.name} becomes one KubeApiError with exit code ${f.code}`, async () => {
      // Only the StatefulSet list fails, so the error is deterministic.
      const server = fresh();
      expectAll(nock(server), f.reply);
      const err = await readReleaseObjects(kube(server), 'game', 'rooms').then(
        () => assert.fail('should have thrown'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof KubeApiError, String(err));
      assert.equal(err.exitCode, f.code);
      assert.match(err.message, f.message);
    });
  }

  it('an API server that does not answer hits --request-timeout: CLUSTER_UNREACHABLE, not a hang', async () => {
    const server = fresh();
    expectAll(nock(server), (i) => i.delay(5_000).reply(200, { items: [] }));
    const started = Date.now();
    const err = await readReleaseObjects(fakeKube(server, 200), 'game', 'rooms').then(
      () => assert.fail('should have thrown'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof KubeApiError, String(err));
    assert.equal(err.exitCode, ExitCode.CLUSTER_UNREACHABLE);
    assert.match(
      err.message,
      /did not answer in time while trying to list statefulsets in namespace game \(--request-timeout\)/,
    );
    assert.ok(Date.now() - started < 4_000, 'the timeout, not the server, ended the wait');
  });

  it('connection refused (a real closed port) is CLUSTER_UNREACHABLE, naming the server', async () => {
    nock.enableNetConnect('127.0.0.1');
    const err = await readReleaseObjects(kube('https://127.0.0.1:1'), 'game', 'rooms').then(
      () => assert.fail('should have thrown'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof KubeApiError);
    assert.equal(err.exitCode, ExitCode.CLUSTER_UNREACHABLE);
    assert.match(
      err.message,
      /^cannot reach the Kubernetes API server at https:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/,
    );
  });
});
