/**
 * The projections of kube/views.ts: API objects in, the views core reasons
 * about out. Pure, so tested from tables of objects, without nock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { V1Deployment, V1Pod, V1Service, V1StatefulSet } from '@kubernetes/client-node';

import {
  endpointViews,
  endpointsInput,
  nodeView,
  ofRelease,
  helmServicesOf,
  labelledView,
  podsPerNode,
  endOnRestartOf,
  podView,
  podViewsOf,
  progressObjectsOf,
  releaseObjectsFrom,
  serviceCidrView,
  pvcView,
  redisClaimOf,
  redisSecretOf,
  redisView,
  roomObjectsOf,
  serviceView,
  statefulSetView,
} from '../../src/kube/views.js';
import { redisDeployment as redis } from '../support/kube.js';

const NOT_MARKED = { allocated: false, draining: false };

const pod = (
  name: string,
  o: { ready?: boolean; labels?: Record<string, string>; node?: string } = {},
): V1Pod => ({
  metadata: {
    name,
    uid: `uid-${name}`,
    resourceVersion: '7',
    creationTimestamp: new Date('2026-12-05T00:00:00Z'),
    labels: o.labels ?? {},
  },
  spec: { nodeName: o.node ?? 'n1', containers: [] },
  status: {
    phase: 'Running',
    podIP: '10.0.0.1',
    conditions: [
      o.ready === false
        ? { type: 'Ready', status: 'False', reason: 'ContainersNotReady' }
        : { type: 'Ready', status: 'True', lastTransitionTime: new Date('2026-12-05T00:00:03Z') },
    ],
    containerStatuses: [
      { name: 'room', restartCount: 2, ready: o.ready !== false, image: 'x', imageID: '', started: true },
    ],
  },
});

const statefulSet = (
  o: { annotations?: Record<string, string>; template?: Record<string, string> } = {},
): V1StatefulSet => ({
  metadata: { name: 'rooms-expose-pods', annotations: o.annotations ?? {} },
  spec: {
    replicas: 3,
    serviceName: 'rooms-expose-pods-headless',
    selector: {},
    template: { metadata: { annotations: o.template ?? {} }, spec: { containers: [] } },
  },
  status: { replicas: 3, readyReplicas: 2, currentReplicas: 3 },
});

const service = (name: string, selectsPod?: string): V1Service => ({
  metadata: { name, namespace: 'game', labels: { 'app.kubernetes.io/instance': 'rooms' } },
  spec: {
    type: 'NodePort',
    externalTrafficPolicy: 'Local',
    clusterIP: '10.96.0.9',
    selector: selectsPod ? { 'statefulset.kubernetes.io/pod-name': selectsPod } : {},
    ports: [{ port: 7777, nodePort: 31000 }],
  },
});

describe('kube/views.ts: the API objects as core sees them (tables, no nock)', () => {
  it('podView: readiness, the time to Ready, restarts, the reason a pod is not ready, and its marks', () => {
    assert.deepEqual(podView(pod('rooms-expose-pods-0'), true), {
      name: 'rooms-expose-pods-0',
      phase: 'Running',
      ready: true,
      nodeName: 'n1',
      podIP: '10.0.0.1',
      terminating: false,
      reason: undefined,
      uid: 'uid-rooms-expose-pods-0',
      resourceVersion: '7',
      restarts: 2,
      mark: NOT_MARKED,
      readySeconds: 3,
    });
    const notReady = podView(
      pod('p', { ready: false, labels: { 'expose-pods.io/state': 'Allocated' } }),
      true,
    );
    assert.deepEqual(
      [notReady.ready, notReady.reason, notReady.readySeconds, notReady.mark],
      [false, 'ContainersNotReady', undefined, { allocated: true, draining: false }],
    );
    // A waiting container says more than the condition.
    const waiting = pod('w', { ready: false });
    const [container] = waiting.status?.containerStatuses ?? [];
    if (container) container.state = { waiting: { reason: 'ImagePullBackOff' } };
    assert.equal(podView(waiting, true).reason, 'ImagePullBackOff');
    assert.equal(podView({ metadata: { name: 'x', deletionTimestamp: new Date() } }, true).terminating, true);
    assert.deepEqual(podView({}, true), {
      name: '',
      phase: 'Unknown',
      ready: false,
      nodeName: undefined,
      podIP: undefined,
      terminating: false,
      reason: undefined,
      uid: undefined,
      resourceVersion: undefined,
      restarts: 0,
      mark: NOT_MARKED,
    });
    // What tolerations reads: the live tolerations (admission's included) and the revision label.
    const tolerations = [
      { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute', tolerationSeconds: 300 },
    ];
    const withTolerations = pod('t', { labels: { 'controller-revision-hash': 'rooms-abc' } });
    withTolerations.spec!.tolerations = tolerations;
    const t = podView(withTolerations, true);
    assert.deepEqual([t.tolerations, t.revision], [tolerations, 'rooms-abc']);
  });

  it('restarts count the containers and the sidecars (restartable init containers), not the init containers that ran once', () => {
    const p = pod('rooms-expose-pods-0');
    p.spec!.initContainers = [
      { name: 'setup', image: 'x' },
      { name: 'proxy', image: 'x', restartPolicy: 'Always' },
    ];
    const init = (name: string, restartCount: number) => ({
      name,
      restartCount,
      ready: true,
      image: 'x',
      imageID: '',
    });
    p.status!.initContainerStatuses = [init('setup', 5), init('proxy', 4)];
    assert.equal(podView(p, true).restarts, 2 + 4);
    // Without the sidecar's restartPolicy, the same statuses count nothing from init containers.
    p.spec!.initContainers = [
      { name: 'setup', image: 'x' },
      { name: 'proxy', image: 'x' },
    ];
    assert.equal(podView(p, true).restarts, 2);
  });

  it('an allocation a restart ended: Free with endOnRestart (the last termination as its end), Allocated and stale without', () => {
    const allocated = (restartsAtAllocation: string, annotations: Record<string, string> = {}) => {
      const p = pod('rooms-expose-pods-0', { labels: { 'expose-pods.io/state': 'Allocated' } });
      p.metadata!.annotations = {
        'expose-pods.io/allocated-at': '2026-12-07T05:00:00.000Z',
        'expose-pods.io/allocated-restarts': restartsAtAllocation,
        'expose-pods.io/allocation-id': 'match-7',
        ...annotations,
      };
      const [c] = p.status!.containerStatuses!;
      c!.lastState = { terminated: { exitCode: 0, finishedAt: new Date('2026-12-07T05:10:00Z') } };
      return p;
    };
    // Two restarts now, one at the allocation: ended.
    const ended = podView(allocated('1'), true).mark;
    assert.equal(ended?.allocated, false);
    assert.deepEqual(ended.ended, {
      id: 'match-7',
      allocatedAt: '2026-12-07T05:00:00.000Z',
      endedAt: '2026-12-07T05:10:00.000Z',
    });
    assert.equal(
      podView(allocated('1'), false).mark?.allocated,
      true,
      'endOnRestart false: stale, still Allocated',
    );
    assert.equal(podView(allocated('2'), true).mark?.allocated, true, 'restarts equal: the match runs');
    // The StatefulSet's annotation says which: true unless "false".
    const sets = [statefulSet(), statefulSet({ annotations: { 'expose-pods.io/end-on-restart': 'false' } })];
    assert.deepEqual(sets.map(endOnRestartOf), [true, false]);
    assert.equal(endOnRestartOf(undefined), true);
    assert.deepEqual(
      sets.map((set) => podViewsOf([allocated('1')], set)[0]?.mark?.allocated),
      [false, true],
    );
    assert.deepEqual(
      sets.map((set) => roomObjectsOf('game', [set], [allocated('1')], [], [])?.endOnRestart),
      [true, false],
    );
  });

  it('serviceView and endpointViews: the pod a Service selects, its ports, and a slice with no endpoints', () => {
    assert.deepEqual(serviceView(service('rooms-expose-pods-0', 'rooms-expose-pods-0')), {
      name: 'rooms-expose-pods-0',
      namespace: 'game',
      type: 'NodePort',
      selectsPod: 'rooms-expose-pods-0',
      ports: [{ port: 7777, nodePort: 31000, protocol: 'TCP' }],
      ingress: [],
      release: 'rooms',
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: undefined,
      clusterIPs: ['10.96.0.9'],
    });
    assert.deepEqual(serviceView({ spec: { clusterIP: 'None' } }).clusterIPs, []);
    assert.deepEqual(
      endpointViews({
        addressType: 'IPv4',
        metadata: { labels: { 'kubernetes.io/service-name': 's0' } },
        endpoints: [
          { addresses: ['10.0.0.1'], conditions: { ready: true }, nodeName: 'n1' },
          { addresses: ['10.0.0.2'], conditions: { ready: false } },
        ],
      }),
      [
        { service: 's0', addresses: ['10.0.0.1'], ready: true, nodeName: 'n1' },
        { service: 's0', addresses: ['10.0.0.2'], ready: false, nodeName: undefined },
      ],
    );
    // The API server sends "endpoints": null for a Service with no pod.
    assert.deepEqual(endpointViews({ addressType: 'IPv4', endpoints: null } as never), []);
  });

  it('nodeView and pvcView: readiness, pod slots as a quantity, taints; a claim without status is Pending', () => {
    assert.deepEqual(
      nodeView({
        metadata: { name: 'n1', labels: { zone: 'a' } },
        spec: { unschedulable: true, taints: [{ key: 'k', effect: 'NoSchedule' }] },
        status: {
          allocatable: { pods: '1k' },
          conditions: [{ type: 'Ready', status: 'True' }],
          addresses: [{ type: 'InternalIP', address: '10.1.0.1' }],
        },
      }),
      {
        name: 'n1',
        ready: true,
        unschedulable: true,
        allocatablePods: 1000,
        addresses: [{ type: 'InternalIP', address: '10.1.0.1' }],
        labels: { zone: 'a' },
        taints: [{ key: 'k', effect: 'NoSchedule' }],
        readyCondition: { status: 'True' },
      },
    );
    // The Ready condition as recover reads it: anything but True or False is Unknown; no condition, none.
    const at = '2026-12-05T00:00:00Z';
    const readiness: [string | undefined, string | undefined, unknown][] = [
      ['True', at, { ready: true, readyCondition: { status: 'True', since: Date.parse(at) } }],
      ['False', at, { ready: false, readyCondition: { status: 'False', since: Date.parse(at) } }],
      ['Unknown', undefined, { ready: false, readyCondition: { status: 'Unknown' } }],
      ['Bogus', 'not a time', { ready: false, readyCondition: { status: 'Unknown' } }],
      [undefined, undefined, { ready: false, readyCondition: undefined }],
    ];
    for (const [status, time, want] of readiness) {
      const conditions =
        status === undefined
          ? []
          : [{ type: 'Ready', status, ...(time ? { lastTransitionTime: time as unknown as Date } : {}) }];
      const v = nodeView({ status: { conditions } });
      assert.deepEqual({ ready: v.ready, readyCondition: v.readyCondition }, want, `${status} ${time}`);
    }
    assert.deepEqual(pvcView({ metadata: { name: 'data' } }), { name: 'data', phase: 'Pending' });
  });

  it("Redis: its Secret and claim from the Deployment (the chart's or the user's), and its view", () => {
    const cases: [V1Deployment, string | undefined, string | undefined][] = [
      [
        redis({ secret: 'rooms-expose-pods-redis', claim: 'rooms-expose-pods-redis-data' }),
        'rooms-expose-pods-redis',
        'rooms-expose-pods-redis-data',
      ],
      [redis({ secret: 'mine' }), 'mine', undefined],
      [redis({}), undefined, undefined],
    ];
    for (const [d, secret, claim] of cases) {
      assert.equal(redisSecretOf(d), secret);
      assert.equal(redisClaimOf(d), claim);
    }
    assert.deepEqual(
      redisView(redis({ secret: 's', claim: 'c' }), [pod('r', { ready: false }), pod('r2')], true, {
        metadata: { name: 'c' },
        status: { phase: 'Bound' },
      }),
      {
        podReady: true,
        pvc: { name: 'c', phase: 'Bound' },
        pvcExpected: true,
        secretPresent: true,
        secretName: 's',
      },
    );
    assert.deepEqual(redisView(redis({}), [], false, undefined), {
      podReady: false,
      pvc: undefined,
      pvcExpected: false,
      secretPresent: false,
      secretName: '',
    });
  });

  it('statefulSetView: spec and status counts (the current count falling back to status.replicas), the headless Service, revision, template tolerations, claim templates', () => {
    const full: V1StatefulSet = {
      metadata: { name: 'rooms-expose-pods' },
      spec: {
        replicas: 3,
        serviceName: 'rooms-expose-pods-headless',
        selector: {},
        template: {
          spec: {
            containers: [],
            tolerations: [
              { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', tolerationSeconds: 30 },
            ],
          },
        },
        volumeClaimTemplates: [{ metadata: { name: 'data' } }, { metadata: {} }],
      },
      status: { replicas: 3, readyReplicas: 2, currentReplicas: 3, updateRevision: 'rooms-abc' },
    };
    assert.deepEqual(statefulSetView(full), {
      name: 'rooms-expose-pods',
      replicas: 3,
      readyReplicas: 2,
      currentReplicas: 3,
      serviceName: 'rooms-expose-pods-headless',
      updateRevision: 'rooms-abc',
      observed: true,
      updateStrategy: 'RollingUpdate',
      podManagementPolicy: 'OrderedReady',
      templateTolerations: [
        { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', tolerationSeconds: 30 },
      ],
      claimTemplates: ['data'],
    });
    assert.deepEqual(statefulSetView({ status: { replicas: 4 } }), {
      name: '',
      replicas: 0,
      readyReplicas: 0,
      currentReplicas: 4,
      observed: true,
      updateStrategy: 'RollingUpdate',
      podManagementPolicy: 'OrderedReady',
      claimTemplates: [],
    });
    // The controller has not seen generation 3 yet: its status speaks of an older spec.
    const behind = statefulSetView({
      metadata: { name: 'x', generation: 3 },
      spec: { selector: {}, template: {}, updateStrategy: { type: 'OnDelete' } },
      status: { replicas: 1, observedGeneration: 2 },
    });
    assert.equal(behind.observed, false);
    assert.equal(behind.updateStrategy, 'OnDelete');
    assert.equal(
      statefulSetView({ metadata: { generation: 3 }, status: { replicas: 1, observedGeneration: 3 } })
        .observed,
      true,
    );
  });

  it('ofRelease: one release and component among a namespace, by both labels', () => {
    const o = (instance: string, component: string) => ({
      metadata: {
        labels: { 'app.kubernetes.io/instance': instance, 'app.kubernetes.io/component': component },
      },
    });
    const items = [o('rooms', 'room'), o('rooms', 'redis'), o('other', 'room'), {}, { metadata: {} }];
    assert.deepEqual(ofRelease(items, 'rooms', 'room'), [items[0]]);
    assert.deepEqual(ofRelease(items, 'rooms', 'pod-service'), []);
  });

  it('endpointsInput and roomObjectsOf: nothing without a named StatefulSet; the headless name; safe-to-evict', () => {
    assert.equal(endpointsInput('game', [], [], [], []), undefined);
    assert.equal(
      endpointsInput(
        'game',
        [{ spec: { replicas: 1, selector: {}, serviceName: 'x', template: {} } }],
        [],
        [],
        [],
      ),
      undefined,
    );
    const input = endpointsInput(
      'game',
      [statefulSet()],
      [pod('rooms-expose-pods-0')],
      [service('s0', 'rooms-expose-pods-0')],
      undefined,
    );
    assert.deepEqual(
      input && { ...input, pods: input.pods.map((p) => p.name), services: input.services.map((s) => s.name) },
      {
        namespace: 'game',
        workload: 'rooms-expose-pods',
        headless: 'rooms-expose-pods-headless',
        replicas: 3,
        pods: ['rooms-expose-pods-0'],
        services: ['s0'],
        nodes: undefined,
      },
    );
    const cases: [Parameters<typeof statefulSet>[0], boolean, boolean][] = [
      [{}, true, false],
      [{ annotations: { 'expose-pods.io/mark-safe-to-evict': 'false' } }, false, false],
      [{ annotations: { 'expose-pods.io/mark-safe-to-evict': 'true' } }, true, false],
      [{ template: { 'cluster-autoscaler.kubernetes.io/safe-to-evict': 'true' } }, true, true],
    ];
    for (const [o, mark, templateSets] of cases) {
      const r = roomObjectsOf('game', [statefulSet(o)], [], [], []);
      assert.deepEqual(
        [r?.markSafeToEvict, r?.templateSetsSafeToEvict],
        [mark, templateSets],
        JSON.stringify(o),
      );
    }
    assert.equal(roomObjectsOf('game', [], [], [], []), undefined);
  });

  it('progressObjectsOf: nothing without a named StatefulSet; Redis pods only when a Redis Deployment exists', () => {
    const rooms = [pod('rooms-expose-pods-0'), pod('rooms-expose-pods-1', { ready: false })];
    const redisPod = pod('rooms-expose-pods-redis-x');
    const cases: [string, Parameters<typeof progressObjectsOf>, unknown][] = [
      ['no StatefulSet yet (an install)', [[], rooms, [], []], undefined],
      [
        'a StatefulSet without a name',
        [[{ spec: { selector: {}, serviceName: 'x', template: {} } }], [], [], []],
        undefined,
      ],
      [
        'no Redis',
        [[statefulSet()], rooms, [], [redisPod]],
        {
          workload: 'rooms-expose-pods',
          replicas: 3,
          pods: ['rooms-expose-pods-0:true', 'rooms-expose-pods-1:false'],
        },
      ],
      [
        'Redis, its pod not created yet',
        [[statefulSet()], [], [redis({})], []],
        { workload: 'rooms-expose-pods', replicas: 3, pods: [], redisPods: [] },
      ],
      [
        'Redis and its pod',
        [[statefulSet()], [], [redis({})], [redisPod]],
        {
          workload: 'rooms-expose-pods',
          replicas: 3,
          pods: [],
          redisPods: ['rooms-expose-pods-redis-x:true'],
        },
      ],
    ];
    for (const [name, args, want] of cases) {
      const o = progressObjectsOf(...args);
      const names = (ps: { name: string; ready: boolean }[]) => ps.map((p) => `${p.name}:${p.ready}`);
      const got = o && {
        workload: o.workload,
        replicas: o.replicas,
        pods: names(o.pods),
        ...(o.redisPods ? { redisPods: names(o.redisPods) } : {}),
      };
      assert.deepEqual(got, want, name);
    }
  });

  it('releaseObjectsFrom: the StatefulSet view and template, pods, Services, endpoints; nothing without a StatefulSet', () => {
    const cluster = { nodes: [], serviceIPs: { unknown: 'n/a' } };
    const o = releaseObjectsFrom(
      statefulSet(),
      [pod('rooms-expose-pods-0')],
      [service('s0', 'rooms-expose-pods-0')],
      [
        {
          addressType: 'IPv4',
          endpoints: [{ addresses: ['10.0.0.1'] }],
          metadata: { labels: { 'kubernetes.io/service-name': 's0' } },
        },
      ],
      undefined,
      cluster,
    );
    assert.deepEqual(
      {
        statefulSet: o.statefulSet?.name,
        pods: o.pods.map((p) => p.name),
        services: o.services.map((x) => x.name),
        endpoints: o.endpoints.map((e) => e.service),
        template: o.template,
        cluster: o.cluster,
      },
      {
        statefulSet: 'rooms-expose-pods',
        pods: ['rooms-expose-pods-0'],
        services: ['s0'],
        endpoints: ['s0'],
        template: statefulSet().spec?.template,
        cluster,
      },
    );
    const none = releaseObjectsFrom(undefined, [], [], [], undefined, cluster);
    assert.deepEqual([none.statefulSet, none.template, none.pods], [undefined, undefined, []]);
  });

  it('podsPerNode: pods counted on the node they are bound to; unbound pods not at all', () => {
    const bound = (node?: string): V1Pod => ({
      spec: { containers: [], ...(node ? { nodeName: node } : {}) },
    });
    assert.deepEqual(
      [...podsPerNode([bound('a'), bound('b'), bound('a'), bound()])],
      [
        ['a', 2],
        ['b', 1],
      ],
    );
    assert.deepEqual([...podsPerNode([])], []);
  });

  it("helmServicesOf: only the Services Helm made for this release in this namespace, by all three of Helm's marks", () => {
    const svc = (name: string, annotations: Record<string, string>, managedBy = 'Helm'): V1Service => ({
      metadata: {
        name,
        uid: `uid-${name}`,
        annotations,
        labels: { 'app.kubernetes.io/instance': 'rooms', 'app.kubernetes.io/managed-by': managedBy },
      },
    });
    const ours = { 'meta.helm.sh/release-name': 'rooms', 'meta.helm.sh/release-namespace': 'game' };
    const services = [
      svc('ours', ours),
      svc('other-release', { ...ours, 'meta.helm.sh/release-name': 'other' }),
      svc('other-namespace', { ...ours, 'meta.helm.sh/release-namespace': 'prod' }),
      svc('not-helm', ours, 'kubectl'),
      svc('no-annotations', {}),
    ];
    assert.deepEqual(helmServicesOf(services, 'rooms', 'game'), [{ name: 'ours', uid: 'uid-ours' }]);
  });

  it('labelledView and serviceCidrView: missing metadata reads as empty', () => {
    assert.deepEqual(labelledView({ metadata: { name: 'x', labels: { a: '1' } } }), {
      name: 'x',
      labels: { a: '1' },
      annotations: {},
    });
    assert.deepEqual(labelledView({}), { name: '', labels: {}, annotations: {} });
    assert.deepEqual(
      serviceCidrView({ metadata: { name: 'kubernetes' }, spec: { cidrs: ['10.96.0.0/16'] } }),
      {
        name: 'kubernetes',
        cidrs: ['10.96.0.0/16'],
      },
    );
    assert.deepEqual(serviceCidrView({}), { name: '', cidrs: [] });
  });
});
