import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { byOrdinal, ordinalOf, type PodView, type ServiceView } from '../../src/core/model.js';
import { BUDGET_WARN_PERCENT, nodePortBudget } from '../../src/core/budget.js';
import { assessStatus, workloadOf, type StatusSnapshot } from '../../src/core/status.js';
import { ordinalRanges } from '../../src/output/ranges.js';
import { formatStatus, groupProblems } from '../../src/output/status.js';
import { podService, roomPod } from '../support/fixtures.js';

const WL = 'rooms-expose-pods';
const pod = (n: number, extra: Partial<PodView> = {}): PodView =>
  roomPod(WL, n, { nodeName: 'node-a', ...extra });
const svc = (n: number, nodePort = 30880 + n): ServiceView =>
  podService(WL, n, { ports: [{ port: 8080, nodePort, protocol: 'TCP' }] });

/** Makes every per-pod Service a LoadBalancer with externalTrafficPolicy Local (health check on 31500). */
const localLoadBalancers = (s: StatusSnapshot) => {
  for (const v of s.services)
    Object.assign(v, { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 31500 });
};

/** A healthy 2-pod release; each case changes one thing. */
function snapshot(change: (s: StatusSnapshot) => void = () => undefined): StatusSnapshot {
  const s: StatusSnapshot = {
    release: {
      name: 'rooms',
      namespace: 'game',
      revision: 3,
      status: 'deployed',
      chart: 'expose-pods-0.1.0',
      appVersion: '2.53',
    },
    values: { replicas: 2, exposeCount: 2, nodePortBase: 30880, redisEnabled: true },
    workload: WL,
    statefulSet: { replicas: 2, readyReplicas: 2, currentReplicas: 2 },
    pods: [pod(0), pod(1)],
    services: [svc(0), svc(1)],
    endpoints: [0, 1].map((n) => ({
      service: `${WL}-${n}`,
      addresses: [`10.244.0.${n}`],
      ready: true,
      nodeName: 'node-a',
    })),
    nodes: [{ name: 'node-a', ready: true, addresses: [{ type: 'InternalIP', address: '198.51.100.1' }] }],
    allServices: [svc(0), svc(1)],
    redis: {
      podReady: true,
      pvc: { name: 'p', phase: 'Bound' },
      pvcExpected: true,
      secretPresent: true,
      secretName: 's',
    },
    redisExpected: true,
  };
  change(s);
  return s;
}

describe('workloadOf: the prefix of pods and Services, even without the StatefulSet', () => {
  it("the StatefulSet, else the name its pods or Services carry, else the chart's naming rule", () => {
    assert.equal(workloadOf(WL, [], 'rooms'), WL);
    assert.equal(workloadOf(undefined, [`${WL}-redis`, `${WL}-12`], 'rooms'), WL);
    assert.equal(workloadOf(undefined, [], 'rooms'), 'rooms-expose-pods');
    assert.equal(workloadOf(undefined, [], 'my-expose-pods'), 'my-expose-pods');
    const r = assessStatus(
      snapshot((s) => {
        s.statefulSet = undefined;
        s.workload = workloadOf(
          undefined,
          s.services.map((v) => v.name),
          'rooms',
        );
      }),
    );
    assert.deepEqual(
      r.ordinals.map((o) => o.pod),
      [`${WL}-0`, `${WL}-1`],
    );
  });
});

describe('ordinalOf', () => {
  const cases: [string, number | undefined][] = [
    [`${WL}-0`, 0],
    [`${WL}-12`, 12],
    [`${WL}-redis`, undefined],
    [`${WL}-01`, undefined],
    [`${WL}-redis-6d8f-x`, undefined],
    ['other-0', undefined],
    // Another release's pod whose prefix has the same length.
    ['other-expose-pods-5', undefined],
  ];
  for (const [name, want] of cases) it(name, () => assert.equal(ordinalOf(name, WL), want));
  it('byOrdinal keeps only the names that carry an ordinal', () => {
    const m = byOrdinal([{ name: `${WL}-1` }, { name: `${WL}-redis` }, { name: 'other-expose-pods-5' }], WL);
    assert.deepEqual([...m.keys()], [1]);
  });
});

describe('assessStatus', () => {
  it('a healthy release has no problems and one row per ordinal', () => {
    const r = assessStatus(snapshot());
    assert.equal(r.healthy, true);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(
      r.ordinals.map((o) => [o.pod, o.ready, o.service, o.nodePort, o.endpointReady]),
      [
        [`${WL}-0`, true, `${WL}-0`, 30880, true],
        [`${WL}-1`, true, `${WL}-1`, 30881, true],
      ],
    );
    assert.deepEqual(r.replicas, { desired: 2, current: 2, ready: 2, inRelease: 2 });
  });

  const cases: { name: string; change: (s: StatusSnapshot) => void; kinds: string[]; message?: RegExp }[] = [
    {
      name: 'kubectl scale up: replicas drift and a pod without a Service',
      change: (s) => {
        s.statefulSet!.replicas = 3;
        s.pods.push(pod(2));
      },
      kinds: ['ReplicasDrift', 'PodWithoutService'],
      message: /pod rooms-expose-pods-2 has no per-pod Service/,
    },
    {
      name: 'a Service beyond the release count with no pod (an orphan) is a problem',
      change: (s) => {
        s.services.push(svc(2));
      },
      kinds: ['ServiceWithoutPod'],
      message: /Service rooms-expose-pods-2 has no pod behind it: clients get connection refused/,
    },
    {
      name: 'a LoadBalancer with Local whose pod is not ready: its health check fails on every node',
      change: (s) => {
        localLoadBalancers(s);
        s.pods[1] = pod(1, { ready: false });
        s.endpoints[1]!.ready = false;
      },
      kinds: ['PodNotReady', 'LBHealthCheckFails'],
      message:
        /Service rooms-expose-pods-1 is a LoadBalancer with externalTrafficPolicy Local and no ready pod on a Ready node: its health check \(nodePort 31500, \/healthz\) fails on every node/,
    },
    {
      name: 'a LoadBalancer with Local whose ready pod sits on a node that is not Ready fails its health check too',
      change: (s) => {
        localLoadBalancers(s);
        s.nodes.push({
          name: 'node-b',
          ready: false,
          addresses: [{ type: 'InternalIP', address: '198.51.100.2' }],
        });
        s.endpoints[0]!.nodeName = 'node-b';
      },
      kinds: ['LBHealthCheckFails'],
      message: /Service rooms-expose-pods-0 is a LoadBalancer/,
    },
    {
      name: 'a pod not ready names its reason',
      change: (s) => {
        s.pods[1] = pod(1, { ready: false, phase: 'Pending', reason: 'Unschedulable' });
        s.endpoints.pop();
      },
      kinds: ['PodNotReady'],
      message: /pod rooms-expose-pods-1 is not ready \(Unschedulable\)/,
    },
    {
      name: 'a node with only a Hostname address',
      change: (s) => {
        s.nodes[0]!.addresses = [{ type: 'Hostname', address: 'node-a' }];
      },
      kinds: ['NodeWithoutAddress'],
    },
    {
      name: 'the expected nodePort is held by another release',
      change: (s) => {
        s.services.pop();
        s.allServices = [svc(0), { ...svc(1), name: 'other-0', namespace: 'arena', release: 'other' }];
        s.pods.pop();
        s.statefulSet!.replicas = 2;
      },
      kinds: ['NodePortCollision'],
      message: /nodePort 30881 \(ordinal 1\) is taken by Service arena\/other-0 of release other/,
    },
    {
      // This copy of the rule used to look at nodePortBase only; scale's plan always honoured expose.nodePorts.
      name: 'explicit expose.nodePorts: the port listed for the ordinal is held by another release',
      change: (s) => {
        s.values.nodePorts = [31000, 31001];
        s.services = [svc(0, 31000)];
        s.allServices = [
          svc(0, 31000),
          { ...svc(1, 31001), name: 'other-0', namespace: 'arena', release: 'other' },
        ];
        s.pods.pop();
        s.statefulSet!.replicas = 2;
      },
      kinds: ['NodePortCollision'],
      message: /nodePort 31001 \(ordinal 1\) is taken by Service arena\/other-0 of release other/,
    },
    {
      name: 'expose.nodePorts without a base: the listed ports are still checked',
      change: (s) => {
        s.values.nodePortBase = undefined;
        s.values.nodePorts = [31000, 31001];
        s.services = [svc(0, 31000)];
        s.allServices = [svc(0, 31000), { ...svc(1, 31001), name: 'other-0', namespace: 'arena' }];
        s.pods.pop();
        s.statefulSet!.replicas = 2;
      },
      kinds: ['NodePortCollision'],
      message: /nodePort 31001 \(ordinal 1\) is taken by Service arena\/other-0/,
    },
    {
      name: 'a Service named like our ordinal but in another namespace holds its port: a collision',
      change: (s) => {
        s.services.pop();
        s.allServices = [svc(0), { ...svc(1), namespace: 'arena', release: undefined }];
        s.pods.pop();
        s.statefulSet!.replicas = 2;
      },
      kinds: ['NodePortCollision'],
      message: new RegExp(`nodePort 30881 \\(ordinal 1\\) is taken by Service arena/${WL}-1$`),
    },
    {
      name: 'the release is not deployed',
      change: (s) => {
        s.release.status = 'pending-upgrade';
      },
      kinds: ['ReleaseNotDeployed'],
    },
    {
      name: 'the StatefulSet is gone: its Services now refuse connections',
      change: (s) => {
        s.statefulSet = undefined;
        s.pods = [];
      },
      kinds: ['WorkloadMissing', 'ServiceWithoutPod', 'ServiceWithoutPod'],
    },
    {
      name: 'Redis: not ready, PVC pending, Secret missing',
      change: (s) => {
        s.redis = {
          podReady: false,
          pvc: { name: 'p', phase: 'Pending' },
          pvcExpected: true,
          secretPresent: false,
          secretName: 'rooms-redis',
        };
      },
      kinds: ['RedisNotReady', 'RedisPvcNotBound', 'RedisSecretMissing'],
      message: /the Redis Secret rooms-redis is missing/,
    },
    {
      name: 'Redis enabled but its Deployment is gone',
      change: (s) => {
        s.redis = undefined;
      },
      kinds: ['RedisNotReady'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = assessStatus(snapshot(c.change));
      assert.equal(r.healthy, false);
      assert.deepEqual(r.problems.map((p) => p.kind).sort(), [...c.kinds].sort());
      if (c.message)
        assert.ok(
          r.problems.some((p) => c.message!.test(p.message)),
          JSON.stringify(r.problems),
        );
    });
  }

  it('expose.count above replicas on purpose: a note, still healthy', () => {
    const r = assessStatus(
      snapshot((s) => {
        s.values.exposeCount = 3;
        s.services.push(svc(2));
      }),
    );
    assert.equal(r.healthy, true);
    assert.deepEqual(r.notes, [
      'Service rooms-expose-pods-2 has no pod yet (expose.count 3 > room.replicas 2): connection refused until you scale up',
    ]);
    assert.equal(r.ordinals.length, 3);
  });

  it('Redis disabled: no Redis section and no Redis problem', () => {
    const r = assessStatus(
      snapshot((s) => {
        s.redis = undefined;
        s.redisExpected = false;
      }),
    );
    assert.equal(r.healthy, true);
    assert.equal(r.redis, undefined);
  });

  it('no nodePortBase (auto-assigned ports): no collision check', () => {
    const r = assessStatus(
      snapshot((s) => {
        s.values.nodePortBase = undefined;
        s.allServices = [{ ...svc(0), name: 'x', namespace: 'other' }];
      }),
    );
    assert.equal(r.healthy, true);
  });
});

describe('status at fleet size: problems grouped by kind, ordinals as ranges', () => {
  /** A 1500-replica release whose Services stop at 1000, with a few pods not ready. */
  const fleet = () =>
    assessStatus(
      snapshot((s) => {
        s.values = { ...s.values, replicas: 1500, exposeCount: 1000 };
        s.statefulSet = { replicas: 1500, readyReplicas: 1490, currentReplicas: 1500 };
        s.pods = Array.from({ length: 1500 }, (_, n) =>
          pod(
            n,
            n >= 1490 ? { ready: false, phase: 'Pending', reason: 'Unschedulable', nodeName: undefined } : {},
          ),
        );
        s.services = Array.from({ length: 1000 }, (_, n) => svc(n, 30000 + n));
        s.allServices = s.services;
        s.values.nodePortBase = 30000;
        s.endpoints = s.services.map((v, n) => ({
          service: v.name,
          addresses: [`10.0.0.${n}`],
          ready: true,
          nodeName: 'node-a',
        }));
      }),
    );

  it('-o json stays complete: one problem per pod, each with its ordinal', () => {
    const r = fleet();
    const missing = r.problems.filter((p) => p.kind === 'PodWithoutService');
    assert.equal(missing.length, 500);
    assert.deepEqual(
      missing.slice(0, 2).map((p) => p.ordinal),
      [1000, 1001],
    );
    assert.deepEqual(
      r.problems.filter((p) => p.kind === 'PodNotReady').map((p) => [p.ordinal, p.reason]),
      Array.from({ length: 10 }, (_, i) => [1490 + i, 'Unschedulable']),
    );
  });

  it('the human view: one line per kind, with ranges, counts, reasons and the command that fixes it', () => {
    const r = fleet();
    // Kinds in order of first appearance, by ordinal.
    assert.deepEqual(groupProblems(r.problems, 'rooms', 'game'), [
      'pods 1000–1499 (500): no per-pod Service, so clients cannot reach them from outside; run: kubectl expose-pods scale rooms -n game --sync',
      'pods 1490–1499 (10): not ready (Unschedulable 10); see why with: kubectl expose-pods status rooms -n game -o json',
    ]);
    const text = formatStatus(r);
    assert.equal(text.split('\n').length, 1500 + 15, 'one row per ordinal, and a short head and tail');
    assert.match(text, /^ROOMS 1500 rooms: 1000 Free, 500 not ready to take a match$/m);
    assert.match(
      text,
      /^ {2}NodePorts {3}1000 of 2768 used in 30000-32767 \(36%\), this release 1000; 1768 free, largest free block 31000-32767 \(1768\)$/m,
    );
    assert.match(text, /^DEGRADED \(510 problems\):$/m);
    // --no-headers: the ORDINAL table loses its header row, and nothing else changes.
    const bare = formatStatus(r, false, { headers: false });
    assert.doesNotMatch(bare, /^ORDINAL +POD/m);
    assert.equal(bare.split('\n').length, text.split('\n').length - 1);
  });

  it('up to three of a kind are listed as they are; ranges skip the gaps', () => {
    const problems = [0, 1, 2].map((n) => ({
      kind: 'ServiceWithoutPod' as const,
      message: `Service s-${n} has no pod behind it`,
      ordinal: n,
    }));
    assert.deepEqual(
      groupProblems(problems, 'r', 'n'),
      problems.map((p) => p.message),
    );
    assert.equal(ordinalRanges([9, 0, 1, 2, 5, 7, 8, 2]), '0–2, 5, 7–9');
  });

  it('on a terminal the verdict leads, before the table', () => {
    const text = formatStatus(fleet(), true);
    const lines = text.split('\n');
    assert.match(lines[2] ?? '', /^ROOMS /);
    assert.deepEqual(lines[3], 'BUDGET (cluster-wide)');
    assert.match(lines[6] ?? '', /^ {2}Pod slots /);
    assert.deepEqual(lines.slice(7, 9), ['', 'DEGRADED (510 problems):']);
    assert.match(lines[9] ?? '', /^ {2}- pods 1000–1499 \(500\): no per-pod Service/);
    assert.deepEqual(lines[11], '');
    assert.match(lines[12] ?? '', /^ORDINAL +POD/);
    assert.match(lines.at(-1) ?? '', /^ {2}- pods 1490–1499 \(10\): not ready/, 'and again at the end');
  });
});

describe('the budgets: the ceilings every release in the cluster shares', () => {
  const other = (name: string, ports: number[], healthCheckNodePort?: number): ServiceView => ({
    ...svc(0),
    name,
    namespace: 'elsewhere',
    release: undefined,
    ports: ports.map((nodePort) => ({ port: 80, nodePort, protocol: 'TCP' })),
    healthCheckNodePort,
  });

  it('counts every nodePort and health-check port in the range once, and finds the largest free block', () => {
    const b = nodePortBudget([
      other('a', [30000, 30001, 30001]),
      other('b', [30500], 30501),
      other('outside', [40000]),
    ]);
    assert.deepEqual(b, {
      range: { first: 30000, last: 32767 },
      total: 2768,
      used: 4,
      free: 2764,
      usedPercent: 0,
      largestFreeBlock: { first: 30502, size: 2266 },
    });
    assert.equal(nodePortBudget([], { first: 30000, last: 30009 }).largestFreeBlock?.size, 10);
    const full = Array.from({ length: 10 }, (_, i) => other(`s${i}`, [30000 + i]));
    assert.equal(nodePortBudget(full, { first: 30000, last: 30009 }).largestFreeBlock, null);
  });

  it(`status shows the NodePort range, and notes it ${BUDGET_WARN_PERCENT}% used or more; unknown when every Service cannot be listed`, () => {
    const crowded = (s: StatusSnapshot) => {
      s.allServices = [
        ...(s.allServices ?? []),
        other(
          'big',
          // 30000-30531 and 31000-32767: 2300 ports around the release's own 30880 and 30881.
          [
            ...Array.from({ length: 532 }, (_, i) => 30000 + i),
            ...Array.from({ length: 1768 }, (_, i) => 31000 + i),
          ],
        ),
      ];
    };
    const r = assessStatus(snapshot(crowded));
    assert.equal(r.budget.nodePorts?.used, 2302);
    assert.equal(r.budget.nodePorts.release, 2, "the release's own two");
    assert.equal(r.healthy, true, 'a note, not a problem');
    assert.deepEqual(r.notes, [
      'the NodePort range 30000-32767 is 83% used (2302 of 2768, by every Service in the cluster): 466 left, the largest block 348. Each per-pod NodePort Service takes one; LoadBalancer rooms with Local take a second (the health check).',
    ]);
    assert.equal(assessStatus(snapshot()).notes.length, 0);
    const hidden = assessStatus(
      snapshot((s) => {
        crowded(s);
        s.allServices = undefined;
      }),
    );
    assert.equal(hidden.budget.nodePorts, undefined);
    assert.match(
      formatStatus(hidden),
      /^ {2}NodePorts {3}unknown: not allowed to list Services in all namespaces \(rbac --cluster-budget grants it\)$/m,
    );
    assert.deepEqual(hidden.notes, []);
  });

  it("ClusterIPs from the ServiceCIDRs, and pod slots on the nodes the rooms can use: each with the release's share, and a note from 80%", () => {
    const r = assessStatus(
      snapshot((s) => {
        s.services = s.services.map((v, i) => ({ ...v, clusterIPs: [`10.96.0.${10 + i}`] }));
        s.allServices = s.services;
        s.serviceIPs = {
          cidrs: [{ name: 'kubernetes', cidrs: ['10.96.0.0/24'] }],
          addresses: [...Array.from({ length: 210 }, (_, i) => `10.96.0.${i + 1}`), '10.97.0.1'],
        };
        s.nodes = [
          {
            name: 'node-a',
            ready: true,
            addresses: [{ type: 'InternalIP', address: '198.51.100.1' }],
            allocatablePods: 10,
          },
          {
            name: 'node-b',
            ready: true,
            addresses: [],
            allocatablePods: 100,
            taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }],
          },
        ];
        s.boundPerNode = new Map([
          ['node-a', 9],
          ['node-b', 1],
        ]);
      }),
    );
    assert.deepEqual(r.budget.clusterIPs, {
      family: 'IPv4',
      cidrs: [{ cidr: '10.96.0.0/24', family: 'IPv4', total: 254, used: 210, free: 44, usedPercent: 83 }],
      total: 254,
      used: 210,
      free: 44,
      usedPercent: 83,
      release: 2,
    });
    assert.deepEqual(
      r.budget.podSlots && [r.budget.podSlots.nodes, r.budget.podSlots.free, r.budget.podSlots.release],
      [1, 1, 2],
      'the tainted node is not counted',
    );
    assert.equal(r.healthy, true, 'notes, not problems');
    assert.deepEqual(r.notes, [
      'the Service IPv4 range (10.96.0.0/24) is 83% used (210 of 254 ClusterIPs): 44 left. Every per-pod Service takes one; a cluster admin can add a ServiceCIDR.',
      'the 1 node(s) the rooms can use have 90% of their pod slots taken (9 of 10): 1 left for new rooms.',
    ]);
    const text = formatStatus(r);
    assert.match(
      text,
      /^ {2}ClusterIPs {2}210 of 254 used in 10\.96\.0\.0\/24 \(83%\), this release 2; 44 free$/m,
    );
    assert.match(
      text,
      /^ {2}Pod slots {3}9 of 10 used on the 1 node\(s\) the rooms can use \(left out: 1 tainted dedicated=db:NoSchedule\) \(90%\), this release 2; 1 free$/m,
    );
  });
});

describe('rooms in use in status', () => {
  const now = Date.parse('2026-12-04T12:00:00Z');
  const allocated = (restarts: number): Partial<PodView> => ({
    mark: {
      allocated: true,
      draining: false,
      allocatedAt: '2026-12-04T11:15:00Z',
      restartsAtAllocation: 0,
      metadata: { match: 'm' },
    },
    restarts,
  });

  it('counts rooms per state and shows each ordinal’s; a live allocation is healthy', () => {
    const r = assessStatus(snapshot((s) => (s.pods = [pod(0, allocated(0)), pod(1)])));
    assert.equal(r.healthy, true);
    assert.deepEqual(r.rooms, {
      free: 1,
      allocated: 1,
      draining: 0,
      cordoned: 0,
      unavailable: 0,
      stale: 0,
      outdated: 0,
    });
    assert.deepEqual(
      r.ordinals.map((o) => o.state),
      ['Allocated', 'Free'],
    );
    const text = formatStatus(r);
    assert.match(text, /^ROOMS 2 rooms: 1 Free, 1 Allocated$/m);
    assert.match(text, /^0 +rooms-expose-pods-0 .* ready +Allocated$/m);
  });

  it('an allocation whose container restarted since is a problem, with its age and the command that frees it', () => {
    const r = assessStatus(
      snapshot((s) => {
        s.pods = [pod(0, allocated(1)), pod(1, { mark: { allocated: false, draining: true } })];
        s.now = now;
      }),
    );
    assert.equal(r.healthy, false);
    assert.deepEqual(r.problems, [
      {
        kind: 'StaleAllocation',
        message:
          'room rooms-expose-pods-0 is Allocated for 45m, but its container restarted since, so its match is gone: free it with kubectl expose-pods deallocate rooms rooms-expose-pods-0 -n game',
        ordinal: 0,
      },
    ]);
    assert.deepEqual(r.rooms, {
      free: 0,
      allocated: 1,
      draining: 1,
      cordoned: 0,
      unavailable: 0,
      stale: 1,
      outdated: 0,
    });
    assert.match(formatStatus(r), /^ROOMS 2 rooms: 1 Allocated \(1 stale\), 1 Draining$/m);
  });

  it('many stale allocations are one line, with the command', () => {
    const problems = [4, 5, 6, 9].map((ordinal) => ({
      kind: 'StaleAllocation' as const,
      message: 'x',
      ordinal,
    }));
    assert.deepEqual(groupProblems(problems, 'rooms', 'game'), [
      'rooms 4–6, 9 (4): Allocated, but their containers restarted since, so their matches are gone; free each with: kubectl expose-pods deallocate rooms POD -n game',
    ]);
  });
});

describe('the budget notes: at 80% used, and absent below', () => {
  const addresses = (n: number) => Array.from({ length: n }, (_, i) => `fd00::${(i + 1).toString(16)}`);
  const withIPs = (used: number) =>
    assessStatus(
      snapshot((s) => {
        // fd00::/124: 15 addresses the allocator hands out.
        s.serviceIPs = { cidrs: [{ name: 'kubernetes', cidrs: ['fd00::/124'] }], addresses: addresses(used) };
      }),
    );
  it('ClusterIPs: 12 of 15 (80%) is a note; 11 of 15 (73%) is none', () => {
    assert.match(
      withIPs(12).notes.join('\n'),
      /the Service IPv6 range \(fd00::\/124\) is 80% used \(12 of 15 ClusterIPs\): 3 left/,
    );
    assert.deepEqual(
      withIPs(11).notes.filter((n) => n.includes('ClusterIPs')),
      [],
    );
  });
  it('pod slots: 8 of 10 taken is a note; 7 of 10 is none', () => {
    const withSlots = (bound: number) =>
      assessStatus(
        snapshot((s) => {
          s.nodes[0]!.allocatablePods = 10;
          s.boundPerNode = new Map([['node-a', bound]]);
        }),
      ).notes.filter((n) => n.includes('pod slots'));
    assert.equal(withSlots(8).length, 1);
    assert.match(withSlots(8)[0] ?? '', /80% of their pod slots taken \(8 of 10\): 2 left for new rooms/);
    assert.deepEqual(withSlots(7), []);
  });
  it('a healthy release with room to spare has no notes at all', () => {
    assert.deepEqual(withIPs(1).notes, []);
  });
});

describe('status: every message whole, and the rows of odd ordinals (mutation testing)', () => {
  const messages = (change: (s: StatusSnapshot) => void) =>
    assessStatus(snapshot(change)).problems.map((p) => p.message);
  it('each problem says what is wrong and what to do, in full', () => {
    assert.deepEqual(
      messages((s) => {
        s.release.status = 'failed';
      }),
      ['Helm release rooms is failed, not deployed'],
    );
    assert.deepEqual(
      messages((s) => {
        s.statefulSet = undefined;
        s.pods = [];
        s.services = [];
      }),
      ["the release's StatefulSet is missing (deleted outside Helm?); run kubectl expose-pods install again"],
    );
    assert.deepEqual(
      messages((s) => {
        s.statefulSet!.replicas = 3;
      }),
      [
        'StatefulSet rooms-expose-pods has 3 replicas but the release says 2 (changed outside Helm: kubectl scale or an HPA); the next helm upgrade sets it back to 2',
      ],
    );
    assert.deepEqual(
      messages((s) => {
        s.nodes[0]!.addresses = [{ type: 'Hostname', address: 'node-a' }];
      }),
      ['node node-a hosts rooms but has no ExternalIP, ExternalDNS, InternalIP or InternalDNS address'],
    );
    assert.deepEqual(
      messages((s) => {
        s.redis = undefined;
      }),
      ["the release's Redis Deployment is missing"],
    );
    assert.deepEqual(
      messages((s) => {
        s.redis!.podReady = false;
      }),
      ['the Redis pod is not ready'],
    );
  });

  it('the Redis PVC: missing when one is expected, none when it is not', () => {
    const missing = assessStatus(
      snapshot((s) => {
        s.redis!.pvc = undefined;
      }),
    );
    assert.deepEqual(
      missing.problems.map((p) => p.message),
      ['the Redis PVC is missing, not Bound'],
    );
    assert.deepEqual(missing.redis, { ready: true, pvc: 'Missing', secret: true });
    const none = assessStatus(
      snapshot((s) => {
        s.redis!.pvc = undefined;
        s.redis!.pvcExpected = false;
      }),
    );
    assert.deepEqual(none.problems, []);
    assert.deepEqual(none.redis, { ready: true, pvc: 'none', secret: true });
    assert.equal(none.healthy, true);
  });

  it('rows: a Terminating pod, an ordinal with neither pod nor Service (no room: no state), a pod without a Service; an endpoint without addresses is not ready', () => {
    const r = assessStatus(
      snapshot((s) => {
        s.statefulSet!.replicas = 3;
        s.pods = [pod(0, { terminating: true, nodeName: undefined }), pod(2)];
        s.services = [svc(0)];
        s.endpoints = [{ service: `${WL}-0`, addresses: [], ready: true, nodeName: 'node-a' }];
      }),
    );
    assert.deepEqual(r.ordinals, [
      {
        ordinal: 0,
        pod: `${WL}-0`,
        phase: 'Terminating',
        ready: true,
        node: '-',
        service: `${WL}-0`,
        serviceExists: true,
        endpointReady: false,
        nodePort: 30880,
        state: 'Free',
      },
      {
        ordinal: 1,
        pod: `${WL}-1`,
        phase: '-',
        ready: false,
        node: '-',
        service: '-',
        serviceExists: false,
        endpointReady: false,
        nodePort: undefined,
        state: null,
      },
      {
        ordinal: 2,
        pod: `${WL}-2`,
        phase: 'Running',
        ready: true,
        node: 'node-a',
        service: '-',
        serviceExists: false,
        endpointReady: false,
        nodePort: undefined,
        state: 'Free',
      },
    ]);
  });

  it('workloadOf: a name whose suffix is not an ordinal (01, -x) is skipped; the prefix is everything before the last ordinal', () => {
    assert.equal(workloadOf(undefined, ['web-01', 'web-x', 'a-b-c-7'], 'rooms'), 'a-b-c');
    assert.equal(workloadOf(undefined, ['-0', 'xweb-0'], 'rooms'), 'xweb');
    assert.equal(workloadOf(undefined, ['web-0-redis'], 'rooms'), 'rooms-expose-pods');
    assert.equal(workloadOf('', ['web-3'], 'rooms'), 'web');
  });
});

describe('the rollout in status', () => {
  const onDelete = (s: StatusSnapshot) => {
    s.statefulSet = {
      replicas: 2,
      readyReplicas: 2,
      currentReplicas: 2,
      updateRevision: 'new',
      observed: true,
      updateStrategy: 'OnDelete',
    };
  };
  it('every room on the update revision: a rollout object, healthy, no ROLLOUT line', () => {
    const r = assessStatus(
      snapshot((s) => {
        onDelete(s);
        s.pods = [pod(0, { revision: 'new' }), pod(1, { revision: 'new' })];
      }),
    );
    assert.equal(r.healthy, true);
    assert.deepEqual(r.rollout, {
      strategy: 'OnDelete',
      revision: 'new',
      updated: 2,
      total: 2,
      outdatedFree: [],
      inUseOutdated: [],
      cordonedOutdated: [],
      inProgress: false,
    });
    assert.doesNotMatch(formatStatus(r), /ROLLOUT/);
  });
  it('a Free room left on an older revision with nothing replacing it degrades the release and names `rollout`; allocate would skip it', () => {
    const r = assessStatus(
      snapshot((s) => {
        onDelete(s);
        s.pods = [pod(0, { revision: 'old' }), pod(1, { revision: 'new' })];
      }),
    );
    assert.equal(r.healthy, false);
    assert.deepEqual(
      r.problems.map((p) => p.kind),
      ['RolloutStalled'],
    );
    assert.match(r.problems[0]?.message ?? '', /run kubectl expose-pods rollout rooms -n game/);
    assert.equal(r.rooms.outdated, 1);
    assert.equal(r.rooms.free, 1);
    assert.match(formatStatus(r), /ROLLOUT rooms on revision new: 1\/2; 1 Free on older revisions/);
  });
  it('a rollout in progress (a room being replaced) is not a problem', () => {
    const r = assessStatus(
      snapshot((s) => {
        onDelete(s);
        s.pods = [pod(0, { revision: 'old' }), pod(1, { revision: 'new', ready: false, phase: 'Pending' })];
      }),
    );
    assert.equal(r.rollout?.inProgress, true);
    assert.ok(!r.problems.some((p) => p.kind === 'RolloutStalled'));
  });
  it('rooms in use on an older revision are expected: healthy, and shown', () => {
    const r = assessStatus(
      snapshot((s) => {
        onDelete(s);
        s.pods = [
          pod(0, { revision: 'old', mark: { allocated: true, draining: false } }),
          pod(1, { revision: 'new' }),
        ];
      }),
    );
    assert.equal(r.healthy, true);
    assert.deepEqual(r.rollout?.inUseOutdated, [`${WL}-0`]);
    assert.match(formatStatus(r), /ROLLOUT rooms on revision new: 1\/2; 1 in use on older revisions/);
  });
});

describe('status: what the 2026-12-07 mutation run left undetected', () => {
  const kinds = (r: ReturnType<typeof assessStatus>) => r.problems.map((p) => p.kind);
  const stale = (allocatedAt?: string): Partial<PodView> => ({
    mark: { allocated: true, draining: false, restartsAtAllocation: 0, ...(allocatedAt && { allocatedAt }) },
    restarts: 1,
  });

  it('RolloutStalled names the update revision', () => {
    const r = assessStatus(
      snapshot((s) => {
        s.statefulSet = {
          ...s.statefulSet!,
          updateRevision: 'rev-9',
          observed: true,
          updateStrategy: 'OnDelete',
        };
        s.pods = [pod(0, { revision: 'rev-8' }), pod(1, { revision: 'rev-9' })];
      }),
    );
    assert.deepEqual(r.problems, [
      {
        kind: 'RolloutStalled',
        message:
          "1 Free room(s) run an older revision than the StatefulSet's (rev-9) and take no match, with nothing replacing them: run kubectl expose-pods rollout rooms -n game",
      },
    ]);
  });

  it('a stale allocation without its time says no age', () => {
    const r = assessStatus(snapshot((s) => (s.pods = [pod(0, stale()), pod(1)])));
    assert.deepEqual(
      r.problems.map((p) => p.message),
      [
        `room ${WL}-0 is Allocated, but its container restarted since, so its match is gone: free it with kubectl expose-pods deallocate rooms ${WL}-0 -n game`,
      ],
    );
  });

  describe('the release’s share of each budget', () => {
    // Dual-stack: a /24 of IPv4 (254) and a /120 of IPv6 (255): IPv4 has fewer free, so it is the family shown.
    const dualStack = (s: StatusSnapshot, v6Prefix = 120) => {
      s.serviceIPs = {
        cidrs: [{ name: 'kubernetes', cidrs: ['10.96.0.0/24', `fd00::/${v6Prefix}`] }],
        addresses: ['10.96.0.10', 'fd00::a', 'fd00::b'],
      };
      s.services = [
        { ...svc(0), clusterIPs: ['10.96.0.10', 'fd00::a'] },
        // Single-stack IPv6: the families' counts differ.
        { ...svc(1), clusterIPs: ['fd00::b'] },
      ];
      s.allServices = [
        ...s.services,
        // The same release name in another namespace, and another release in ours: neither is this release's.
        { ...svc(0), name: 'x-0', namespace: 'arena', clusterIPs: ['10.96.0.20', 'fd00::14'] },
        { ...svc(1), name: 'y-0', release: 'other', clusterIPs: ['10.96.0.21', 'fd00::15'] },
        // A headless Service of ours: no ClusterIP.
        { ...svc(0), name: `${WL}-headless`, clusterIPs: undefined, ports: [] },
      ];
    };
    it('ClusterIPs: only its own Services, only addresses of the family shown', () => {
      const v4 = assessStatus(snapshot((s) => dualStack(s))).budget.clusterIPs;
      assert.ok(!('unknown' in v4));
      assert.deepEqual([v4.family, v4.release], ['IPv4', 1]);
      // A /124 of IPv6 (15): IPv6 has fewer free, so it is shown, and counted.
      const v6 = assessStatus(snapshot((s) => dualStack(s, 124))).budget.clusterIPs;
      assert.ok(!('unknown' in v6));
      assert.deepEqual([v6.family, v6.release], ['IPv6', 2]);
    });
    it('ClusterIPs without every Service listed: the release’s own Services', () => {
      const r = assessStatus(
        snapshot((s) => {
          dualStack(s, 124);
          s.allServices = undefined;
        }),
      ).budget.clusterIPs;
      assert.ok(!('unknown' in r));
      assert.equal(r.release, 2);
    });
    it('ClusterIPs not read: unknown, with no share', () => {
      assert.deepEqual(assessStatus(snapshot()).budget.clusterIPs, { unknown: 'not read' });
    });
    it('pod slots: only pods bound to a node and not Terminating', () => {
      const r = assessStatus(
        snapshot((s) => {
          s.nodes[0]!.allocatablePods = 110;
          s.boundPerNode = new Map([['node-a', 3]]);
          s.statefulSet!.replicas = 3;
          s.values.replicas = 3;
          s.pods = [pod(0), pod(1, { terminating: true }), pod(2, { nodeName: undefined, phase: 'Pending' })];
        }),
      );
      assert.equal(r.budget.podSlots?.release, 1);
    });
  });

  describe('the NodePort note', () => {
    const holding = (count: number) => (s: StatusSnapshot) => {
      const ports = Array.from({ length: 2768 }, (_, i) => 30000 + i).filter(
        (p) => p !== 30880 && p !== 30881,
      );
      s.allServices = [
        ...(s.allServices ?? []),
        {
          ...svc(0),
          name: 'big',
          namespace: 'elsewhere',
          release: undefined,
          ports: ports.slice(0, count - 2).map((nodePort) => ({ port: 80, nodePort, protocol: 'TCP' })),
        },
      ];
    };
    it('80% used (2214 of 2768) is a note; 79% (2200) is none', () => {
      const at = assessStatus(snapshot(holding(2214)));
      assert.equal(at.budget.nodePorts?.usedPercent, 80);
      assert.equal(at.notes.length, 1);
      assert.match(at.notes[0] ?? '', /^the NodePort range 30000-32767 is 80% used \(2214 of 2768/);
      const below = assessStatus(snapshot(holding(2200)));
      assert.equal(below.budget.nodePorts?.usedPercent, 79);
      assert.deepEqual(below.notes, []);
    });
    it('a range with no free port left says its largest block is 0', () => {
      const r = assessStatus(snapshot(holding(2768)));
      assert.deepEqual(r.notes, [
        'the NodePort range 30000-32767 is 100% used (2768 of 2768, by every Service in the cluster): 0 left, the largest block 0. Each per-pod NodePort Service takes one; LoadBalancer rooms with Local take a second (the health check).',
      ]);
    });
  });

  it('the ClusterIP note names every CIDR of the family', () => {
    const r = assessStatus(
      snapshot((s) => {
        s.serviceIPs = {
          cidrs: [
            { name: 'kubernetes', cidrs: ['10.96.0.0/30'] },
            { name: 'extra', cidrs: ['10.97.0.0/30'] },
          ],
          addresses: ['10.96.0.1', '10.96.0.2', '10.97.0.1', '10.97.0.2'],
        };
      }),
    );
    assert.deepEqual(
      r.notes.filter((n) => n.includes('ClusterIPs')),
      [
        'the Service IPv4 range (10.96.0.0/30, 10.97.0.0/30) is 100% used (4 of 4 ClusterIPs): 0 left. Every per-pod Service takes one; a cluster admin can add a ServiceCIDR.',
      ],
    );
  });

  describe('LBHealthCheckFails: only a LoadBalancer with Local, of a room the StatefulSet keeps', () => {
    const notReady1 = (s: StatusSnapshot) => {
      s.pods[1] = pod(1, { ready: false, reason: 'CrashLoopBackOff' });
      s.endpoints[1]!.ready = false;
    };
    it('a LoadBalancer with Cluster, or a NodePort with Local, has no health check to fail', () => {
      const cluster = assessStatus(
        snapshot((s) => {
          notReady1(s);
          for (const v of s.services)
            Object.assign(v, { type: 'LoadBalancer', externalTrafficPolicy: 'Cluster' });
        }),
      );
      assert.deepEqual(kinds(cluster), ['PodNotReady']);
      const nodePort = assessStatus(
        snapshot((s) => {
          notReady1(s);
          for (const v of s.services) Object.assign(v, { externalTrafficPolicy: 'Local' });
        }),
      );
      assert.deepEqual(kinds(nodePort), ['PodNotReady']);
      const local = assessStatus(
        snapshot((s) => {
          notReady1(s);
          localLoadBalancers(s);
        }),
      );
      assert.deepEqual(kinds(local), ['PodNotReady', 'LBHealthCheckFails']);
    });
    it('a ready endpoint with no address passes no health check', () => {
      const r = assessStatus(
        snapshot((s) => {
          localLoadBalancers(s);
          s.endpoints[0]!.addresses = [];
        }),
      );
      assert.deepEqual(
        r.problems.map((p) => [p.kind, p.ordinal]),
        [['LBHealthCheckFails', 0]],
      );
    });
    it('a LoadBalancer reserved above the replicas (expose.count) has no room behind it yet: a note, not a failure', () => {
      const r = assessStatus(
        snapshot((s) => {
          s.values.exposeCount = 4;
          s.services.push(svc(2), svc(3));
          localLoadBalancers(s);
        }),
      );
      assert.deepEqual(r.problems, []);
      assert.equal(r.notes.length, 2);
    });
    it('without a health-check port the message names none', () => {
      const r = assessStatus(
        snapshot((s) => {
          notReady1(s);
          for (const v of s.services)
            Object.assign(v, { type: 'LoadBalancer', externalTrafficPolicy: 'Local' });
        }),
      );
      assert.ok(
        r.problems.some(
          (p) =>
            p.message ===
            `Service ${WL}-1 is a LoadBalancer with externalTrafficPolicy Local and no ready pod on a Ready node: its health check fails on every node, so the load balancer sends this room nothing`,
        ),
        JSON.stringify(r.problems),
      );
    });
  });

  it('workloadOf: the StatefulSet’s name wins over the names; an ordinal of two digits counts, a letter after it does not', () => {
    assert.equal(workloadOf('web', ['other-0'], 'rooms'), 'web');
    assert.equal(workloadOf(undefined, ['web-12'], 'rooms'), 'web');
    assert.equal(workloadOf(undefined, ['web-1x'], 'rooms'), 'rooms-expose-pods');
  });

  describe('the rollout: its defaults, and when it is in progress', () => {
    const updated = (s: StatusSnapshot) => {
      s.statefulSet = { ...s.statefulSet!, updateRevision: 'new' };
      s.pods = [pod(0, { revision: 'new' }), pod(1, { revision: 'new' })];
    };
    it('without a strategy it is RollingUpdate; unobserved only when the StatefulSet says so', () => {
      const r = assessStatus(snapshot(updated));
      assert.deepEqual([r.rollout?.strategy, r.rollout?.inProgress], ['RollingUpdate', false]);
      const unobserved = assessStatus(
        snapshot((s) => {
          updated(s);
          s.statefulSet!.observed = false;
        }),
      );
      assert.equal(unobserved.rollout?.inProgress, true);
    });
    it('a room above the replicas going away is the scale-down’s, not the rollout’s', () => {
      const r = assessStatus(
        snapshot((s) => {
          updated(s);
          s.pods.push(pod(2, { revision: 'new', terminating: true }));
        }),
      );
      assert.equal(r.rollout?.inProgress, false);
      const lower = assessStatus(
        snapshot((s) => {
          updated(s);
          s.pods[1] = pod(1, { revision: 'new', terminating: true });
        }),
      );
      assert.equal(lower.rollout?.inProgress, true);
    });
    it('a room the StatefulSet keeps whose pod is gone: in progress (it comes back), and its Service is no orphan', () => {
      const r = assessStatus(
        snapshot((s) => {
          updated(s);
          s.pods.pop();
        }),
      );
      assert.equal(r.rollout?.inProgress, true);
      assert.ok(!kinds(r).includes('ServiceWithoutPod'), JSON.stringify(r.problems));
      assert.deepEqual(r.notes, []);
    });
  });

  describe('the rows and problems per ordinal', () => {
    it('a Service of ours that selects no pod is not the room’s Service', () => {
      const r = assessStatus(
        snapshot((s) => {
          s.services[1] = { ...svc(1), selectsPod: undefined };
        }),
      );
      assert.deepEqual(
        r.ordinals.map((o) => [o.service, o.serviceExists]),
        [
          [`${WL}-0`, true],
          ['-', false],
        ],
      );
      assert.deepEqual(kinds(r), ['PodWithoutService']);
    });
    it('a Service without a port has no nodePort in its row', () => {
      const r = assessStatus(snapshot((s) => (s.services[1] = { ...svc(1), ports: [] })));
      assert.deepEqual(
        r.ordinals.map((o) => o.nodePort),
        [30880, undefined],
      );
    });
    it('a Service left above replicas changed outside Helm is an orphan, not a reserved port', () => {
      // kubectl scale --replicas 1 with expose.count 2 and room.replicas 2: web-1's Service has no pod.
      const r = assessStatus(
        snapshot((s) => {
          s.statefulSet!.replicas = 1;
          s.pods.pop();
        }),
      );
      assert.deepEqual(kinds(r).sort(), ['ReplicasDrift', 'ServiceWithoutPod']);
      assert.deepEqual(r.notes, []);
    });
    it('a node with a Hostname and an InternalIP has an address', () => {
      const r = assessStatus(
        snapshot((s) => {
          s.nodes[0]!.addresses = [
            { type: 'Hostname', address: 'node-a' },
            { type: 'InternalIP', address: '198.51.100.1' },
          ];
        }),
      );
      assert.deepEqual(r.problems, []);
    });
  });

  describe('NodePortCollision: only the ports of the ordinals exposed, and only the ordinal’s own Service may hold one', () => {
    it('a port past expose.count is not the release’s', () => {
      const r = assessStatus(
        snapshot((s) => {
          s.allServices = [...s.services, { ...svc(0, 30882), name: 'other-0', namespace: 'arena' }];
        }),
      );
      assert.deepEqual(r.problems, []);
    });
    it('another Service in the release’s namespace holding an ordinal’s port collides', () => {
      const r = assessStatus(
        snapshot((s) => {
          s.allServices = [svc(0), { ...svc(1), name: 'lobby' }];
        }),
      );
      assert.deepEqual(
        r.problems.map((p) => p.message),
        ['nodePort 30881 (ordinal 1) is taken by Service game/lobby of release rooms'],
      );
    });
  });
});
