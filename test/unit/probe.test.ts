import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';

import type { Endpoint } from '../../src/core/endpoints.js';
import { probeEndpoints, type Connect } from '../../src/core/probe.js';
import { tcpConnect } from '../../src/net/tcp.js';
import { formatEndpoints } from '../../src/output/endpoints.js';

const row = (ordinal: number, extra: Partial<Endpoint> = {}): Endpoint => ({
  ordinal,
  pod: `web-${ordinal}`,
  ready: true,
  status: 'Ready',
  node: 'n',
  podIP: '10.244.0.1',
  address: '127.0.0.1',
  addressType: 'InternalIP',
  port: 1,
  protocol: 'TCP',
  service: `web-${ordinal}`,
  serviceType: 'NodePort',
  dns: `web-${ordinal}.web.game.svc.cluster.local`,
  ...extra,
});

// Only loopback sockets: probing a node's real (here: documentation) address would leave the machine.
describe('tcpConnect on loopback', () => {
  let server: net.Server;
  let open = 0;
  let closed = 0;
  before(async () => {
    server = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    open = (server.address() as net.AddressInfo).port;
    const tmp = net.createServer();
    await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
    closed = (tmp.address() as net.AddressInfo).port;
    await new Promise((r) => tmp.close(r));
  });
  after(() => server.close());

  it('a listening port is reachable', async () =>
    assert.equal(await tcpConnect('127.0.0.1', open, 2000), 'reachable'));
  it('a closed port is refused (what kube-proxy does for a Service with no pod)', async () =>
    assert.equal(await tcpConnect('127.0.0.1', closed, 2000), 'refused'));

  it('probeEndpoints with the real connector, in row order', async () => {
    const rows = [row(0, { port: open }), row(1, { port: closed })];
    assert.deepEqual(await probeEndpoints(rows, tcpConnect, 2000), ['reachable', 'refused']);
  });
});

describe('probeEndpoints', () => {
  it('probes only Ready TCP endpoints; UDP and not-ready rows are marked, timeouts reported', async () => {
    const calls: string[] = [];
    const fake: Connect = (host, port) => {
      calls.push(`${host}:${port}`);
      return Promise.resolve('timeout');
    };
    const rows = [
      row(0, { address: '203.0.113.1', port: 30880 }),
      row(1, { protocol: 'UDP' }),
      row(2, { ready: false, status: 'NoPod', address: null, port: 30882 }),
    ];
    assert.deepEqual(await probeEndpoints(rows, fake, 100), [
      'timeout',
      'not probed (udp)',
      'not probed (not ready)',
    ]);
    assert.deepEqual(calls, ['203.0.113.1:30880']);
  });

  it('the table gets a PROBE column only when probed', () => {
    assert.doesNotMatch(formatEndpoints([row(0)], false), /PROBE/);
    const t = formatEndpoints([{ ...row(0), probe: 'refused' }], false);
    assert.match(t, /STATUS +PROBE$/m);
    assert.match(t, /Ready +refused$/m);
  });
});
