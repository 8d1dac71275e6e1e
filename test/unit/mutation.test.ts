import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';

import nock from 'nock';

import { ExitCode } from '../../src/errors.js';
import { forcesConflicts } from '../../src/ops/change-apply.js';
import { withReleaseChange, type ConfirmAsk, type SessionRequest } from '../../src/ops/mutation.js';
import { FAKE_SERVER, fakeKubeconfigFile, mockAccessReviews } from '../support/kube.js';
import { eventually } from '../support/poll.js';
import { signals } from '../support/signals.js';

/**
 * A stand-in helm: answers the calls the change path makes from files in its
 * state dir, and records each call (arguments, stdin, the HELM_KUBE* it saw)
 * to calls.jsonl. `upgrade` without --dry-run sleeps when state/slow exists,
 * so a test can interrupt it.
 */
const FAKE_HELM = `#!/usr/bin/env node
const fs = require('fs');
const dir = process.env.FAKE_HELM_STATE;
const args = process.argv.slice(2);
const stdin = args.includes('-') ? fs.readFileSync(0, 'utf8') : '';
fs.appendFileSync(dir + '/calls.jsonl', JSON.stringify({ args, stdin, pid: process.pid, env: { HELM_KUBECONTEXT: process.env.HELM_KUBECONTEXT } }) + '\\n');
const file = (f) => fs.readFileSync(dir + '/' + f, 'utf8');
const out = (s) => process.stdout.write(s);
const cmd = args.filter((a) => !a.startsWith('-'))[0];
if (cmd === 'version') out('v3.22.0+gfake\\n');
else if (cmd === 'history') out('[{"revision":2,"status":"deployed","description":"x","updated":"2026-01-01T00:00:00Z"}]');
else if (cmd === 'upgrade' && args.some((a) => a.startsWith('--dry-run'))) out(file('dry-run.json'));
else if (cmd === 'upgrade') {
  if (fs.existsSync(dir + '/slow')) setTimeout(() => out('done'), 60000);
  else out('Release upgraded');
} else { process.stderr.write('fake helm: unexpected ' + args.join(' ')); process.exit(1); }
`;

const W = 'rooms-expose-pods';
const manifest = (replicas: number, base: number) =>
  [
    `apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: ${W}, namespace: game}\nspec:\n  replicas: ${replicas}\n  template: {spec: {containers: [{name: room, image: room:1}]}}`,
    ...Array.from(
      { length: replicas },
      (_, i) =>
        `kind: Service\napiVersion: v1\nmetadata: {name: ${W}-${i}, namespace: game}\nspec:\n  type: NodePort\n  ports: [{port: 8080, nodePort: ${base + i}}]`,
    ),
  ]
    .map((d) => `---\n${d}\n`)
    .join('');

const LEASES = '/apis/coordination.k8s.io/v1/namespaces/game/leases';

/** How many times the session read the release Secret whole (the payload, not the names). */
let payloadReads = 0;

/** Helm's release Secret of rooms, revision 2, deployed: listed by name and labels, then read whole. */
function releaseSecret(scope: nock.Scope, config: Record<string, unknown>): nock.Scope {
  const name = 'sh.helm.release.v1.rooms.v2';
  const labels = { owner: 'helm', name: 'rooms', version: '2', status: 'deployed' };
  const payload = {
    chart: { metadata: { name: 'expose-pods', version: '0.1.0', appVersion: '1' }, values: {} },
    config,
    manifest: manifest(2, 31000),
  };
  const release = gzipSync(Buffer.from(JSON.stringify(payload))).toString('base64');
  return scope
    .get('/api/v1/namespaces/game/secrets')
    .query({ labelSelector: 'owner=helm,name=rooms' })
    .reply(200, { items: [{ metadata: { name, namespace: 'game', labels } }] })
    .get(`/api/v1/namespaces/game/secrets/${name}`)
    .reply(200, () => {
      payloadReads++;
      return {
        metadata: { name, namespace: 'game', labels },
        data: { release: Buffer.from(release).toString('base64') },
      };
    });
}

describe('the change path (fake helm, nock API server)', () => {
  let state: string;
  let helmPath: string;
  const calls = (): { args: string[]; stdin: string; pid: number; env: { HELM_KUBECONTEXT?: string } }[] =>
    readFileSync(path.join(state, 'calls.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  const req = (warnings: string[] = []): SessionRequest => ({
    release: 'rooms',
    kube: { kubeconfig: fakeKubeconfigFile() },
    helmBinary: helmPath,
    operation: 'scale --replicas 3',
    orphanWaitMs: 1000,
    // No test here expects a question: one asked fails it.
    confirm: (ask) => Promise.reject(new Error(`unexpected confirmation: ${ask.question}`)),
    warn: (m) => warnings.push(m),
  });
  /** The reads every session makes: the lease, and the pre-flight lists. */
  const lease = (scope: nock.Scope) =>
    mockAccessReviews(scope)
      .post(LEASES)
      .reply(201, (_u: string, b: any) => ({ ...b, metadata: { ...b.metadata, resourceVersion: '1' } }))
      .delete(`${LEASES}/rooms-expose-pods-lock`)
      .reply(200, {});
  const lists = (
    scope: nock.Scope,
    allServices: unknown[],
    statefulSets: unknown[] = [],
    pods: unknown[] = [],
  ) =>
    scope
      .get('/apis/apps/v1/namespaces/game/statefulsets')
      .query(true)
      .reply(200, { items: statefulSets })
      .get('/api/v1/namespaces/game/pods')
      .query(true)
      .reply(200, { items: pods })
      .get('/api/v1/nodes')
      .reply(200, {
        items: [
          {
            metadata: { name: 'n1' },
            status: { allocatable: { pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
          },
        ],
      })
      .get('/api/v1/services')
      .reply(200, { items: allServices })
      .get('/api/v1/pods')
      .query({ fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' })
      .reply(200, { items: [] })
      .get('/apis/networking.k8s.io/v1/servicecidrs')
      .reply(200, { items: [{ metadata: { name: 'kubernetes' }, spec: { cidrs: ['10.96.0.0/16'] } }] })
      .get('/apis/networking.k8s.io/v1/ipaddresses')
      .reply(200, { items: [{ metadata: { name: '10.96.0.1' } }] });

  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  beforeEach(() => {
    state = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-fake-helm-'));
    helmPath = path.join(state, 'helm');
    writeFileSync(helmPath, FAKE_HELM);
    chmodSync(helmPath, 0o755);
    process.env.FAKE_HELM_STATE = state;
    writeFileSync(path.join(state, 'calls.jsonl'), '');
    // The release as its newest release Secret records it (revision 2, deployed): the session reads it, not helm.
    payloadReads = 0;
    releaseSecret(nock(FAKE_SERVER).persist(), {
      room: { replicas: 2, failover: { notReadySeconds: 10 } },
      expose: { nodePortBase: 31000 },
    });
    writeFileSync(
      path.join(state, 'dry-run.json'),
      JSON.stringify({
        config: { room: { replicas: 3, failover: { notReadySeconds: 10 } }, expose: { nodePortBase: 31000 } },
        chart: { values: { room: { onePerNode: false } } },
        manifest: manifest(3, 31000),
      }),
    );
  });
  afterEach(() => {
    nock.cleanAll();
    delete process.env.FAKE_HELM_STATE;
    delete process.env.HELM_KUBECONTEXT;
  });

  it('a missing permission is refused before anything is written: exit 6 naming every one missing, no lease, no helm', async () => {
    // Everything in the namespace but Leases and the StatefulSet's writes; nodes may not be listed.
    const rules = [
      { verbs: ['*'], apiGroups: ['', 'discovery.k8s.io', 'policy', 'networking.k8s.io'], resources: ['*'] },
      { verbs: ['get', 'list', 'watch'], apiGroups: ['apps'], resources: ['*'] },
    ];
    const scope = mockAccessReviews(
      nock(FAKE_SERVER),
      rules,
      (b) => b.spec.resourceAttributes.verb !== 'list',
    );
    await assert.rejects(
      withReleaseChange(req(), () => Promise.resolve()),
      (e: any) => {
        assert.equal(e.exitCode, ExitCode.FORBIDDEN);
        assert.match(
          e.message,
          /^forbidden: this change needs permissions you do not have, so nothing was changed: /,
        );
        for (const p of [
          'create statefulsets.apps in namespace game',
          'delete deployments.apps in namespace game',
          'create leases.coordination.k8s.io in namespace game',
          'list nodes cluster-wide',
        ])
          assert.ok(e.message.includes(p), `${p} in ${e.message}`);
        assert.doesNotMatch(e.message, /get nodes|watch nodes|secrets/);
        assert.match(
          e.hint,
          /^Ask a cluster admin to grant what every command needs: kubectl expose-pods rbac -n game --release rooms --user NAME \| kubectl apply -f -/,
        );
        return true;
      },
    );
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    assert.deepEqual(
      calls().map((c) => c.args[0]),
      ['version'],
      'helm was only asked its version: no list, no upgrade',
    );
  });

  it('pins the cluster: helm never sees HELM_KUBECONTEXT, always gets --kube-context, and the user is told', async () => {
    process.env.HELM_KUBECONTEXT = 'prod';
    const warnings: string[] = [];
    const scope = lease(nock(FAKE_SERVER));
    await withReleaseChange(req(warnings), () => Promise.resolve());
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    assert.match(
      warnings.join('\n'),
      /^ignoring HELM_KUBECONTEXT=prod: helm acts on context x, as every request/m,
    );
    for (const c of calls().filter((x) => x.args[0] !== 'version')) {
      assert.equal(c.env.HELM_KUBECONTEXT, undefined, c.args.join(' '));
      assert.deepEqual(c.args.slice(c.args.indexOf('--kube-context'), c.args.indexOf('--kube-context') + 2), [
        '--kube-context',
        'x',
      ]);
    }
  });

  it("preview: the release's own values go on stdin before the change; the plan says what changes; nothing is written", async () => {
    const scope = lists(lease(nock(FAKE_SERVER)), []);
    // The server dry run of the changed objects: discovery, then one apply per object (dryRun=All).
    const applied: string[] = [];
    nock(FAKE_SERVER)
      .get('/apis/apps/v1')
      .reply(200, { resources: [{ name: 'statefulsets', kind: 'StatefulSet', namespaced: true }] })
      .get('/api/v1')
      .reply(200, { resources: [{ name: 'services', kind: 'Service', namespaced: true }] })
      .patch(/.*/)
      .matchHeader('content-type', 'application/apply-patch+yaml')
      .query((q) => q.dryRun === 'All' && q.fieldManager === 'kubectl-expose-pods')
      .times(2)
      .reply(200, (u: string) => (applied.push(u), { kind: 'Status', status: 'Success' }));
    const asked: ConfirmAsk[] = [];
    const gate: SessionRequest['confirm'] = (ask) => (asked.push(ask), Promise.resolve());
    const preview = await withReleaseChange({ ...req(), confirm: gate }, async (s) => {
      const p = await s.preview({
        values: ['--set', 'room.replicas=3'],
        description: 'kubectl-expose-pods scale 2 -> 3',
      });
      // The session's confirmation names the cluster it pinned.
      await s.confirm({ what: 'this scale removes 1 Ready pod(s)', question: 'Go ahead?' });
      return p;
    });
    assert.deepEqual(asked, [
      {
        what: 'this scale removes 1 Ready pod(s)',
        question: 'Go ahead?',
        cluster: `namespace game of context ${preview.cluster.match(/of context (\S+)/)?.[1]} (${FAKE_SERVER})`,
      },
    ]);
    assert.match(preview.cluster, /^namespace game of context \S+ \(https:\/\/k8s\.test:6443\)$/);
    // Read whole once: under the lock only its names are looked at again, and they had not changed.
    assert.equal(payloadReads, 1);
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    const dry = calls().find((c) => c.args[0] === 'upgrade');
    assert.ok(dry);
    const at = dry.args.indexOf('--values');
    assert.deepEqual(dry.args.slice(at, at + 4), ['--values', '-', '--set', 'room.replicas=3']);
    assert.deepEqual(JSON.parse(dry.stdin), {
      room: { replicas: 2, failover: { notReadySeconds: 10 } },
      expose: { nodePortBase: 31000 },
    });
    assert.ok(dry.args.includes('--dry-run=server'));
    assert.deepEqual(preview.plan.values, [{ path: 'room.replicas', from: 2, to: 3 }]);
    assert.deepEqual(preview.plan.addServices, [`${W}-2`]);
    assert.deepEqual(preview.disruptions, []);
    // The budgets from the cluster-wide lists: one more room takes a nodePort, a ClusterIP and a pod slot.
    assert.deepEqual(preview.budget.delta, { nodePorts: 1, clusterIPs: 1, podSlots: 3 });
    assert.ok(!('unknown' in preview.budget.clusterIPs));
    assert.deepEqual([preview.budget.clusterIPs.now.used, preview.budget.clusterIPs.after.used], [1, 2]);
    assert.deepEqual(preview.budget.podSlots?.now.total, 110);
    assert.match(preview.cluster, /^namespace game of context x \(https:\/\/k8s\.test:6443\)$/);
    assert.deepEqual(applied.sort(), [
      `/api/v1/namespaces/game/services/${W}-2?dryRun=All&fieldManager=kubectl-expose-pods&force=true`,
      `/apis/apps/v1/namespaces/game/statefulsets/${W}?dryRun=All&fieldManager=kubectl-expose-pods&force=true`,
    ]);
    assert.equal(
      calls().filter((c) => c.args[0] === 'upgrade' && !c.args.includes('--dry-run=server')).length,
      0,
    );
  });

  it('planned against the live StatefulSet: its template is dry-run first (one apply, not two), and a live template older than the render replaces the Free rooms', async () => {
    const live = {
      metadata: { name: W, namespace: 'game' },
      spec: {
        replicas: 2,
        updateStrategy: { type: 'OnDelete' },
        template: { spec: { containers: [{ name: 'room', image: 'room:0' }] } },
      },
    };
    // The manifests before and after render room:1 (the newest record may be a failed revision);
    // the server's dry run of the render says what the StatefulSet would become.
    const dry = {
      ...live,
      spec: { ...live.spec, template: { spec: { containers: [{ name: 'room', image: 'room:1' }] } } },
    };
    const rooms = [0, 1].map((i) => ({
      metadata: { name: `${W}-${i}`, labels: { 'controller-revision-hash': 'r0' } },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    }));
    lists(lease(nock(FAKE_SERVER)), [], [live], rooms);
    const applied: string[] = [];
    nock(FAKE_SERVER)
      .get('/apis/apps/v1')
      .reply(200, { resources: [{ name: 'statefulsets', kind: 'StatefulSet', namespaced: true }] })
      .get('/api/v1')
      .reply(200, { resources: [{ name: 'services', kind: 'Service', namespaced: true }] })
      .patch(/.*/)
      .query((q) => q.dryRun === 'All')
      .times(2)
      .reply(
        200,
        (u: string) => (
          applied.push(u),
          u.includes('/statefulsets/')
            ? { kind: 'StatefulSet', apiVersion: 'apps/v1', ...dry }
            : { kind: 'Status', status: 'Success' }
        ),
      );
    writeFileSync(
      path.join(state, 'dry-run.json'),
      JSON.stringify({
        config: {
          room: { replicas: 2, updateStrategy: { type: 'OnDelete' } },
          expose: { nodePortBase: 31000 },
        },
        chart: { values: {} },
        manifest: manifest(2, 31000).replace(
          'spec:\n  replicas: 2',
          'spec:\n  replicas: 2\n  updateStrategy: {type: OnDelete}',
        ),
      }),
    );
    const preview = await withReleaseChange(req(), (s) =>
      s.preview({ values: ['--set', 'room.replicas=2'], description: 'x' }),
    );
    assert.equal(preview.plan.updateStrategy, 'OnDelete');
    assert.deepEqual(preview.plan.restartPods.sort(), [`${W}-0`, `${W}-1`]);
    assert.deepEqual(preview.disruptions, ['replaces 2 room(s) on the new pod template']);
    assert.deepEqual(applied, [
      `/apis/apps/v1/namespaces/game/statefulsets/${W}?dryRun=All&fieldManager=kubectl-expose-pods&force=true`,
    ]);
  });

  it('a nodePort another release holds: refused (exit 4) naming the holder and a free base, before any write', async () => {
    const foreign = {
      metadata: { name: 'lobby', namespace: 'arcade', labels: { 'app.kubernetes.io/instance': 'arcade' } },
      spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 31002 }] },
    };
    lists(lease(nock(FAKE_SERVER)), [foreign]);
    await assert.rejects(
      withReleaseChange(req(), (s) => s.preview({ values: ['--set', 'room.replicas=3'], description: 'x' })),
      (e: any) => {
        assert.equal(e.exitCode, ExitCode.INVALID_VALUES);
        assert.match(
          e.message,
          new RegExp(`^ {2}nodePort 31002 \\(for ${W}-2\\) is taken by Service arcade/lobby$`, 'm'),
        );
        assert.match(e.message, /the first free block of 3 nodePorts starts at 30000/);
        assert.equal(e.hint, 'Nothing was changed.');
        return true;
      },
    );
    assert.equal(
      calls().filter((c) => c.args[0] === 'upgrade' && !c.args.includes('--dry-run=server')).length,
      0,
    );
  });

  it('SIGTERM while helm upgrades: helm is stopped, the lock released, exit 143', async () => {
    writeFileSync(path.join(state, 'slow'), '');
    const scope = lease(nock(FAKE_SERVER));
    nock(FAKE_SERVER)
      .put(`${LEASES}/rooms-expose-pods-lock`)
      .reply(200, (_u: string, b: any) => b);
    const sigterm = signals('SIGTERM');
    const running = withReleaseChange(req(), (s) =>
      s.apply({ values: ['--set', 'room.replicas=3'], description: 'x' }, { wait: false, timeout: '1m0s' }),
    );
    const helmPid = await eventually(
      'helm upgrade to start',
      () => calls().find((c) => c.args[0] === 'upgrade')?.pid,
      5000,
      25,
    );
    sigterm.send();
    await assert.rejects(running, (e: any) => {
      assert.equal(e.exitCode, ExitCode.TERMINATED);
      assert.match(e.message, /^interrupted \(SIGTERM\): helm was stopped$/);
      return true;
    });
    assert.throws(() => process.kill(helmPid, 0), { code: 'ESRCH' });
    assert.ok(scope.isDone(), `the lease is deleted: ${scope.pendingMocks().join(', ')}`);
    assert.equal(sigterm.left(), 0, 'the handlers are gone');
  });
});

describe('forcesConflicts: when Helm 4 takes the fields another manager owns', () => {
  it('when the change says so, or when it writes another update strategy than the live one (kubectl patch owns it); never otherwise', () => {
    const patched = { strategyChange: { from: 'RollingUpdate', to: 'OnDelete' } };
    assert.equal(forcesConflicts({}, patched), true);
    assert.equal(forcesConflicts({ forceConflicts: true }, {}), true);
    assert.equal(forcesConflicts({ forceConflicts: false }, {}), false);
    assert.equal(forcesConflicts({}, undefined), false);
  });
});
