import assert from 'node:assert/strict';
import net from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';

import nock from 'nock';

import { ExitCode } from '../../src/errors.js';
import { requireReachable } from '../../src/ops/endpoints.js';
import { chartSelector, FAKE_SERVER, fakeKubeconfigFile } from '../support/kube.js';

/** Two rooms on one node whose address is loopback, at these nodePorts: the probes are real connections. */
function release(ports: [number, number]) {
  nock(FAKE_SERVER)
    .persist()
    .get('/apis/apps/v1/namespaces/game/statefulsets')
    .query({ labelSelector: chartSelector('room') })
    .reply(200, {
      items: [
        {
          metadata: { name: 'rooms-expose-pods' },
          spec: { replicas: 2, serviceName: 'rooms-expose-pods', selector: {}, template: {} },
        },
      ],
    })
    .get('/api/v1/namespaces/game/pods')
    .query({ labelSelector: chartSelector('room') })
    .reply(200, {
      items: [0, 1].map((i) => ({
        metadata: { name: `rooms-expose-pods-${i}` },
        spec: { nodeName: 'n0' },
        status: { phase: 'Running', podIP: `10.244.0.${i}`, conditions: [{ type: 'Ready', status: 'True' }] },
      })),
    })
    .get('/api/v1/namespaces/game/services')
    .query({ labelSelector: chartSelector('pod-service') })
    .reply(200, {
      items: [0, 1].map((i) => ({
        metadata: { name: `rooms-expose-pods-${i}`, namespace: 'game' },
        spec: {
          type: 'NodePort',
          selector: { 'statefulset.kubernetes.io/pod-name': `rooms-expose-pods-${i}` },
          ports: [{ port: 8080, nodePort: ports[i] }],
        },
      })),
    })
    .get('/api/v1/nodes')
    .reply(200, {
      items: [
        {
          metadata: { name: 'n0' },
          status: {
            conditions: [{ type: 'Ready', status: 'True' }],
            addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
          },
        },
      ],
    });
}

const listen = async (): Promise<net.Server> => {
  const s = net.createServer((c) => c.end());
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return s;
};
const portOf = (s: net.Server) => (s.address() as net.AddressInfo).port;

describe('--wait-reachable: requireReachable (nock for the API, real connections on loopback)', () => {
  const opts = { release: 'rooms', kubeconfig: fakeKubeconfigFile(), namespace: 'game' };
  let open: net.Server;
  let closedPort: number;
  before(async () => {
    nock.disableNetConnect();
    open = await listen();
    const closed = await listen();
    closedPort = portOf(closed);
    await new Promise((r) => closed.close(r));
  });
  after(() => {
    open.close();
    nock.enableNetConnect();
  });
  afterEach(() => nock.cleanAll());

  it('returns once every Ready room answers, with progress', async () => {
    release([portOf(open), portOf(open)]);
    const seen: string[] = [];
    assert.equal(await requireReachable(opts, '5s', (a, of) => seen.push(`${a}/${of}`)), 2);
    assert.deepEqual(seen, ['2/2']);
  });

  it('waits for a room that starts answering later (re-reading the endpoints each round)', async () => {
    const late = await listen();
    const port = portOf(late);
    await new Promise((r) => late.close(r));
    release([portOf(open), port]);
    const seen: string[] = [];
    const again = net.createServer((c) => c.end());
    try {
      const progress = (a: number, of: number) => {
        // The room starts answering after the first round found it silent.
        if (!seen.length) again.listen(port, '127.0.0.1');
        seen.push(`${a}/${of}`);
      };
      assert.equal(await requireReachable(opts, '10s', progress), 2);
    } finally {
      again.close();
    }
    assert.equal(seen[0], '1/2');
    assert.equal(seen.at(-1), '2/2');
  });

  it('a room that never answers: exit 10 naming it, its last verdict and where, with the next step', async () => {
    release([portOf(open), closedPort]);
    await assert.rejects(requireReachable(opts, '700ms'), (e: any) => {
      assert.equal(e.exitCode, ExitCode.TIMEOUT);
      assert.equal(
        e.message,
        `1 of 2 rooms did not answer from here within 700ms: rooms-expose-pods-1 (refused at 127.0.0.1:${closedPort})`,
      );
      assert.equal(
        e.hint,
        'The pods are Ready; see what answers where with: kubectl expose-pods endpoints rooms -n game --probe',
      );
      return true;
    });
  });
});
