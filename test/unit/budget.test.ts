import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  budgetChange,
  clusterIPBudget,
  leftOutPhrase,
  nodePortBudget,
  nodePortsOf,
  podSlotBudget,
  type ClusterBudget,
} from '../../src/core/budget.js';
import type { NodeView } from '../../src/core/model.js';
import { placementOf, placementProblem } from '../../src/core/placement.js';
import { budgetDelta, manifestView, type ManifestObject } from '../../src/core/release-change.js';
import { parseQuantity } from '../../src/core/quantity.js';
import { nodeView } from '../../src/kube/views.js';
import { formatBudgetChange } from '../../src/output/budget.js';

const node = (name: string, over: Partial<NodeView> = {}): NodeView => ({
  name,
  ready: true,
  addresses: [],
  allocatablePods: 110,
  ...over,
});

describe('clusterIPBudget: ClusterIPs left in the Service CIDRs', () => {
  it('sizes each CIDR as the allocator does (IPv4 without network and broadcast, IPv6 without the first) and counts the IPAddresses inside', () => {
    const b = clusterIPBudget(
      [
        { name: 'kubernetes', cidrs: ['10.96.0.0/28', 'fd00::/120'] },
        { name: 'extra', cidrs: ['10.100.0.0/29'] },
      ],
      ['10.96.0.1', '10.96.0.2', '10.100.0.1', 'fd00::1', '10.200.0.1'],
    );
    assert.ok(!('unknown' in b));
    assert.deepEqual(
      b.cidrs.map((c) => [c.cidr, c.total, c.used]),
      [
        ['10.96.0.0/28', 14, 2],
        ['10.100.0.0/29', 6, 1],
      ],
      'the headline is the family with the fewest free; an IP outside every range is not counted',
    );
    assert.deepEqual([b.family, b.total, b.used, b.free], ['IPv4', 20, 3, 17]);
  });

  it('dual stack: the family with fewer free addresses is the headline, IPv6 when it is the tighter one', () => {
    const b = clusterIPBudget(
      [{ name: 'kubernetes', cidrs: ['10.96.0.0/24', 'fd00::/125'] }],
      ['10.96.0.1', 'fd00::1', 'fd00::2', 'fd00::3', 'fd00::4'],
    );
    assert.ok(!('unknown' in b));
    assert.deepEqual([b.family, b.total, b.used, b.free], ['IPv6', 7, 4, 3]);
    assert.deepEqual(
      b.cidrs.map((c) => c.cidr),
      ['fd00::/125'],
    );
  });

  it('IPv6 only: counted as IPv6, IPv4 addresses outside it ignored', () => {
    const b = clusterIPBudget(
      [{ name: 'kubernetes', cidrs: ['fd00:10::/112'] }],
      ['fd00:10::a', '10.96.0.1'],
    );
    assert.ok(!('unknown' in b));
    assert.deepEqual([b.family, b.used], ['IPv6', 1]);
  });

  it('no ServiceCIDR at all: unknown, with why', () => {
    assert.deepEqual(clusterIPBudget([], ['10.96.0.1']), { unknown: 'the cluster lists no ServiceCIDR' });
  });
});

describe('placement: the nodes the rooms may be scheduled to', () => {
  const template = {
    spec: {
      nodeSelector: { pool: 'game' },
      tolerations: [{ key: 'game', operator: 'Exists', effect: 'NoSchedule' }],
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] },
              { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['special'] }] },
            ],
          },
        },
      },
    },
  };
  const p = placementOf(template);
  it('nodeSelector, taints with NoSchedule or NoExecute (PreferNoSchedule never blocks), and any one required term', () => {
    const game = { pool: 'game', zone: 'a' };
    assert.equal(placementProblem(node('n', { labels: game }), p), undefined);
    assert.equal(
      placementProblem(node('n', { labels: { zone: 'a' } }), p),
      'no label pool=game (nodeSelector)',
    );
    assert.equal(
      placementProblem(node('n', { labels: { pool: 'game', zone: 'c' } }), p),
      'not matched by the required node affinity',
    );
    assert.equal(
      placementProblem(node('special', { labels: { pool: 'game' } }), p),
      undefined,
      'matchFields',
    );
    assert.equal(
      placementProblem(node('n', { labels: game, taints: [{ key: 'game', effect: 'NoSchedule' }] }), p),
      undefined,
      'tolerated by Exists',
    );
    assert.equal(
      placementProblem(
        node('n', { labels: game, taints: [{ key: 'db', value: 'x', effect: 'NoExecute' }] }),
        p,
      ),
      'tainted db=x:NoExecute',
    );
    assert.equal(
      placementProblem(node('n', { labels: game, taints: [{ key: 'db', effect: 'PreferNoSchedule' }] }), p),
      undefined,
    );
    assert.equal(
      placementProblem(node('n'), placementOf(undefined)),
      undefined,
      'no constraints: every node',
    );
  });

  it('podSlotBudget counts allocatable minus bound on the nodes that fit, and says why the others are left out', () => {
    const b = podSlotBudget(
      [
        node('a', { allocatablePods: 10 }),
        node('b', { allocatablePods: 10, unschedulable: true }),
        node('c', { ready: false }),
        node('d', { allocatablePods: 5 }),
        node('e', { allocatablePods: undefined }),
      ],
      new Map([
        ['a', 4],
        ['d', 7],
      ]),
    );
    assert.deepEqual(b, {
      total: 15,
      used: 9,
      free: 6,
      usedPercent: 60,
      nodes: 3,
      unreported: 1,
      excluded: [
        { reason: 'cordoned', nodes: 1 },
        { reason: 'not Ready', nodes: 1 },
      ],
    });
  });
});

describe('what a change takes from the budgets', () => {
  const svc = (name: string, spec: Record<string, unknown>): ManifestObject => ({
    kind: 'Service',
    metadata: { name },
    spec: { ports: [{ port: 7777 }], ...spec },
  });
  const sts = (replicas: number): ManifestObject => ({
    kind: 'StatefulSet',
    metadata: { name: 'r' },
    spec: { replicas, template: {} },
  });

  it('NodePort rooms take a port and a ClusterIP each; LoadBalancer with Local a second port; headless takes neither; a new Redis a pod slot', () => {
    const before = manifestView([
      sts(2),
      svc('r', { clusterIP: 'None' }),
      svc('r-0', { type: 'NodePort' }),
      svc('r-1', { type: 'NodePort' }),
    ]);
    const after = manifestView([
      sts(4),
      svc('r', { clusterIP: 'None' }),
      ...[0, 1, 2, 3].map((i) => svc(`r-${i}`, { type: 'LoadBalancer', externalTrafficPolicy: 'Local' })),
      svc('r-redis', {}),
      { kind: 'Deployment', metadata: { name: 'r-redis' }, spec: { template: {} } },
    ]);
    assert.deepEqual(budgetDelta(before, after, 2), { nodePorts: 6, clusterIPs: 3, podSlots: 3 });
    assert.deepEqual(budgetDelta(after, before, 4), { nodePorts: -6, clusterIPs: -3, podSlots: -2 });
    assert.deepEqual(budgetDelta(undefined, before, 0), { nodePorts: 2, clusterIPs: 2, podSlots: 2 });
  });

  it('the plan lines: before -> after, over 100% said plainly, warnings from 80%, unknown with why', () => {
    const now: ClusterBudget = {
      nodePorts: nodePortBudget([]),
      clusterIPs: clusterIPBudget([{ name: 'k', cidrs: ['10.96.0.0/24'] }], ['10.96.0.1']),
      podSlots: podSlotBudget([node('a', { allocatablePods: 100 })], new Map([['a', 50]])),
    };
    const lines = formatBudgetChange(
      budgetChange(now, { nodePorts: 1000, clusterIPs: 210, podSlots: 60 }),
      (n) => n.padEnd(12),
    );
    assert.deepEqual(lines, [
      'NodePorts:  0 -> 1000 of 2768 used in 30000-32767 (0% -> 36%, every Service in the cluster)',
      'ClusterIPs: 1 -> 211 of 254 used in 10.96.0.0/24 (0% -> 83%)  (warning: nearly full)',
      'Pod slots:  50 -> 110 of 100 used on the 1 node(s) the rooms can use (50% -> 110%)  (more than there is)',
    ]);
    assert.deepEqual(
      formatBudgetChange(
        budgetChange({ clusterIPs: { unknown: 'why' } }, { nodePorts: 1, clusterIPs: 1, podSlots: 1 }),
        (n) => `${n} `,
      ),
      [
        'NodePorts: unknown: not allowed to list Services in all namespaces (rbac --cluster-budget grants it)',
        'ClusterIPs: unknown: why',
        'Pod slots: unknown: not allowed to list pods in all namespaces (rbac --pod-slots grants it)',
      ],
      'a namespaced user: the plan says what it could not count, and what would let it',
    );
    const nowhere = podSlotBudget([node('a', { unschedulable: true })], new Map());
    assert.deepEqual(
      formatBudgetChange(
        budgetChange(
          { clusterIPs: { unknown: 'why' }, podSlots: nowhere },
          { nodePorts: 0, clusterIPs: 0, podSlots: 2 },
        ),
        (n) => `${n} `,
      ).at(-1),
      'Pod slots: none: no node can take rooms (left out: 1 cordoned)',
    );
  });
});

describe('parseQuantity: allocatable pods as the API server writes them', () => {
  it('canonical forms: 1000 pods are "1k"; decimal and binary suffixes, exponents; junk is undefined', () => {
    const cases: [string, number | undefined][] = [
      ['110', 110],
      ['1k', 1000],
      ['1.5k', 1500],
      ['2e3', 2000],
      ['1Ki', 1024],
      ['500m', 0.5],
      ['', undefined],
      ['ten', undefined],
      ['1kk', undefined],
    ];
    for (const [q, n] of cases) assert.equal(parseQuantity(q), n, q);
  });

  it('a node with 1000 allocatable pods counts them (nodeView)', () => {
    const n = nodeView({
      metadata: { name: 'big' },
      status: { allocatable: { pods: '1k' }, conditions: [{ type: 'Ready', status: 'True' }] },
    });
    assert.equal(n.allocatablePods, 1000);
    assert.equal(podSlotBudget([n], new Map([['big', 10]])).free, 990);
  });
});

describe('budgets: both sides (mutation testing)', () => {
  const service = (ports: (number | null | undefined)[], healthCheckNodePort?: number) => ({
    name: 's',
    namespace: 'n',
    type: 'NodePort' as const,
    ports: ports.map((nodePort) => ({
      port: 80,
      protocol: 'TCP',
      ...(nodePort === undefined ? {} : { nodePort }),
    })),
    ingress: [],
    ...(healthCheckNodePort ? { healthCheckNodePort } : {}),
  });

  it('nodePortsOf: real ports only (none, null or 0 take nothing), and the health-check port', () => {
    assert.deepEqual(
      nodePortsOf(service([30000, undefined, null, 0, 30001], 31500) as never),
      [30000, 30001, 31500],
    );
    assert.deepEqual(nodePortsOf(service([]) as never), []);
  });

  it('nodePortBudget: ports outside the range are not counted; the largest free block prefers the first of equal size', () => {
    const b = nodePortBudget([service([10, 20, 25, 30000]) as never], { first: 20, last: 29 });
    assert.equal(b.used, 2);
    assert.deepEqual(b.largestFreeBlock, { first: 21, size: 4 });
    const full = nodePortBudget([service([1, 2, 3]) as never], { first: 1, last: 3 });
    assert.equal(full.largestFreeBlock, null);
  });

  it('clusterIPBudget: CIDRs that are not ranges are skipped; none left is unknown', () => {
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/-1', 'fd00::/129', 'x/8', '10.0.0.0/8.5'])
      assert.deepEqual(
        clusterIPBudget([{ name: 'c', cidrs: [bad] }], []),
        { unknown: 'the cluster lists no ServiceCIDR' },
        bad,
      );
    const one = clusterIPBudget(
      [{ name: 'c', cidrs: ['bad', '10.96.0.0/30'] }],
      ['10.96.0.1', 'fd00::1', '10.97.0.1'],
    );
    assert.ok(!('unknown' in one));
    assert.deepEqual([one.family, one.used, one.total, one.cidrs.length], ['IPv4', 1, 2, 1]);
    const all = clusterIPBudget([{ name: 'c', cidrs: ['0.0.0.0/0'] }], []);
    assert.ok(!('unknown' in all));
    assert.equal(all.total, 2 ** 32 - 2);
  });

  it('clusterIPBudget: a prefix as long as the address (/32, /128) is a range with nothing to hand out: full, not unknown', () => {
    for (const [cidr, family] of [
      ['10.96.0.1/32', 'IPv4'],
      ['fd00::1/128', 'IPv6'],
    ] as const)
      assert.deepEqual(
        clusterIPBudget([{ name: 'c', cidrs: [cidr] }], []),
        {
          family,
          cidrs: [{ cidr, family, total: 0, used: 0, free: 0, usedPercent: 100 }],
          total: 0,
          used: 0,
          free: 0,
          usedPercent: 100,
        },
        cidr,
      );
  });

  it('leftOutPhrase: nothing when no node was left out', () => {
    assert.equal(leftOutPhrase({ ...podSlotBudget([], new Map()), excluded: [] }), '');
    assert.equal(
      leftOutPhrase({ ...podSlotBudget([], new Map()), excluded: [{ reason: 'cordoned', nodes: 2 }] }),
      ' (left out: 2 cordoned)',
    );
  });
});
