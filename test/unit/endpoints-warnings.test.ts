import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import nock from 'nock';

import { selectRows, type Endpoint } from '../../src/core/endpoints.js';
import type { NodeView } from '../../src/core/model.js';
import {
  anyNonPrimary,
  nodePortScope,
  outOfScopeAddresses,
  parseKubeProxyConfig,
  primaryAddresses,
} from '../../src/core/nodeport-scope.js';
import { readKubeProxyConfig } from '../../src/kube/reader.js';
import {
  formatInternalOnly,
  formatMoves,
  formatScopeWarning,
  formatWatchEvent,
  formatWatchFrame,
} from '../../src/output/endpoints.js';
import { endpointRow } from '../support/fixtures.js';
import { FAKE_SERVER, fakeKube } from '../support/kube.js';

const node = (name: string, ...addresses: [string, string][]): NodeView => ({
  name,
  ready: true,
  addresses: addresses.map(([type, address]) => ({ type, address })),
});
const nodes = new Map(
  [
    node('cloud', ['InternalIP', '10.0.0.1'], ['ExternalIP', '203.0.113.1']),
    node('metal', ['ExternalIP', '203.0.113.2'], ['InternalIP', '10.0.0.2'], ['InternalIP', 'fd00::2']),
    node('internal', ['InternalIP', '10.0.0.3'], ['Hostname', 'internal']),
  ].map((n) => [n.name, n]),
);
const row = (ordinal: number, nodeName: string, address: string, addressType: string): Endpoint => ({
  ordinal,
  pod: `web-${ordinal}`,
  ready: true,
  status: 'Ready',
  node: nodeName,
  podIP: `10.244.0.${ordinal}`,
  address,
  addressType,
  port: 30000 + ordinal,
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
});
const config = (body: string) =>
  `apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n${body}`;

describe('where kube-proxy accepts NodePorts', () => {
  it('reads mode and nodePortAddresses; mode unset is iptables; not a KubeProxyConfiguration is undefined', () => {
    assert.deepEqual(parseKubeProxyConfig('kube-system/kube-proxy', config('mode: nftables\n')), {
      source: 'kube-system/kube-proxy',
      mode: 'nftables',
      nodePortAddresses: [],
    });
    assert.equal(parseKubeProxyConfig('s', config('mode: ""\nnodePortAddresses: null\n'))?.mode, 'iptables');
    assert.equal(parseKubeProxyConfig('s', 'kind: KubeletConfiguration\n'), undefined);
    assert.equal(parseKubeProxyConfig('s', 'mode: [unclosed'), undefined);
  });

  it('unset: every address in iptables and ipvs mode, the primary one in nftables mode; "primary" and CIDRs as given', () => {
    const scope = (mode: string, ...a: string[]) =>
      nodePortScope({ source: 's', mode, nodePortAddresses: a });
    assert.deepEqual(scope('iptables'), { kind: 'all' });
    assert.deepEqual(scope('ipvs'), { kind: 'all' });
    assert.deepEqual(scope('nftables'), { kind: 'primary' });
    assert.deepEqual(scope('iptables', 'primary'), { kind: 'primary' });
    assert.deepEqual(scope('nftables', '203.0.113.0/24'), { kind: 'cidrs', cidrs: ['203.0.113.0/24'] });
  });

  it("a node's primary address per family: its first InternalIP, else its first ExternalIP", () => {
    assert.deepEqual(primaryAddresses(nodes.get('metal')!), ['10.0.0.2', 'fd00::2']);
    assert.deepEqual(primaryAddresses(node('ext-only', ['ExternalIP', '203.0.113.9'])), ['203.0.113.9']);
  });

  it('names each shown address outside the scope once, with its rooms; DNS names and LoadBalancers are not judged', () => {
    const rows = [
      row(0, 'cloud', '203.0.113.1', 'ExternalIP'),
      row(1, 'metal', '203.0.113.2', 'ExternalIP'),
      row(2, 'metal', '203.0.113.2', 'ExternalIP'),
      row(3, 'internal', '10.0.0.3', 'InternalIP'),
      row(4, 'internal', 'internal', 'Hostname'),
      { ...row(5, 'cloud', '198.51.100.7', 'LoadBalancerIP'), serviceType: 'LoadBalancer' },
    ];
    assert.deepEqual(outOfScopeAddresses(rows, nodes, { kind: 'all' }), []);
    assert.deepEqual(outOfScopeAddresses(rows, nodes, { kind: 'primary' }), [
      {
        node: 'cloud',
        address: '203.0.113.1',
        addressType: 'ExternalIP',
        primary: ['10.0.0.1'],
        pods: ['web-0'],
      },
      {
        node: 'metal',
        address: '203.0.113.2',
        addressType: 'ExternalIP',
        primary: ['10.0.0.2', 'fd00::2'],
        pods: ['web-1', 'web-2'],
      },
    ]);
    assert.deepEqual(
      outOfScopeAddresses(rows, nodes, { kind: 'cidrs', cidrs: ['203.0.113.0/25', 'fd00::/8'] }).map(
        (a) => a.address,
      ),
      ['10.0.0.3'],
    );
    assert.equal(anyNonPrimary(rows, nodes), true);
    assert.equal(anyNonPrimary([rows[3]!, rows[4]!, rows[5]!], nodes), false);
  });

  it('the warning says the rule, the configuration, each address with its rooms, and what to do; at most five addresses', () => {
    const kubeProxy = { source: 'kube-system/kube-proxy', mode: 'nftables', nodePortAddresses: [] };
    const addresses = outOfScopeAddresses(
      [row(1, 'metal', '203.0.113.2', 'ExternalIP'), row(2, 'metal', '203.0.113.2', 'ExternalIP')],
      nodes,
      { kind: 'primary' },
    );
    assert.equal(
      formatScopeWarning({ kubeProxy, addresses }, new Set(['web-1', 'web-2'])),
      "kube-proxy (kube-system/kube-proxy: nftables, nodePortAddresses unset) accepts NodePorts only on each node's primary address, its first InternalIP, not on 203.0.113.2 (ExternalIP of metal, primary 10.0.0.2, fd00::2; 2 rooms): these answer only through a NAT (as a cloud's for an ExternalIP). Check with --probe, or choose --address-type InternalIP.",
    );
    assert.equal(
      formatScopeWarning({ kubeProxy, addresses }, new Set(['web-9'])),
      undefined,
      'rows not shown',
    );
    const many = Array.from({ length: 7 }, (_, i) => ({ ...addresses[0]!, address: `203.0.113.${i}` }));
    assert.match(
      formatScopeWarning({ kubeProxy, addresses: many }, new Set(['web-1']))!,
      /, and 2 more: these answer/,
    );
  });
});

describe('readKubeProxyConfig (nock)', () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());
  const cm = (key: string, text: string) => ({ metadata: { name: 'x' }, data: { [key]: text } });
  const kubeadm = '/api/v1/namespaces/kube-system/configmaps/kube-proxy';
  const eks = '/api/v1/namespaces/kube-system/configmaps/kube-proxy-config';

  it("kubeadm's ConfigMap: one GET", async () => {
    const scope = nock(FAKE_SERVER)
      .get(kubeadm)
      .reply(200, cm('config.conf', config('mode: nftables\n')));
    assert.equal((await readKubeProxyConfig(fakeKube()))?.mode, 'nftables');
    assert.ok(scope.isDone());
  });

  it("EKS's when kubeadm's is not found", async () => {
    const scope = nock(FAKE_SERVER)
      .get(kubeadm)
      .reply(404, { kind: 'Status', code: 404, reason: 'NotFound' })
      .get(eks)
      .reply(200, cm('config', config('mode: iptables\n')));
    assert.deepEqual(await readKubeProxyConfig(fakeKube()), {
      source: 'kube-system/kube-proxy-config',
      mode: 'iptables',
      nodePortAddresses: [],
    });
    assert.ok(scope.isDone());
  });

  it('unknown, never an error: neither published, RBAC 403, or a server error', async () => {
    nock(FAKE_SERVER).get(kubeadm).reply(404, {}).get(eks).reply(404, {});
    assert.equal(await readKubeProxyConfig(fakeKube()), undefined);
    const forbidden = nock(FAKE_SERVER).get(kubeadm).reply(403, { kind: 'Status', code: 403 });
    assert.equal(await readKubeProxyConfig(fakeKube()), undefined);
    assert.ok(forbidden.isDone(), 'a 403 asks no further');
    nock(FAKE_SERVER).get(kubeadm).reply(500, 'boom');
    assert.equal(await readKubeProxyConfig(fakeKube()), undefined);
  });
});

describe('endpoints warnings stay one short line at any size', () => {
  const rows = Array.from({ length: 1000 }, (_, n) => row(n, 'internal', '10.0.0.3', 'InternalIP'));

  it('only an internal address: names up to three rooms, summarises more by ordinal ranges', () => {
    assert.equal(
      formatInternalOnly(rows.slice(0, 1)),
      'web-0: only an internal address (InternalIP); clients outside the cluster usually cannot reach it',
    );
    assert.equal(
      formatInternalOnly(rows.slice(0, 3)),
      'web-0, web-1, web-2: only an internal address (InternalIP); clients outside the cluster usually cannot reach them',
    );
    assert.equal(
      formatInternalOnly([...rows.slice(0, 500), ...rows.slice(700)]),
      '800 rooms (ordinals 0–499, 700–999): only an internal address (InternalIP); clients outside the cluster usually cannot reach them',
    );
    assert.equal(formatInternalOnly([]), undefined);
  });

  it('addresses --probe moved: one line per pair of addresses, naming its rooms', () => {
    const move = (n: number, node: number) => ({
      pod: `web-${n}`,
      from: { address: `203.0.113.${node}`, type: 'ExternalIP', probe: 'refused' as const },
      to: { address: `10.0.0.${node}`, type: 'InternalIP' },
    });
    const moves = [...Array.from({ length: 400 }, (_, n) => move(n, 2)), move(400, 1)];
    const lines = formatMoves(moves, rows);
    assert.equal(lines.length, 2);
    assert.match(
      lines[0] ?? '',
      /^400 rooms \(ordinals 0–399\): 203\.0\.113\.2 \(ExternalIP\) refused, 10\.0\.0\.2 \(InternalIP\) answers: shown instead\. kube-proxy serves/,
    );
    assert.match(
      lines[1] ?? '',
      /^web-400: 203\.0\.113\.1 \(ExternalIP\) refused, 10\.0\.0\.1 \(InternalIP\) answers/,
    );
  });
});

describe('--watch output (output/endpoints.ts) and the one row filter', () => {
  const row = (ordinal: number, ready: boolean): Endpoint =>
    endpointRow('web', ordinal, { ready, status: ready ? 'Ready' : 'NotReady' });
  const where = { release: 'web', namespace: 'game', time: '2026-12-01T10:00:00.000Z' };

  it('selectRows: --ordinal and --ready-only, alone and together', () => {
    const rows = [row(0, true), row(1, false), row(2, true)];
    assert.deepEqual(
      selectRows(rows, {}).map((r) => r.ordinal),
      [0, 1, 2],
    );
    assert.deepEqual(
      selectRows(rows, { readyOnly: true }).map((r) => r.ordinal),
      [0, 2],
    );
    assert.deepEqual(selectRows(rows, { ordinal: 1, readyOnly: true }), []);
  });

  it('an event is one JSON line in the schemaVersion 1 envelope, or one YAML document', () => {
    const line = formatWatchEvent({ type: 'ADDED', endpoint: row(0, true) }, where, 'json');
    assert.ok(line.endsWith('\n'));
    assert.deepEqual(Object.keys(JSON.parse(line)), [
      'schemaVersion',
      'type',
      'time',
      'release',
      'namespace',
      'endpoint',
    ]);
    assert.match(
      formatWatchEvent({ type: 'DELETED', endpoint: row(0, true) }, where, 'yaml'),
      /^---\nschemaVersion: 1\ntype: DELETED\n/,
    );
  });

  it('a frame replaces the last on a terminal (clear screen), and follows it in a pipe', () => {
    const tty = formatWatchFrame([row(0, true)], where, { wide: false, tty: true });
    assert.ok(
      tty.startsWith(
        '\x1b[H\x1b[2Jrelease web in namespace game, 2026-12-01T10:00:00.000Z (Ctrl-C to stop)\n',
      ),
    );
    const pipe = formatWatchFrame([], where, { wide: false, tty: false });
    assert.equal(
      pipe,
      'release web in namespace game, 2026-12-01T10:00:00.000Z\nNo endpoints match (release web).\n\n',
    );
  });
});

describe('where kube-proxy accepts NodePorts: both sides (mutation testing)', () => {
  it('a configuration that does not parse, or is not a mapping, is unknown; odd addresses and modes are read safely', () => {
    assert.equal(parseKubeProxyConfig('x', 'kind: [unclosed'), undefined);
    assert.equal(parseKubeProxyConfig('x', ''), undefined);
    assert.equal(parseKubeProxyConfig('x', '5'), undefined);
    assert.equal(parseKubeProxyConfig('x', '"KubeProxyConfiguration"'), undefined);
    assert.deepEqual(
      parseKubeProxyConfig('x', config("mode: ''\nnodePortAddresses: ['', 5, '10.0.0.0/8']")),
      {
        source: 'x',
        mode: 'iptables',
        nodePortAddresses: ['10.0.0.0/8'],
      },
    );
    assert.deepEqual(parseKubeProxyConfig('x', config('mode: 5\nnodePortAddresses: primary')), {
      source: 'x',
      mode: 'iptables',
      nodePortAddresses: [],
    });
  });

  it('primary addresses come only from InternalIP and ExternalIP, one per family, an InternalIP first', () => {
    assert.deepEqual(primaryAddresses(node('n', ['Hostname', '10.9.9.9'], ['InternalDNS', 'n.local'])), []);
    assert.deepEqual(
      primaryAddresses(
        node('n', ['ExternalIP', '203.0.113.5'], ['InternalIP', 'fd00::5'], ['ExternalIP', 'fd00::6']),
      ),
      ['203.0.113.5', 'fd00::5'],
    );
    assert.deepEqual(primaryAddresses(node('n', ['InternalIP', 'fd00::7'])), ['fd00::7']);
  });

  it('CIDRs: a bare address or a name is no range; an IPv6 address is judged against IPv6 ranges; no primary list for a CIDR miss', () => {
    const rows = [row(0, 'metal', 'fd00::2', 'InternalIP'), row(1, 'cloud', '10.0.0.1', 'InternalIP')];
    assert.deepEqual(
      outOfScopeAddresses(rows, nodes, { kind: 'cidrs', cidrs: ['10.0.0.1', 'abc/8', 'fd00::/8'] }).map(
        (a) => [a.address, a.primary],
      ),
      [['10.0.0.1', []]],
    );
    assert.deepEqual(
      outOfScopeAddresses(rows, nodes, { kind: 'cidrs', cidrs: ['10.0.0.0/8'] }).map((a) => a.address),
      ['fd00::2'],
    );
    assert.deepEqual(outOfScopeAddresses(rows, nodes, { kind: 'primary' }), []);
  });
});
