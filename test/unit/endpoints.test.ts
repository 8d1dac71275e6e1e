import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  candidateAddresses,
  DEFAULT_ADDRESS_TYPES,
  type EndpointsInput,
  hostPort,
  internalOnly,
  parseAddressTypes,
  resolveEndpointRows,
  selectRows,
  UNKNOWN_ADDRESS,
} from '../../src/core/endpoints.js';
import { diffEndpoints } from '../../src/core/endpoint-changes.js';
import { allocatable } from '../../src/core/rooms.js';
import { ordinalOf, type NodeView, type PodView, type ServiceView } from '../../src/core/model.js';
import { podService, roomPod } from '../support/fixtures.js';

const WL = 'web';
const pod = (n: number, extra: Partial<PodView> = {}): PodView =>
  roomPod(WL, n, { nodeName: 'ext', ...extra });
const svc = (n: number, extra: Partial<ServiceView> = {}): ServiceView => podService(WL, n, extra);
const NODES: NodeView[] = [
  {
    name: 'ext',
    ready: true,
    addresses: [
      { type: 'InternalIP', address: '198.51.100.1' },
      { type: 'ExternalIP', address: '203.0.113.1' },
      { type: 'Hostname', address: 'ext' },
    ],
  },
  { name: 'int', ready: true, addresses: [{ type: 'InternalIP', address: '198.51.100.2' }] },
  {
    name: 'dns',
    ready: true,
    addresses: [
      { type: 'ExternalDNS', address: 'n3.example.test' },
      { type: 'ExternalIP', address: '203.0.113.3' },
    ],
  },
  { name: 'host', ready: true, addresses: [{ type: 'Hostname', address: 'host' }] },
  { name: 'down', ready: false, addresses: [{ type: 'ExternalIP', address: '203.0.113.9' }] },
  {
    name: 'v6',
    ready: true,
    addresses: [
      { type: 'ExternalIP', address: '2001:db8::5' },
      { type: 'ExternalIP', address: '203.0.113.5' },
    ],
  },
];

function input(change: (i: EndpointsInput) => void = () => undefined): EndpointsInput {
  const i: EndpointsInput = {
    namespace: 'game',
    workload: WL,
    headless: WL,
    replicas: 1,
    pods: [pod(0)],
    services: [svc(0)],
    nodes: NODES,
    addressTypes: DEFAULT_ADDRESS_TYPES,
  };
  change(i);
  return i;
}
const row0 = (change: (i: EndpointsInput) => void) => resolveEndpointRows(input(change))[0]!;

describe('resolveEndpointRows: one row per ordinal with the address a client needs', () => {
  it('Ready: the hosting node ExternalIP and the pod nodePort, with DNS through the headless Service', () => {
    assert.deepEqual(resolveEndpointRows(input()), [
      {
        ordinal: 0,
        pod: 'web-0',
        ready: true,
        status: 'Ready',
        node: 'ext',
        podIP: '10.244.0.0',
        address: '203.0.113.1',
        addressType: 'ExternalIP',
        port: 30880,
        protocol: 'TCP',
        service: 'web-0',
        serviceType: 'NodePort',
        dns: 'web-0.web.game.svc.cluster.local',
        state: 'Free',
        draining: false,
        cordoned: false,
        allocation: null,
        lastAllocation: null,
        revision: null,
        outdated: false,
      },
    ]);
  });

  const statuses: {
    name: string;
    change: (i: EndpointsInput) => void;
    status: string;
    address?: string | null;
  }[] = [
    {
      name: 'NotReady: the pod exists but is not ready',
      change: (i) => (i.pods = [pod(0, { ready: false })]),
      status: 'NotReady',
    },
    {
      name: 'Terminating: the pod is going, on a Ready node',
      change: (i) => (i.pods = [pod(0, { terminating: true })]),
      status: 'Terminating',
    },
    {
      name: 'Pending: not scheduled yet',
      change: (i) => (i.pods = [pod(0, { nodeName: undefined, phase: 'Pending', ready: false })]),
      status: 'Pending',
    },
    {
      name: 'Pending: not created yet (ordinal below replicas)',
      change: (i) => (i.pods = []),
      status: 'Pending',
    },
    {
      name: 'NoPod: a Service beyond the replicas',
      change: (i) => ((i.pods = []), (i.replicas = 0)),
      status: 'NoPod',
    },
    {
      name: 'NoService: a pod without its Service (kubectl scale)',
      change: (i) => (i.services = []),
      status: 'NoService',
      address: null,
    },
    {
      name: 'NodeNotReady',
      change: (i) => (i.pods = [pod(0, { nodeName: 'down' })]),
      status: 'NodeNotReady',
    },
    {
      name: 'NodeNotReady: a pod stuck Terminating on a lost node (evicted, nothing confirms it stopped)',
      change: (i) => (i.pods = [pod(0, { nodeName: 'down', terminating: true, ready: false })]),
      status: 'NodeNotReady',
    },
    {
      name: 'NodeNotReady: the node disappeared',
      change: (i) => (i.pods = [pod(0, { nodeName: 'gone' })]),
      status: 'NodeNotReady',
      address: null,
    },
    {
      name: 'NoAddress: only a Hostname',
      change: (i) => (i.pods = [pod(0, { nodeName: 'host' })]),
      status: 'NoAddress',
      address: null,
    },
    {
      name: 'LBPending: a LoadBalancer without ingress',
      change: (i) => (i.services = [svc(0, { type: 'LoadBalancer' })]),
      status: 'LBPending',
      address: null,
    },
  ];
  for (const c of statuses) {
    it(c.name, () => {
      const r = row0(c.change);
      assert.equal(r.status, c.status);
      assert.equal(r.ready, false);
      if (c.address !== undefined) assert.equal(r.address, c.address);
    });
  }

  const addresses: {
    name: string;
    node: string;
    types?: string[];
    address: string | null;
    type: string | null;
  }[] = [
    { name: 'ExternalIP before InternalIP', node: 'ext', address: '203.0.113.1', type: 'ExternalIP' },
    { name: 'ExternalDNS first', node: 'dns', address: 'n3.example.test', type: 'ExternalDNS' },
    { name: 'falls back to InternalIP', node: 'int', address: '198.51.100.2', type: 'InternalIP' },
    {
      name: 'a custom order',
      node: 'ext',
      types: ['InternalIP', 'ExternalIP'],
      address: '198.51.100.1',
      type: 'InternalIP',
    },
    {
      name: 'Hostname when asked for',
      node: 'host',
      types: ['ExternalIP', 'Hostname'],
      address: 'host',
      type: 'Hostname',
    },
    {
      name: 'dual-stack: the first ExternalIP, IPv6 here',
      node: 'v6',
      address: '2001:db8::5',
      type: 'ExternalIP',
    },
  ];
  for (const c of addresses) {
    it(`address: ${c.name}`, () => {
      const r = row0((i) => {
        i.pods = [pod(0, { nodeName: c.node })];
        if (c.types) i.addressTypes = c.types;
      });
      assert.deepEqual([r.address, r.addressType, r.status], [c.address, c.type, 'Ready']);
    });
  }

  it('LoadBalancer with an IP or a hostname: the ingress and the Service port', () => {
    const ip = row0((i) => (i.services = [svc(0, { type: 'LoadBalancer', ingress: ['203.0.113.50'] })]));
    assert.deepEqual(
      [ip.address, ip.addressType, ip.port, ip.status],
      ['203.0.113.50', 'LoadBalancerIP', 8080, 'Ready'],
    );
    const host = row0(
      (i) => (i.services = [svc(0, { type: 'LoadBalancer', ingress: ['lb-1.elb.example.test'] })]),
    );
    assert.deepEqual(
      [host.address, host.addressType, host.port],
      ['lb-1.elb.example.test', 'LoadBalancerHostname', 8080],
    );
  });

  it('count > replicas: rows up to the highest Service; the extra ones are NoPod', () => {
    const rows = resolveEndpointRows(input((i) => (i.services = [svc(0), svc(1), svc(2)])));
    assert.deepEqual(
      rows.map((r) => r.status),
      ['Ready', 'NoPod', 'NoPod'],
    );
    assert.deepEqual(
      rows.map((r) => r.port),
      [30880, 30881, 30882],
    );
  });

  it('replicas above pods and Services: Pending rows for the ordinals still to come', () => {
    assert.deepEqual(
      resolveEndpointRows(input((i) => (i.replicas = 3))).map((r) => r.status),
      ['Ready', 'Pending', 'Pending'],
    );
  });

  it('nodes not visible (RBAC): the address is unknown, the pod status still shown', () => {
    const r = row0((i) => (i.nodes = undefined));
    assert.deepEqual([r.address, r.addressType, r.status], [UNKNOWN_ADDRESS, null, 'Ready']);
    assert.equal(hostPort(r), undefined);
  });

  it('objects of other workloads are ignored', () => {
    const rows = resolveEndpointRows(input((i) => i.pods.push({ ...pod(0), name: 'webby-1' })));
    assert.equal(rows.length, 1);
  });
});

describe('hostPort, internalOnly, parseAddressTypes', () => {
  it('host:port for Ready rows only, IPv6 in brackets', () => {
    assert.equal(hostPort(row0(() => undefined)), '203.0.113.1:30880');
    assert.equal(hostPort(row0((i) => (i.pods = [pod(0, { nodeName: 'v6' })]))), '[2001:db8::5]:30880');
    assert.equal(hostPort(row0((i) => (i.pods = [pod(0, { ready: false })]))), undefined);
  });
  it('flags Ready rows reachable only on an internal address', () => {
    const rows = resolveEndpointRows(
      input((i) => ((i.pods = [pod(0), pod(1, { nodeName: 'int' })]), (i.services = [svc(0), svc(1)]))),
    );
    assert.deepEqual(
      internalOnly(rows).map((r) => r.pod),
      ['web-1'],
    );
  });
  it('parses an ordered list and names the valid types on error', () => {
    assert.deepEqual(parseAddressTypes('InternalIP, ExternalIP'), ['InternalIP', 'ExternalIP']);
    assert.match(
      parseAddressTypes('ExternalIP,Public') as string,
      /use a comma-separated list of ExternalDNS, ExternalIP/,
    );
    assert.equal(typeof parseAddressTypes(''), 'string');
  });
});

describe('selectRows and candidateAddresses: the filters --ordinal, --ready-only and --probe use', () => {
  const rows = [0, 1, 2].map(
    (n) =>
      resolveEndpointRows(
        input((i) => {
          i.replicas = 3;
          i.pods = [pod(0), pod(1), pod(2, { ready: false })];
          i.services = [svc(0), svc(1), svc(2)];
        }),
      )[n]!,
  );
  it('--ordinal keeps that row alone, Ready or not; --ready-only keeps the Ready ones; both combine', () => {
    assert.deepEqual(
      selectRows(rows, { ordinal: 1 }).map((r) => r.ordinal),
      [1],
    );
    assert.deepEqual(
      selectRows(rows, { ordinal: 2 }).map((r) => r.ordinal),
      [2],
    );
    assert.deepEqual(
      selectRows(rows, { readyOnly: true }).map((r) => r.ordinal),
      [0, 1],
    );
    assert.deepEqual(
      selectRows(rows, { ordinal: 1, readyOnly: true }).map((r) => r.ordinal),
      [1],
    );
    assert.deepEqual(selectRows(rows, { ordinal: 2, readyOnly: true }), []);
    assert.deepEqual(
      selectRows(rows, {}).map((r) => r.ordinal),
      [0, 1, 2],
    );
  });
  it('candidateAddresses: every address of a wanted type, in the preference order, others left out', () => {
    const node: NodeView = {
      name: 'm',
      ready: true,
      addresses: [
        { type: 'InternalIP', address: '10.0.0.1' },
        { type: 'ExternalIP', address: '203.0.113.1' },
        { type: 'Hostname', address: 'm' },
        { type: 'InternalIP', address: 'fd00::1' },
        { type: 'ExternalIP', address: '203.0.113.2' },
      ],
    };
    assert.deepEqual(candidateAddresses(node, ['ExternalIP', 'InternalIP']), [
      { address: '203.0.113.1', type: 'ExternalIP' },
      { address: '203.0.113.2', type: 'ExternalIP' },
      { address: '10.0.0.1', type: 'InternalIP' },
      { address: 'fd00::1', type: 'InternalIP' },
    ]);
    assert.deepEqual(candidateAddresses(node, ['InternalDNS']), []);
  });
});

describe('endpoints: both sides (mutation testing)', () => {
  it('a Service that selects no pod by name (selector changed by hand) is no Service for the row', () => {
    const r = row0((i) => {
      i.services = [svc(0, { selectsPod: undefined })];
    });
    assert.deepEqual([r.status, r.service, r.ready], ['NoService', null, false]);
  });

  it('a LoadBalancer ingress: an IPv4 or IPv6 address is an IP, a name (even one ending in digits) a hostname', () => {
    const lb = (ingress: string) =>
      row0((i) => {
        i.services = [svc(0, { type: 'LoadBalancer', ingress: [ingress] })];
      });
    assert.equal(lb('203.0.113.7').addressType, 'LoadBalancerIP');
    assert.equal(lb('2001:db8::7').addressType, 'LoadBalancerIP');
    assert.equal(lb('a1.lb.example.test').addressType, 'LoadBalancerHostname');
    assert.equal(lb('lb-203.0.113.7').addressType, 'LoadBalancerHostname');
    assert.equal(lb('203.0.113.7.nip.example').addressType, 'LoadBalancerHostname');
  });

  it('a pod without a node: Pending, and no address even when nodes cannot be listed', () => {
    const r = row0((i) => {
      i.pods = [pod(0, { nodeName: undefined })];
      i.nodes = undefined;
    });
    assert.deepEqual([r.status, r.address], ['Pending', null]);
  });

  it('NoAddress only when nodes were listed and the node has no address of the wanted type', () => {
    const none = row0((i) => {
      i.addressTypes = ['ExternalDNS'];
    });
    assert.deepEqual([none.status, none.address], ['NoAddress', null]);
    const unlisted = row0((i) => {
      i.nodes = undefined;
    });
    assert.deepEqual([unlisted.status, unlisted.address], ['Ready', UNKNOWN_ADDRESS]);
  });

  it('a row without a pod or a Service yet is not ready and Pending', () => {
    const r = resolveEndpointRows(
      input((i) => {
        i.replicas = 2;
      }),
    )[1]!;
    assert.deepEqual([r.ready, r.status], [false, 'Pending']);
  });

  it('internalOnly: Ready rows with an InternalIP, InternalDNS or Hostname address only', () => {
    const rows = [
      { ...row0(() => undefined), addressType: 'InternalIP' },
      { ...row0(() => undefined), addressType: 'InternalDNS' },
      { ...row0(() => undefined), addressType: 'Hostname' },
      { ...row0(() => undefined), addressType: 'ExternalIP' },
      { ...row0(() => undefined), addressType: null },
      { ...row0(() => undefined), addressType: 'InternalIP', ready: false },
    ];
    assert.deepEqual(
      internalOnly(rows).map((r) => r.addressType),
      ['InternalIP', 'InternalDNS', 'Hostname'],
    );
  });

  it('hostPort: only for a ready row with an address and a port; brackets around IPv6', () => {
    const r = row0(() => undefined);
    assert.equal(hostPort(r), `203.0.113.1:${r.port}`);
    assert.equal(hostPort({ ...r, address: '2001:db8::5' }), `[2001:db8::5]:${r.port}`);
    assert.equal(hostPort({ ...r, ready: false }), undefined);
    assert.equal(hostPort({ ...r, address: null }), undefined);
    assert.equal(hostPort({ ...r, port: null }), undefined);
    assert.equal(hostPort({ ...r, address: UNKNOWN_ADDRESS }), undefined);
  });

  it('parseAddressTypes: trimmed, in the order given; empty items dropped; an unknown type or nothing is refused', () => {
    assert.deepEqual(parseAddressTypes(' InternalIP , ExternalIP,'), ['InternalIP', 'ExternalIP']);
    assert.match(
      parseAddressTypes('InternalIP,Public') as string,
      /^--address-type InternalIP,Public: use a comma-separated list of /,
    );
    assert.match(parseAddressTypes(' , ') as string, /^--address-type {2}, : use a comma-separated list/);
  });
});

describe('diffEndpoints and ordinalOf: both sides (mutation testing)', () => {
  const r = (n: number, extra: Partial<ReturnType<typeof row0>> = {}) => ({
    ...row0(() => undefined),
    ordinal: n,
    pod: `web-${n}`,
    ...extra,
  });
  it('changes come in ordinal order whatever the input order; equal rows, allocation included, are no change', () => {
    const before = [
      r(10),
      r(2),
      r(1, { allocation: { id: 'k', allocatedAt: 't', metadata: { m: '1' }, stale: false } }),
    ];
    const after = [
      r(1, { allocation: { id: 'k', allocatedAt: 't', metadata: { m: '1' }, stale: false } }),
      r(10, { status: 'NotReady', ready: false }),
      r(3),
    ];
    assert.deepEqual(
      diffEndpoints(before, after).map((c) => [c.type, c.endpoint.ordinal]),
      [
        ['DELETED', 2],
        ['ADDED', 3],
        ['MODIFIED', 10],
      ],
    );
    assert.deepEqual(diffEndpoints([r(1)], [r(1)]), []);
  });

  it('ordinalOf: only <base>-<n> with no leading zero', () => {
    assert.equal(ordinalOf('web-3', 'web'), 3);
    assert.equal(ordinalOf('web-0', 'web'), 0);
    assert.equal(ordinalOf('web-03', 'web'), undefined);
    assert.equal(ordinalOf('webx-3', 'web'), undefined);
    assert.equal(ordinalOf('xweb-3', 'web'), undefined);
    assert.equal(ordinalOf('3', 'web'), undefined);
    assert.equal(ordinalOf('web-', 'web'), undefined);
  });
});

describe('resolveEndpointRows, both sides (mutation testing, 2026-12-07)', () => {
  it('a Service of the release whose name carries no ordinal is no room’s, and hides none', () => {
    const rows = resolveEndpointRows(
      input((i) => i.services.push({ ...svc(0), name: `${WL}-lobby`, selectsPod: `${WL}-0` })),
    );
    assert.deepEqual(
      rows.map((r) => [r.pod, r.service, r.status]),
      [[`${WL}-0`, `${WL}-0`, 'Ready']],
    );
  });
  it('a LoadBalancer with an address but no port: its row has no port (and allocate skips it)', () => {
    const r = row0(
      (i) => (i.services = [svc(0, { type: 'LoadBalancer', ingress: ['203.0.113.7'], ports: [] })]),
    );
    assert.deepEqual([r.address, r.port], ['203.0.113.7', null]);
    assert.deepEqual(allocatable([r]), []);
  });
  it('nodes unknown (no RBAC): a Service without its pod has no address, and is Pending below the replicas', () => {
    const rows = resolveEndpointRows(
      input((i) => {
        i.nodes = undefined;
        i.replicas = 2;
        i.services = [svc(0), svc(1)];
      }),
    );
    assert.deepEqual(
      rows.map((r) => [r.pod, r.address, r.status]),
      [
        [`${WL}-0`, UNKNOWN_ADDRESS, 'Ready'],
        [`${WL}-1`, null, 'Pending'],
      ],
    );
  });
});
