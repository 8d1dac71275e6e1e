import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';

import { UNKNOWN_ADDRESS, type Endpoint } from '../../src/core/endpoints.js';
import {
  CONTROL_PORT,
  interceptedAddresses,
  PROBE_DATAGRAM,
  probeEndpoints,
  probeWithFallback,
  type Connect,
  type SendDatagram,
} from '../../src/core/probe.js';
import { tcpConnect } from '../../src/net/tcp.js';
import { udpProbe } from '../../src/net/udp.js';
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
  state: 'Free',
  draining: false,
  cordoned: false,
  allocation: null,
  lastAllocation: null,
  revision: null,
  outdated: false,
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
    assert.deepEqual(await probeEndpoints(rows, { tcp: tcpConnect, udp: udpProbe }, 2000), [
      'reachable',
      'refused',
    ]);
  });
});

describe('udpProbe on loopback', () => {
  let echo: dgram.Socket;
  let silent: dgram.Socket;
  let closed = 0;
  const seen: string[] = [];
  const bind = async (s: dgram.Socket) => {
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    return s.address().port;
  };
  let echoPort = 0;
  let silentPort = 0;
  before(async () => {
    echo = dgram.createSocket('udp4');
    echo.on('message', (m, rinfo) => {
      seen.push(m.toString());
      echo.send('ok', rinfo.port, rinfo.address);
    });
    echoPort = await bind(echo);
    silent = dgram.createSocket('udp4');
    silentPort = await bind(silent);
    const tmp = dgram.createSocket('udp4');
    closed = await bind(tmp);
    await new Promise<void>((r) => tmp.close(r));
  });
  after(() => {
    echo.close();
    silent.close();
  });

  it('a server that answers is reachable, and it got the documented probe datagram', async () => {
    assert.equal(await udpProbe('127.0.0.1', echoPort, 2000), 'reachable');
    assert.deepEqual(seen, [PROBE_DATAGRAM]);
  });
  it('a closed port is refused (the ICMP port-unreachable)', async () =>
    assert.equal(await udpProbe('127.0.0.1', closed, 2000), 'refused'));
  it('a server that stays silent is open|filtered, never reachable', async () =>
    assert.equal(await udpProbe('127.0.0.1', silentPort, 300), 'open|filtered'));
  it('a name that does not resolve is an error, not a verdict', async () =>
    assert.match(await udpProbe('no-such-host.invalid', 7777, 300), /^error /));
});

describe('probeEndpoints', () => {
  const fakes = (tcp: Record<string, string>, udp: Record<string, string> = {}) => {
    const calls: string[] = [];
    const probers = {
      tcp: ((host, port) => {
        calls.push(`tcp ${host}:${port}`);
        return Promise.resolve(tcp[`${host}:${port}`] ?? 'timeout');
      }) as Connect,
      udp: ((host, port) => {
        calls.push(`udp ${host}:${port}`);
        return Promise.resolve(udp[`${host}:${port}`] ?? 'open|filtered');
      }) as SendDatagram,
    };
    return { calls, probers };
  };

  it('probes every row with an address and a port, ready or not; one control connection per TCP address', async () => {
    const { calls, probers } = fakes({ '203.0.113.1:30880': 'reachable', '203.0.113.2:30881': 'refused' });
    const rows = [
      row(0, { address: '203.0.113.1', port: 30880 }),
      row(1, { address: '203.0.113.2', port: 30881, ready: false, status: 'NotReady' }),
      row(2, { ready: false, status: 'NoPod', address: null, port: 30882 }),
      row(3, { address: '203.0.113.1', port: 30883, protocol: 'UDP' }),
    ];
    assert.deepEqual(await probeEndpoints(rows, probers, 100), [
      'reachable',
      'refused',
      'not probed (no address)',
      'open|filtered',
    ]);
    assert.deepEqual(calls.sort(), [
      `tcp 203.0.113.1:${CONTROL_PORT}`,
      'tcp 203.0.113.1:30880',
      `tcp 203.0.113.2:${CONTROL_PORT}`,
      'tcp 203.0.113.2:30881',
      'udp 203.0.113.1:30883',
    ]);
  });

  it('when the control port answers, every TCP verdict at that address is intercepted (UDP keeps its own)', async () => {
    const { probers } = fakes(
      {
        '203.0.113.1:30880': 'reachable',
        [`203.0.113.1:${CONTROL_PORT}`]: 'reachable',
        '203.0.113.2:30881': 'reachable',
      },
      { '203.0.113.1:30882': 'refused' },
    );
    const rows = [
      row(0, { address: '203.0.113.1', port: 30880 }),
      row(1, { address: '203.0.113.2', port: 30881 }),
      row(2, { address: '203.0.113.1', port: 30882, protocol: 'UDP' }),
    ];
    const probed = await probeEndpoints(rows, probers, 100);
    assert.deepEqual(probed, ['intercepted', 'reachable', 'refused']);
    assert.deepEqual(interceptedAddresses(rows.map((r, i) => ({ ...r, probe: probed[i] ?? 'timeout' }))), [
      '203.0.113.1',
    ]);
  });

  it('the table gets a PROBE column only when probed', () => {
    assert.doesNotMatch(formatEndpoints([row(0)], false), /PROBE/);
    const t = formatEndpoints([{ ...row(0), probe: 'refused' }], false);
    assert.match(t, /STATUS +STATE +PROBE$/m);
    assert.match(t, /Ready +Free +refused$/m);
  });

  it('--no-headers: the same rows without the header row, columns as wide as the rows need', () => {
    const rows = [row(0), { ...row(1), pod: 'a-much-longer-pod-name-1' }];
    const withHeaders = formatEndpoints(rows, false).split('\n');
    const without = formatEndpoints(rows, false, { headers: false }).split('\n');
    assert.match(withHeaders[0]!, /^POD +READY +NODE/);
    assert.equal(without.length, 2);
    assert.deepEqual(
      without.map((l) => l.split(/ {3,}/)[0]),
      rows.map((r) => r.pod),
    );
    assert.deepEqual(
      without.map((l) => l.split(/\s+/)),
      withHeaders.slice(1).map((l) => l.split(/\s+/)),
    );
  });
});

describe('probeWithFallback', () => {
  it('moves a serving row (Ready or Terminating) whose address refuses to the first other address of its node that answers', async () => {
    const tcp: Connect = (host, port) =>
      Promise.resolve(
        port === CONTROL_PORT
          ? 'refused'
          : host === '198.51.100.12'
            ? 'reachable'
            : ['203.0.113.12', '203.0.113.13'].includes(host)
              ? 'refused'
              : 'timeout',
      );
    const udp: SendDatagram = () => Promise.resolve('open|filtered');
    const rows = [
      row(0, { address: '203.0.113.12', addressType: 'ExternalIP', port: 30880 }),
      row(1, {
        address: '203.0.113.13',
        addressType: 'ExternalIP',
        port: 30881,
        ready: false,
        status: 'NotReady',
      }),
      row(2, { address: '203.0.113.14', addressType: 'ExternalIP', port: 30882 }),
      // Draining: not handed out, but kube-proxy still sends it the port, so it moves as a Ready row does.
      row(3, {
        address: '203.0.113.12',
        addressType: 'ExternalIP',
        port: 30883,
        ready: false,
        status: 'Terminating',
      }),
    ];
    const alternatives = new Map([
      [
        0,
        [
          { address: '203.0.113.12', type: 'ExternalIP' },
          { address: '10.0.0.9', type: 'InternalDNS' },
          { address: '198.51.100.12', type: 'InternalIP' },
        ],
      ],
      [1, [{ address: '198.51.100.12', type: 'InternalIP' }]],
      [2, [{ address: '198.51.100.14', type: 'InternalIP' }]],
      [3, [{ address: '198.51.100.12', type: 'InternalIP' }]],
    ]);
    const { rows: out, moves } = await probeWithFallback(rows, { tcp, udp }, 100, alternatives);
    assert.deepEqual(
      out.map((r) => [r.address, r.addressType, r.probe]),
      [
        ['198.51.100.12', 'InternalIP', 'reachable'],
        // Not Ready: its refusal is the answer, nothing else is tried.
        ['203.0.113.13', 'ExternalIP', 'refused'],
        // Nothing answers: the pick stays, with its verdict.
        ['203.0.113.14', 'ExternalIP', 'timeout'],
        ['198.51.100.12', 'InternalIP', 'reachable'],
      ],
    );
    assert.deepEqual(moves, [
      {
        pod: 'web-0',
        from: { address: '203.0.113.12', type: 'ExternalIP', probe: 'refused' },
        to: { address: '198.51.100.12', type: 'InternalIP' },
      },
      {
        pod: 'web-3',
        from: { address: '203.0.113.12', type: 'ExternalIP', probe: 'refused' },
        to: { address: '198.51.100.12', type: 'InternalIP' },
      },
    ]);
  });
});

describe('probeWithFallback: both sides (mutation testing)', () => {
  it('a UDP row is tried again over UDP; a reachable or intercepted row, or one without a port, is left alone; the same address is not tried twice', async () => {
    const calls: string[] = [];
    const tcp: Connect = (host, port) => {
      calls.push(`tcp ${host}:${port}`);
      return Promise.resolve(host === '203.0.113.30' && port !== CONTROL_PORT ? 'reachable' : 'refused');
    };
    const udp: SendDatagram = (host, port) => {
      calls.push(`udp ${host}:${port}`);
      return Promise.resolve(host === '198.51.100.20' ? 'reachable' : 'refused');
    };
    const rows = [
      row(0, { address: '203.0.113.20', addressType: 'ExternalIP', port: 30880, protocol: 'UDP' }),
      row(1, { address: '203.0.113.30', addressType: 'ExternalIP', port: 30881 }),
      row(2, { address: null, port: null, ready: true }),
    ];
    const alternatives = new Map([
      [
        0,
        [
          { address: '203.0.113.20', type: 'ExternalIP' },
          { address: '198.51.100.20', type: 'InternalIP' },
        ],
      ],
      [1, [{ address: '198.51.100.30', type: 'InternalIP' }]],
      [2, [{ address: '198.51.100.40', type: 'InternalIP' }]],
    ]);
    const { rows: out, moves } = await probeWithFallback(rows, { tcp, udp }, 100, alternatives);
    assert.deepEqual(
      out.map((r) => [r.address, r.probe]),
      [
        ['198.51.100.20', 'reachable'],
        ['203.0.113.30', 'reachable'],
        [null, 'not probed (no address)'],
      ],
    );
    assert.deepEqual(
      moves.map((m) => [m.pod, m.from.address, m.to.address]),
      [['web-0', '203.0.113.20', '198.51.100.20']],
    );
    assert.equal(calls.filter((c) => c === 'udp 203.0.113.20:30880').length, 1, 'the picked address once');
    assert.ok(
      !calls.some((c) => c.startsWith('tcp 198.51.100.30') || c.includes('198.51.100.40')),
      calls.join(),
    );
    assert.ok(!calls.some((c) => c === 'tcp 198.51.100.20:30880'), 'a UDP row is not tried over TCP');
  });

  it('the probe datagram is the documented one', () => {
    assert.equal(PROBE_DATAGRAM, 'kubectl-expose-pods probe\n');
  });
});

/** Probers that answer TCP with `answer` (UDP: open|filtered) and record every probe, as "tcp host:port". */
const recorder = (answer: (host: string, port: number) => string) => {
  const calls: string[] = [];
  const tcp: Connect = (host, port) => {
    calls.push(`tcp ${host}:${port}`);
    return Promise.resolve(answer(host, port) as Awaited<ReturnType<Connect>>);
  };
  const udp: SendDatagram = (host, port) => {
    calls.push(`udp ${host}:${port}`);
    return Promise.resolve('open|filtered');
  };
  return { calls, probers: { tcp, udp } };
};

describe('probing at the edges (mutation testing)', () => {
  it('a row whose address is unknown, or that has no port, is not probed at all', async () => {
    const { calls, probers } = recorder(() => 'reachable');
    const rows = [
      row(0, { address: UNKNOWN_ADDRESS, port: 30880 }),
      row(1, { address: '203.0.113.1', port: null }),
    ];
    assert.deepEqual(await probeEndpoints(rows, probers, 100), [
      'not probed (no address)',
      'not probed (no address)',
    ]);
    assert.deepEqual(calls, []);
  });

  it('two rows at one address: one control connection for both', async () => {
    const { calls, probers } = recorder(() => 'refused');
    const rows = [
      row(0, { address: '203.0.113.1', port: 30880 }),
      row(1, { address: '203.0.113.1', port: 30881 }),
    ];
    await probeEndpoints(rows, probers, 100);
    assert.equal(calls.filter((c) => c === `tcp 203.0.113.1:${CONTROL_PORT}`).length, 1, calls.join());
  });

  it("another address is tried on the row's own port; an intercepted row is left where it is", async () => {
    const { calls, probers } = recorder((host, port) =>
      host === '198.51.100.7' && port === 30880
        ? 'reachable'
        : host === '203.0.113.9' && port === CONTROL_PORT
          ? 'reachable'
          : 'refused',
    );
    const rows = [
      row(0, { address: '203.0.113.7', addressType: 'ExternalIP', port: 30880 }),
      row(1, { address: '203.0.113.9', addressType: 'ExternalIP', port: 30881 }),
    ];
    const alternatives = new Map([
      [0, [{ address: '198.51.100.7', type: 'InternalIP' }]],
      [1, [{ address: '198.51.100.9', type: 'InternalIP' }]],
    ]);
    const { rows: out } = await probeWithFallback(rows, probers, 100, alternatives);
    assert.deepEqual(
      out.map((r) => [r.address, r.probe]),
      [
        ['198.51.100.7', 'reachable'],
        ['203.0.113.9', 'intercepted'],
      ],
    );
    assert.ok(!calls.some((c) => c.startsWith('tcp 198.51.100.9')), calls.join());
  });

  it('a Ready row with no address of the wanted type moves to one of its node that answers, from nothing', async () => {
    const { probers } = recorder((host) => (host === '198.51.100.8' ? 'reachable' : 'refused'));
    const rows = [row(0, { address: null, addressType: null, status: 'NoAddress', port: 30880 })];
    const alternatives = new Map([[0, [{ address: '198.51.100.8', type: 'InternalIP' }]]]);
    const { moves } = await probeWithFallback(rows, probers, 100, alternatives);
    assert.deepEqual(moves, [
      {
        pod: 'web-0',
        from: { address: '', type: '', probe: 'not probed (no address)' },
        to: { address: '198.51.100.8', type: 'InternalIP' },
      },
    ]);
  });
});

describe('probing: no other address, and how many at once (mutation testing)', () => {
  it('a serving row whose ordinal has no other address keeps its verdict, and nothing else is probed', async () => {
    const { calls, probers } = recorder((host) => (host === '203.0.113.5' ? 'refused' : 'reachable'));
    const rows = [row(0, { address: '203.0.113.5', addressType: 'ExternalIP', port: 30880 })];
    // Another ordinal's address, which answers: not one for web-0.
    const alternatives = new Map([[1, [{ address: '198.51.100.5', type: 'InternalIP' }]]]);
    const { rows: out, moves } = await probeWithFallback(rows, probers, 100, alternatives);
    assert.deepEqual(
      out.map((r) => [r.address, r.addressType, r.probe]),
      [['203.0.113.5', 'ExternalIP', 'refused']],
    );
    assert.deepEqual(moves, []);
    assert.deepEqual(calls.sort(), [`tcp 203.0.113.5:${CONTROL_PORT}`, 'tcp 203.0.113.5:30880']);
  });

  it('at most 32 probes are in flight at once, however many rows; each of the others starts as one ends', async () => {
    // UDP rows: one probe each, no control connection. Each probe answers only when the test lets it.
    const answers: (() => void)[] = [];
    let inFlight = 0;
    let most = 0;
    const udp: SendDatagram = () =>
      new Promise((resolve) => {
        most = Math.max(most, ++inFlight);
        answers.push(() => {
          inFlight--;
          resolve('reachable');
        });
      });
    const tcp: Connect = () => Promise.resolve('refused');
    const rows = Array.from({ length: 40 }, (_, i) =>
      row(i, { address: `203.0.113.${i}`, port: 30000 + i, protocol: 'UDP' }),
    );
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    const probing = probeEndpoints(rows, { tcp, udp }, 100);
    await turn();
    assert.equal(inFlight, 32, 'the first 32 start; the other 8 wait');
    let answered = 0;
    for (let answer = answers.shift(); answer; answer = answers.shift()) {
      answer();
      answered++;
      await turn();
    }
    assert.equal(answered, 40);
    assert.equal(most, 32);
    assert.deepEqual(
      await probing,
      rows.map(() => 'reachable'),
    );
  });
});
