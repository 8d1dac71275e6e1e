/**
 * The projections core makes from the views (core/model.ts) for one command:
 * what recover, tolerations and scale take from the StatefulSet, its pods
 * and the nodes. Tables, no nock: kube/views.ts's projections feed them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { NodeView, PodView, StatefulSetView } from '../../src/core/model.js';
import { OUT_OF_SERVICE_TAINT, recoverNodeOf } from '../../src/core/recover.js';
import { scaleObjectsOf } from '../../src/core/scale.js';
import { tolerationObjectsOf } from '../../src/core/tolerations.js';

const set: StatefulSetView = {
  name: 'rooms-expose-pods',
  replicas: 3,
  readyReplicas: 3,
  currentReplicas: 3,
  updateRevision: 'rooms-new',
  templateTolerations: [
    { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', tolerationSeconds: 30 },
  ],
  claimTemplates: ['data'],
};
const pod = (name: string, over: Partial<PodView> = {}): PodView => ({
  name,
  phase: 'Running',
  ready: true,
  terminating: false,
  nodeName: 'n1',
  ...over,
});
const node = (over: Partial<NodeView> = {}): NodeView => ({
  name: 'n1',
  ready: true,
  addresses: [],
  ...over,
});

describe('core projections: one command each, from the views', () => {
  it("recoverNodeOf: the Ready condition's status and time; no condition is Unknown; the out-of-service taint", () => {
    const cases: [string, Partial<NodeView>, unknown][] = [
      [
        'Ready since a time',
        { readyCondition: { status: 'True', since: 1000 } },
        { name: 'n1', ready: 'True', since: 1000, outOfService: false },
      ],
      [
        'stopped reporting',
        { ready: false, readyCondition: { status: 'Unknown', since: 2000 } },
        { name: 'n1', ready: 'Unknown', since: 2000, outOfService: false },
      ],
      [
        'no Ready condition',
        { ready: false },
        { name: 'n1', ready: 'Unknown', since: undefined, outOfService: false },
      ],
      [
        'unreachable, not out of service',
        {
          ready: false,
          readyCondition: { status: 'Unknown' },
          taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }],
        },
        { name: 'n1', ready: 'Unknown', since: undefined, outOfService: false },
      ],
      [
        'out of service',
        {
          ready: false,
          readyCondition: { status: 'False' },
          taints: [{ key: 'other', effect: 'NoSchedule' }, { ...OUT_OF_SERVICE_TAINT }],
        },
        { name: 'n1', ready: 'False', since: undefined, outOfService: true },
      ],
    ];
    for (const [name, over, want] of cases) assert.deepEqual(recoverNodeOf(node(over)), want, name);
  });

  it("tolerationObjectsOf: the template's tolerations and revision, each pod's own, and the replica count", () => {
    const tolerations = [
      { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute', tolerationSeconds: 300 },
    ];
    assert.deepEqual(
      tolerationObjectsOf(set, [
        pod('rooms-expose-pods-0', { tolerations, revision: 'rooms-new' }),
        pod('rooms-expose-pods-1', { nodeName: undefined }),
      ]),
      {
        workload: 'rooms-expose-pods',
        replicas: 3,
        template: set.templateTolerations,
        updateRevision: 'rooms-new',
        pods: [
          { name: 'rooms-expose-pods-0', nodeName: 'n1', tolerations, revision: 'rooms-new' },
          { name: 'rooms-expose-pods-1', nodeName: undefined, tolerations: undefined, revision: undefined },
        ],
      },
    );
  });

  it('scaleObjectsOf: the live count, the claims by name (nameless ones dropped), the claim templates', () => {
    const pods = [pod('rooms-expose-pods-0')];
    const o = scaleObjectsOf(
      { ...set, replicas: 5 },
      pods,
      [],
      [
        { name: 'data-rooms-expose-pods-0', phase: 'Bound' },
        { name: '', phase: 'Pending' },
      ],
    );
    assert.deepEqual(o, {
      workload: 'rooms-expose-pods',
      liveReplicas: 5,
      pods,
      services: [],
      pvcs: ['data-rooms-expose-pods-0'],
      claimTemplates: ['data'],
    });
  });
});
