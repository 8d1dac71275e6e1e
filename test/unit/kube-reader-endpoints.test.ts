import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import nock from 'nock';

import { resolveEndpointRows, DEFAULT_ADDRESS_TYPES, UNKNOWN_ADDRESS } from '../../src/core/endpoints.js';
import { ExitCode } from '../../src/errors.js';
import { readEndpointObjects } from '../../src/kube/reader.js';
import { readEndpoints, releaseEndpoints } from '../../src/ops/endpoints.js';
import { FAKE_SERVER, fakeKube, fakeKubeconfigFile, mockReleaseLists } from '../support/kube.js';

const N = 300;
const pods = Array.from({ length: N }, (_, i) => ({
  metadata: { name: `rooms-expose-pods-${i}` },
  spec: { nodeName: `n${i % 3}` },
  status: {
    phase: 'Running',
    podIP: `10.244.${Math.floor(i / 250)}.${i % 250}`,
    conditions: [{ type: 'Ready', status: 'True' }],
  },
}));
const services = Array.from({ length: N }, (_, i) => ({
  metadata: { name: `rooms-expose-pods-${i}`, namespace: 'game' },
  spec: {
    type: 'NodePort',
    selector: { 'statefulset.kubernetes.io/pod-name': `rooms-expose-pods-${i}` },
    ports: [{ port: 8080, nodePort: 30000 + i }],
  },
}));
const nodes = [0, 1, 2].map((i) => ({
  metadata: { name: `n${i}` },
  status: {
    conditions: [{ type: 'Ready', status: 'True' }],
    addresses: [{ type: 'ExternalIP', address: `203.0.113.${i}` }],
  },
}));

function lists(
  scope: nock.Scope,
  nodeReply: (i: nock.Interceptor) => nock.Scope = (i) => i.reply(200, { items: nodes }),
) {
  const statefulSet = {
    metadata: { name: 'rooms-expose-pods' },
    spec: { replicas: N, serviceName: 'rooms-expose-pods', selector: {}, template: {} },
  };
  mockReleaseLists(scope, {
    statefulSets: { items: [statefulSet] },
    roomPods: { items: pods },
    podServices: { items: services },
  });
  return nodeReply(scope.get('/api/v1/nodes'));
}

describe('readEndpointObjects (nock)', () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());

  it(`${N} replicas take exactly 4 list requests, by label selector; never one GET per pod`, async () => {
    let requests = 0;
    const scope = lists(nock(FAKE_SERVER));
    scope.on('request', () => requests++);
    const o = await readEndpointObjects(fakeKube(), 'game', 'rooms');
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    assert.equal(requests, 4);
    const rows = resolveEndpointRows({ ...o, addressTypes: DEFAULT_ADDRESS_TYPES });
    assert.equal(rows.length, N);
    assert.deepEqual(rows[299], {
      ...rows[299],
      status: 'Ready',
      node: 'n2',
      address: '203.0.113.2',
      port: 30299,
    });
  });

  it("kube-proxy's ConfigMap is read only when asked and only when a row shows an address that is not its node's primary one", async () => {
    const opts = { release: 'rooms', kubeconfig: fakeKubeconfigFile(), namespace: 'game' };
    // These nodes have an ExternalIP only: it is their primary address, so nothing to ask.
    let requests = 0;
    lists(nock(FAKE_SERVER)).on('request', () => requests++);
    assert.equal((await readEndpoints({ ...opts, checkNodePortScope: true })).scopeWarning, undefined);
    assert.equal(requests, 4);

    const withInternal = nodes.map((n, i) => ({
      ...n,
      status: {
        ...n.status,
        addresses: [...n.status.addresses, { type: 'InternalIP', address: `10.0.0.${i}` }],
      },
    }));
    requests = 0;
    const scope = lists(nock(FAKE_SERVER), (i) => i.reply(200, { items: withInternal }))
      .get('/api/v1/namespaces/kube-system/configmaps/kube-proxy')
      .reply(200, {
        data: {
          'config.conf':
            'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\n',
        },
      });
    scope.on('request', () => requests++);
    const { scopeWarning } = await readEndpoints({ ...opts, checkNodePortScope: true });
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    assert.equal(requests, 5, 'one GET more, whatever the replica count');
    assert.deepEqual(
      scopeWarning?.addresses.map((a) => [a.node, a.address, a.pods.length]),
      [
        ['n0', '203.0.113.0', 100],
        ['n1', '203.0.113.1', 100],
        ['n2', '203.0.113.2', 100],
      ],
    );

    requests = 0;
    lists(nock(FAKE_SERVER), (i) => i.reply(200, { items: withInternal })).on('request', () => requests++);
    assert.equal((await readEndpoints(opts)).scopeWarning, undefined);
    assert.equal(requests, 4, 'not asked: no request');
  });

  it('403 on nodes degrades to unknown addresses instead of failing', async () => {
    lists(nock(FAKE_SERVER), (i) =>
      i.reply(403, { kind: 'Status', reason: 'Forbidden', message: 'nodes is forbidden' }),
    );
    const o = await readEndpointObjects(fakeKube(), 'game', 'rooms');
    assert.equal(o.nodes, undefined);
    const rows = resolveEndpointRows({ ...o, addressTypes: DEFAULT_ADDRESS_TYPES });
    assert.ok(rows.every((r) => r.address === UNKNOWN_ADDRESS));
  });

  it('no StatefulSet for the release: NOT_FOUND with a next step', async () => {
    nock(FAKE_SERVER)
      .get('/apis/apps/v1/namespaces/game/statefulsets')
      .query(true)
      .reply(200, { items: [] })
      .get(/.*/)
      .query(true)
      .times(3)
      .reply(200, { items: [] });
    await assert.rejects(readEndpointObjects(fakeKube(), 'game', 'rooms'), (e: any) => {
      assert.equal(e.exitCode, ExitCode.NOT_FOUND);
      assert.match(e.message, /^release rooms has no StatefulSet in namespace game$/);
      assert.match(e.hint, /kubectl expose-pods status rooms -n game/);
      return true;
    });
  });

  it('403 on pods fails with FORBIDDEN naming the verb', async () => {
    nock(FAKE_SERVER)
      .get('/api/v1/namespaces/game/pods')
      .query(true)
      .reply(403, { kind: 'Status', reason: 'Forbidden', message: 'pods is forbidden' })
      .get(/.*/)
      .query(true)
      .times(3)
      .reply(200, { items: [] });
    await assert.rejects(readEndpointObjects(fakeKube(), 'game', 'rooms'), (e: any) => {
      assert.equal(e.exitCode, ExitCode.FORBIDDEN);
      assert.match(e.message, /^forbidden: you may not list pods in namespace game \(403\)/);
      return true;
    });
  });

  it('releaseEndpoints honours requestTimeout (--request-timeout): a silent API server is CLUSTER_UNREACHABLE', async () => {
    nock(FAKE_SERVER).get(/.*/).query(true).times(4).delay(2000).reply(200, { items: [] });
    await assert.rejects(
      releaseEndpoints({ release: 'rooms', kubeconfig: fakeKubeconfigFile(), requestTimeout: '100ms' }),
      (e: any) => {
        assert.equal(e.exitCode, ExitCode.CLUSTER_UNREACHABLE);
        assert.match(e.message, /did not answer in time/);
        return true;
      },
    );
  });
});
