import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import nock from 'nock';

import { classifyPods, recoverImpact, recoverWarnings, type RecoverNode } from '../../src/core/recover.js';
import { ExitCode } from '../../src/errors.js';
import { forceDeletePod, taintOutOfService } from '../../src/kube/writes.js';
import { runRecover } from '../../src/ops/recover.js';
import { FAKE_SERVER, fakeKube, fakeKubeconfigFile, mockReleaseLists } from '../support/kube.js';

const now = Date.parse('2026-11-22T07:00:00Z');
const node = (name: string, ready: RecoverNode['ready'], agoS = 30): RecoverNode => ({
  name,
  ready,
  since: now - agoS * 1000,
  outOfService: false,
});

describe('classifyPods', () => {
  it('stuck (Terminating on a lost node), at risk (on one, not evicted yet), healthy, unscheduled; by ordinal', () => {
    const rows = classifyPods(
      'w',
      [
        { name: 'w-3', nodeName: 'ok', ready: true, terminating: false },
        { name: 'w-1', nodeName: 'lost', ready: false, terminating: false },
        { name: 'w-0', nodeName: 'lost', ready: false, terminating: true },
        { name: 'w-2', ready: false, terminating: false },
        { name: 'w-4', nodeName: 'gone', ready: false, terminating: true },
      ],
      [node('ok', 'True'), node('lost', 'Unknown', 42)],
      now,
    );
    assert.deepEqual(
      rows.map((r) => [r.pod, r.state, r.nodeReady, r.forSeconds]),
      [
        ['w-0', 'stuck', 'Unknown', 42],
        ['w-1', 'at-risk', 'Unknown', 42],
        ['w-2', 'unscheduled', null, null],
        ['w-3', 'healthy', 'True', 30],
        ['w-4', 'stuck', null, null],
      ],
    );
  });
});

describe('recover and rooms in use', () => {
  const allocated = {
    allocated: true,
    draining: false,
    allocatedAt: '2026-11-22T06:00:00Z',
    metadata: { match: 'm-1' },
  };
  const rows = classifyPods(
    'w',
    [
      { name: 'w-0', nodeName: 'lost', ready: false, terminating: true, mark: allocated, restarts: 0 },
      { name: 'w-1', nodeName: 'lost', ready: false, terminating: false },
      { name: 'w-2', nodeName: 'lost2', ready: false, terminating: true },
      { name: 'w-3', nodeName: 'ok', ready: true, terminating: false, mark: allocated },
    ],
    [node('ok', 'True'), node('lost', 'Unknown'), node('lost2', 'False')],
    now,
  );
  it('each pod carries its room state and allocation (for the STATE column and -o json)', () => {
    assert.deepEqual(
      rows.map((r) => [r.pod, r.roomState, r.allocation?.metadata ?? null]),
      [
        ['w-0', 'Allocated', { match: 'm-1' }],
        ['w-1', 'Free', null],
        ['w-2', 'Free', null],
        ['w-3', 'Allocated', { match: 'm-1' }],
      ],
    );
  });
  it('--force-delete of one pod touches that pod only; the rooms in use among the targets are named', () => {
    const one = recoverImpact(rows, [rows[0]!], 'force-delete');
    assert.deepEqual(one, { touched: ['w-0'], alsoOnNode: [], inUse: ['w-0'] });
    assert.deepEqual(recoverImpact(rows, [rows[1]!], 'force-delete'), {
      touched: ['w-1'],
      alsoOnNode: [],
      inUse: [],
    });
    const warned = recoverWarnings(one, 'force-delete');
    assert.equal(warned.length, 1);
    assert.match(
      warned[0]!,
      /^force-deletes 1 room\(s\) in use \(Allocated\): w-0; if the node is only cut off \(a network partition\), their matches may still run there while each replacement starts Free and can be allocated to a new match$/,
    );
    assert.deepEqual(recoverWarnings({ touched: ['w-1'], alsoOnNode: [], inUse: [] }, 'force-delete'), []);
  });
  it('--pod X --out-of-service taints the whole node: the other rooms on it are named, and those in use; not those on other nodes', () => {
    const impact = recoverImpact(rows, [rows[1]!], 'out-of-service');
    assert.deepEqual(impact, { touched: ['w-0', 'w-1'], alsoOnNode: ['w-0'], inUse: ['w-0'] });
    const warned = recoverWarnings(impact, 'out-of-service');
    assert.match(warned[0]!, /also w-0$/);
    assert.match(warned[1]!, /^deletes 1 room\(s\) in use \(Allocated\): w-0;/);
  });
});

describe('recover requests (nock)', () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());

  it('force delete: DELETE with gracePeriodSeconds=0 in the query and the body; 404 counts as done', async () => {
    let body: any;
    const scope = nock(FAKE_SERVER)
      .delete('/api/v1/namespaces/game/pods/w-0', (b: any) => ((body = b), true))
      .query({ gracePeriodSeconds: '0' })
      .reply(200, {})
      .delete('/api/v1/namespaces/game/pods/w-1')
      .query(true)
      .reply(404, { kind: 'Status', code: 404, reason: 'NotFound' });
    await forceDeletePod(fakeKube(), 'game', 'w-0');
    await forceDeletePod(fakeKube(), 'game', 'w-1');
    assert.equal(body.gracePeriodSeconds, 0);
    assert.ok(scope.isDone());
  });

  it('out-of-service: a merge patch of the whole taint list, guarded by resourceVersion; not added twice', async () => {
    let patch: any;
    const existing = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' };
    const scope = nock(FAKE_SERVER)
      .get('/api/v1/nodes/lost')
      .reply(200, { metadata: { name: 'lost', resourceVersion: '88' }, spec: { taints: [existing] } })
      .patch('/api/v1/nodes/lost', (b: any) => ((patch = b), true))
      .matchHeader('content-type', 'application/merge-patch+json')
      .reply(200, {});
    assert.equal(await taintOutOfService(fakeKube(), 'lost'), true);
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    assert.deepEqual(patch, {
      metadata: { resourceVersion: '88' },
      spec: {
        taints: [
          existing,
          { key: 'node.kubernetes.io/out-of-service', value: 'nodeshutdown', effect: 'NoExecute' },
        ],
      },
    });

    nock(FAKE_SERVER)
      .get('/api/v1/nodes/lost')
      .reply(200, {
        metadata: { name: 'lost' },
        spec: {
          taints: [{ key: 'node.kubernetes.io/out-of-service', value: 'nodeshutdown', effect: 'NoExecute' }],
        },
      });
    assert.equal(await taintOutOfService(fakeKube(), 'lost'), false);
  });

  it("after the prompt: the delete carries the confirmed pod's UID (a replacement answers 409 and is left alone); a node Ready again is not tainted", async () => {
    let body: any;
    nock(FAKE_SERVER)
      .delete('/api/v1/namespaces/game/pods/w-0', (b: any) => ((body = b), true))
      .query({ gracePeriodSeconds: '0' })
      .reply(409, {
        kind: 'Status',
        code: 409,
        reason: 'Conflict',
        message: 'Precondition failed: UID in precondition: u-1, UID in object meta: u-2',
      });
    assert.equal(await forceDeletePod(fakeKube(), 'game', 'w-0', 'u-1'), false);
    assert.deepEqual(body, { gracePeriodSeconds: 0, preconditions: { uid: 'u-1' } });

    const scope = nock(FAKE_SERVER)
      .get('/api/v1/nodes/lost')
      .reply(200, {
        metadata: { name: 'lost', resourceVersion: '90' },
        spec: { taints: [] },
        status: { conditions: [{ type: 'Ready', status: 'True' }] },
      });
    assert.equal(await taintOutOfService(fakeKube(), 'lost'), false);
    assert.ok(scope.isDone(), 'read, and no patch');
  });

  it('a 409 on the taint (the node changed meanwhile) is CONFLICT, and 403 is FORBIDDEN naming the verb', async () => {
    nock(FAKE_SERVER)
      .get('/api/v1/nodes/lost')
      .reply(200, { metadata: { name: 'lost', resourceVersion: '1' }, spec: {} })
      .patch('/api/v1/nodes/lost')
      .reply(409, { kind: 'Status', code: 409, reason: 'Conflict', message: 'the object has been modified' });
    await assert.rejects(taintOutOfService(fakeKube(), 'lost'), { exitCode: 9 });
    nock(FAKE_SERVER)
      .get('/api/v1/nodes/lost')
      .reply(403, { kind: 'Status', code: 403, reason: 'Forbidden' });
    await assert.rejects(taintOutOfService(fakeKube(), 'lost'), (e: any) => {
      assert.equal(e.exitCode, 6);
      assert.match(e.message, /^forbidden: you may not taint node lost \(403\)/);
      return true;
    });
  });
});

describe('recover --out-of-service without patch on nodes (what rbac grants by default)', () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());

  it('exit 6 naming the permission and the rbac flag, before the prompt and before anything is written', async () => {
    const lostNode = {
      metadata: { name: 'lost' },
      status: {
        conditions: [{ type: 'Ready', status: 'Unknown', lastTransitionTime: '2026-11-22T06:00:00Z' }],
      },
    };
    const pod = {
      metadata: { name: 'rooms-expose-pods-0', uid: 'u-0', labels: {} },
      spec: { nodeName: 'lost' },
      status: { phase: 'Running' },
    };
    const sts = { metadata: { name: 'rooms-expose-pods' }, spec: { replicas: 1 } };
    const asked: string[] = [];
    // Only GETs and the two reviews: a write (a lease, a taint) would find no mock and fail otherwise.
    const scope = mockReleaseLists(nock(FAKE_SERVER), {
      statefulSets: { items: [sts] },
      roomPods: { items: [pod] },
    })
      .get('/api/v1/nodes')
      .reply(200, { items: [lostNode] })
      .post('/apis/authorization.k8s.io/v1/selfsubjectrulesreviews')
      .reply(201, (_u: string, b: any) => ({
        ...b,
        status: { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], incomplete: false },
      }))
      .post('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews')
      .reply(
        201,
        (_u: string, b: any) => (asked.push(b.spec.resourceAttributes.verb), { status: { allowed: false } }),
      );
    await assert.rejects(
      runRecover({
        release: 'rooms',
        kube: { kubeconfig: fakeKubeconfigFile() },
        action: 'out-of-service',
        timeoutMs: 1000,
        confirm: () => Promise.reject(new Error('asked to confirm')),
        warn: () => undefined,
      }),
      (e: any) => {
        assert.equal(e.exitCode, ExitCode.FORBIDDEN, e.message);
        assert.match(e.message, /nothing was changed: patch nodes cluster-wide$/);
        assert.match(e.hint, /kubectl expose-pods rbac -n game --release rooms --out-of-service --user NAME/);
        return true;
      },
    );
    assert.deepEqual(asked, ['patch']);
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
  });
});

describe('recover, both sides (mutation testing, 2026-12-07)', () => {
  it('a pod whose name carries no ordinal sorts first (-1); out of service only on a node that says so', () => {
    const rows = classifyPods(
      'w',
      [
        { name: 'w-1', nodeName: 'tainted', ready: false, terminating: true },
        { name: 'x', nodeName: 'gone', ready: false, terminating: true },
        { name: 'w-0', nodeName: 'lost', ready: false, terminating: true },
      ],
      [{ ...node('tainted', 'Unknown'), outOfService: true }, node('lost', 'Unknown')],
      now,
    );
    assert.deepEqual(
      rows.map((r) => [r.ordinal, r.pod, r.outOfService]),
      [
        [-1, 'x', false],
        [0, 'w-0', false],
        [1, 'w-1', true],
      ],
    );
  });
  it('the warnings list every room, comma-separated', () => {
    assert.deepEqual(
      recoverWarnings(
        { touched: ['w-0', 'w-1', 'w-2'], alsoOnNode: ['w-1', 'w-2'], inUse: ['w-0', 'w-1'] },
        'out-of-service',
      ),
      [
        'the taint deletes every pod on the node, not only the one named: also w-1, w-2',
        'deletes 2 room(s) in use (Allocated): w-0, w-1; if the node is only cut off (a network partition), their matches may still run there while each replacement starts Free and can be allocated to a new match',
      ],
    );
  });
});
