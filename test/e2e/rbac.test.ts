import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { parseAllDocuments, stringify } from 'yaml';

import {
  CLUSTER,
  eventually,
  pluginInBackground,
  printClusterLogsOnFailure,
  userShell,
} from '../support/e2e.js';
import { HELMS, run, STACK_LINE, TOOLS } from '../support/tools.js';

after(printClusterLogsOnFailure);

/**
 * A namespaced user: a ServiceAccount bound to exactly what `kubectl
 * expose-pods rbac` prints, and nothing else (not even cluster-admin's
 * discovery beyond what every authenticated user has).
 */
describe('a namespaced ServiceAccount with exactly what `rbac` prints: every command works', () => {
  const admin = userShell(HELMS[1].path);
  const ns = 'e2e-rbac';
  const release = 'team';
  const sts = `${release}-expose-pods`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-rbac-'));
  const config = path.join(dir, 'operator.kubeconfig');
  const env = { ...admin.env, KUBECONFIG: config };
  const op = (...args: string[]) => run(TOOLS.KUBECTL, ['expose-pods', ...args, '-n', ns], { env });
  const apply = (yaml: string) => run(TOOLS.KUBECTL, ['apply', '-f', '-'], { env: admin.env, input: yaml });
  const printed = (...extra: string[]) =>
    run(
      TOOLS.KUBECTL,
      ['expose-pods', 'rbac', '-n', ns, '--release', release, '--serviceaccount', `${ns}:operator`, ...extra],
      { env: admin.env },
    );
  /** The cluster-scoped objects a printout holds: they outlive the namespace, so the test deletes them. */
  const clusterScoped = (yaml: string) =>
    parseAllDocuments(yaml)
      .map((d) => d.toJS() as { kind: string; metadata: { name: string } })
      .filter((o) => o.kind === 'ClusterRoleBinding')
      .map((o) => o.metadata.name);
  const can = (...args: string[]) => run(TOOLS.KUBECTL, ['auth', 'can-i', ...args], { env }).stdout.trim();
  const revisions = () =>
    JSON.parse(admin.helm('history', release, '-n', ns, '-o', 'json').stdout).length as number;

  before(() => {
    for (const args of [
      ['create', 'namespace', ns],
      ['create', 'serviceaccount', 'operator', '-n', ns],
    ]) {
      const r = admin.kubectl(...args);
      assert.equal(r.status, 0, r.stderr);
    }
    const rbac = printed();
    assert.equal(rbac.status, 0, rbac.stderr);
    const applied = apply(rbac.stdout);
    assert.equal(applied.status, 0, applied.stderr);
    const token = admin.kubectl('create', 'token', 'operator', '-n', ns, '--duration', '2h');
    assert.equal(token.status, 0, token.stderr);
    const text = readFileSync(CLUSTER.KUBECONFIG, 'utf8');
    writeFileSync(
      config,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'c',
            cluster: {
              server: /server: (\S+)/.exec(text)?.[1],
              'certificate-authority-data': /certificate-authority-data: (\S+)/.exec(text)?.[1],
            },
          },
        ],
        users: [{ name: 'operator', user: { token: token.stdout.trim() } }],
        contexts: [{ name: 'c', context: { cluster: 'c', user: 'operator', namespace: ns } }],
        'current-context': 'c',
      }),
    );
    // Sanity: it really is namespaced.
    assert.equal(can('list', 'secrets', '-A'), 'no');
  });
  after(() => {
    admin.kubectl('delete', 'namespace', ns, '--wait=false');
    const opted = printed('--out-of-service', '--cluster-budget', '--pod-slots').stdout;
    admin.kubectl('delete', 'clusterrolebinding', '--ignore-not-found', ...clusterScoped(opted));
  });

  it("prints two Roles (the lock's narrowed to the release's Lease), a ClusterRole and their bindings, each rule with its reason", () => {
    const r = printed();
    const kinds = parseAllDocuments(r.stdout).map((d) => (d.toJS() as { kind: string }).kind);
    assert.deepEqual(kinds, [
      'Role',
      'RoleBinding',
      'Role',
      'RoleBinding',
      'ClusterRole',
      'ClusterRoleBinding',
    ]);
    assert.match(r.stdout, /^ {2}# the per-release lock every change holds/m);
    const clusterRole = parseAllDocuments(r.stdout)[4]?.toJS() as { rules: { resources: string[] }[] };
    assert.ok(
      clusterRole.rules.every((x) => !x.resources.includes('secrets')),
      'no Secret in the ClusterRole: a namespaced user never reads every Secret',
    );
  });

  it('install, endpoints, status, list, allocate, deallocate, scale up and down, tolerations, recover, check-certs and uninstall', () => {
    const steps: [string[], number[]][] = [
      [
        ['install', release, '--replicas', '2', '--node-port-base', '31070', '--no-redis', '--timeout', '2m'],
        [0],
      ],
      [['endpoints', release, '--address-type', 'InternalIP'], [0]],
      [['status', release], [0]],
      [['list'], [0]],
      [['allocate', release, '-o', 'name'], [0]],
      [['deallocate', release, '--ordinal', '0'], [0]],
      [['scale', release, '--replicas', '3', '--timeout', '2m'], [0]],
      [['scale', release, '--replicas', '2', '--yes', '--timeout', '2m'], [0]],
      [['tolerations', release], [0]],
      [
        ['tolerations', release, '--not-ready', '20s', '--unreachable', '20s', '--yes', '--timeout', '2m'],
        [0],
      ],
      [['recover', release], [0]],
      [['check-certs'], [0, 11]],
    ];
    for (const [args, codes] of steps) {
      const r = op(...args);
      assert.ok(codes.includes(r.status ?? -1), `${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
      // check-certs skips, with a warning each, the sources rbac leaves out on purpose (webhooks, APIServices).
      const unexpected = r.stderr
        .split('\n')
        .filter((l) => /forbidden/i.test(l) && !/^warning: skipped (webhook|apiservice|secret)/.test(l));
      assert.deepEqual(unexpected, [], `${args.join(' ')}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, STACK_LINE);
    }
    assert.equal(admin.getJson('statefulset', sts, '-n', ns).spec.replicas, 2);
  });

  it('least privilege as applied: no node patch, no cluster-wide pods, no Lease but the lock; recover --out-of-service is exit 6 until its opt-in is applied', () => {
    assert.equal(can('patch', 'nodes'), 'no');
    assert.equal(can('list', 'pods', '-A'), 'no');
    assert.equal(can('list', 'services', '-A'), 'no');
    assert.equal(can('update', `leases/${release}-expose-pods-lock`, '-n', ns), 'yes');
    assert.equal(can('update', 'leases/some-controller-leader', '-n', ns), 'no');
    assert.equal(can('create', 'leases', '-n', ns), 'yes');
    // The budgets this user may not count say so.
    const status = op('status', release);
    assert.equal(status.status, 0, status.stderr);
    assert.match(
      status.stdout,
      /NodePorts +unknown: not allowed to list Services in all namespaces \(rbac --cluster-budget grants it\)/,
    );
    assert.match(
      status.stdout,
      /Pod slots +unknown: not allowed to list pods in all namespaces \(rbac --pod-slots grants it\)/,
    );

    const taints = () => JSON.stringify(admin.getJson('nodes').items.map((n: any) => n.spec.taints ?? []));
    const before = taints();
    const refused = op('recover', release, '--out-of-service', '--yes');
    assert.equal(refused.status, 6, refused.stderr);
    assert.match(refused.stderr, /^error: forbidden: .*patch nodes cluster-wide/m);
    assert.match(refused.stderr, /kubectl expose-pods rbac -n e2e-rbac --release team --out-of-service/);
    assert.doesNotMatch(refused.stderr, STACK_LINE);
    assert.equal(taints(), before, 'nothing was written');

    const opted = printed('--out-of-service');
    assert.equal(opted.status, 0, opted.stderr);
    assert.match(opted.stdout, /^# Beyond our use \(recover --out-of-service/m);
    assert.equal(apply(opted.stdout).status, 0);
    assert.equal(can('patch', 'nodes'), 'yes');
    const allowed = op('recover', release, '--out-of-service', '--yes');
    assert.equal(allowed.status, 0, allowed.stderr);
    // Back to the defaults: the opt-in binding goes.
    const optIn = clusterScoped(opted.stdout).filter((n) => n.includes('out-of-service'));
    assert.equal(optIn.length, 1);
    assert.equal(admin.kubectl('delete', 'clusterrolebinding', ...optIn).status, 0);
    assert.equal(can('patch', 'nodes'), 'no');
  });

  it('autoscale as the same user: its own Lease (and no other), a scale-up through the change path, status shows it, Ctrl-C exits 0', async () => {
    assert.equal(can('update', `leases/${release}-expose-pods-autoscaler`, '-n', ns), 'yes');
    const scaler = pluginInBackground(
      env,
      [
        'autoscale',
        release,
        '-n',
        ns,
        '--buffer',
        '1',
        '--min',
        '2',
        '--max',
        '4',
        '--timeout',
        '2m',
        '-o',
        'json',
      ],
      (l): any => JSON.parse(l),
    );
    try {
      await eventually('autoscale started', () => scaler.events.find((e) => e.type === 'started'), 60_000);
      for (let i = 0; i < 2; i++) {
        const r = op('allocate', release);
        assert.equal(r.status, 0, r.stderr);
      }
      // Allocated 2, buffer 1: 3 rooms, by a scale whose revision helm recorded.
      const scaled = await eventually(
        'the autoscaler scaled',
        () => scaler.events.find((e) => e.type === 'scaled'),
        120_000,
      );
      assert.deepEqual([scaled.from, scaled.to], [2, 3], scaler.stderr());
      assert.equal(admin.getJson('statefulset', sts, '-n', ns).spec.replicas, 3);
      const status = op('status', release);
      assert.match(
        status.stdout,
        /^AUTOSCALER active: buffer 1, min 2, max 4, scale-down delay 300s \(kubectl-expose-pods\//m,
      );
      scaler.child.kill('SIGINT');
      assert.equal(await scaler.exited, 0, scaler.stderr());
      assert.equal(scaler.events.at(-1)?.type, 'stopped');
      assert.doesNotMatch(scaler.stderr(), /forbidden/i);
      assert.match(op('status', release).stdout, /^AUTOSCALER none$/m, 'its Lease was released');
    } finally {
      scaler.child.kill('SIGKILL');
    }
    // Back to 2 Free rooms for the tests below.
    for (const n of ['0', '1']) assert.equal(op('deallocate', release, '--ordinal', n).status, 0);
    assert.equal(op('scale', release, '--replicas', '2', '--yes', '--timeout', '2m').status, 0);
  });

  it('without the Lease rule, a change is refused before anything is written (exit 6, naming leases and rbac)', () => {
    const before = revisions();
    const role = admin.getJson('role', 'kubectl-expose-pods', '-n', ns);
    role.rules = role.rules.filter((x: any) => !x.resources.includes('leases'));
    delete role.metadata.resourceVersion;
    assert.equal(apply(JSON.stringify(role)).status, 0);
    const r = op('scale', release, '--replicas', '3', '--timeout', '1m');
    assert.equal(r.status, 6, r.stderr);
    assert.match(
      r.stderr,
      /^error: forbidden: this change needs permissions you do not have, so nothing was changed: .*create leases\.coordination\.k8s\.io in namespace e2e-rbac/m,
    );
    assert.match(r.stderr, /kubectl expose-pods rbac -n e2e-rbac/);
    assert.doesNotMatch(r.stderr, STACK_LINE);
    assert.equal(revisions(), before, 'no Helm revision');
    assert.equal(admin.getJson('statefulset', sts, '-n', ns).spec.replicas, 2);
    // Put it back, as printed: uninstall works again.
    assert.equal(apply(printed().stdout).status, 0);
    const u = op('uninstall', release, '--delete-data', '--yes');
    assert.equal(u.status, 0, u.stderr);
  });
});
