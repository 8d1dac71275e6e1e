import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { printClusterLogsOnFailure, userShell } from '../support/e2e.js';
import { HELMS } from '../support/tools.js';

after(printClusterLogsOnFailure);

// Three releases in two namespaces; one is degraded by a kubectl scale behind Helm's back.
describe('list: every release of the chart, with the verdict of status', () => {
  const sh = userShell(HELMS[1].path);
  const [A, B] = ['e2e-list-a', 'e2e-list-b'];
  const ours = (r: { namespace: string }) => r.namespace === A || r.namespace === B;
  const list = (...args: string[]) => sh.kubectl('expose-pods', 'list', ...args);

  before(() => {
    for (const [release, ns, base] of [
      ['alpha', A, 31100],
      ['beta', A, 31110],
      ['gamma', B, 31120],
    ] as const) {
      const r = sh.install(release, { ns, replicas: 1, nodePortBase: base, redis: false, timeout: '2m' });
      assert.equal(r.status, 0, `${release}: ${r.stderr}`);
    }
    const scaled = sh.kubectl('scale', 'statefulset', 'beta-expose-pods', '-n', A, '--replicas', '2');
    assert.equal(scaled.status, 0, scaled.stderr);
  });

  it('-A: all three, beta degraded as status says, exit 8', () => {
    const r = list('-A', '-o', 'json');
    assert.equal(r.status, 8, r.stderr);
    const rows = JSON.parse(r.stdout).releases.filter(ours);
    assert.deepEqual(
      rows.map((x: any) => [x.namespace, x.name, x.services, x.nodePorts, x.redis, x.status]),
      [
        [A, 'alpha', 1, { first: 31100, last: 31100 }, 'off', 'deployed'],
        [A, 'beta', 1, { first: 31110, last: 31110 }, 'off', 'deployed'],
        [B, 'gamma', 1, { first: 31120, last: 31120 }, 'off', 'deployed'],
      ],
    );
    for (const row of rows) {
      const status = sh.kubectl('expose-pods', 'status', row.name, '-n', row.namespace, '-o', 'json');
      const report = JSON.parse(status.stdout);
      assert.equal(row.healthy, report.healthy, `${row.name}: list and status agree`);
      assert.deepEqual(
        [...new Set(report.problems.map((p: any) => p.kind))],
        row.problems.map((p: string) => p.replace(/ \(\d+\)$/, '')),
      );
    }
    assert.equal(rows[1].healthy, false);
    assert.ok(rows[1].problems.includes('ReplicasDrift'), rows[1].problems.join(', '));
    assert.deepEqual(rows[1].replicas.desired, 2);
  });

  it('-n: one namespace; all healthy there is exit 0; the table, and --no-headers', () => {
    const table = list('-n', B);
    assert.equal(table.status, 0, table.stderr);
    assert.match(
      table.stdout,
      /^NAMESPACE +NAME +READY +FREE +ALLOCATED +DRAINING +CORDONED +UPDATED +SERVICES +NODEPORTS +REDIS +REVISION +STATUS +HEALTH$/m,
    );
    assert.match(
      table.stdout,
      /^e2e-list-b +gamma +1\/1 +1 +0 +0 +0 +1\/1 +1 +31120 +off +1 +deployed +healthy$/m,
    );
    const bare = list('-n', B, '--no-headers');
    // The same row; without the header the columns are as wide as the row needs.
    assert.deepEqual(bare.stdout.trim().split(/\s+/), (table.stdout.split('\n')[1] ?? '').split(/\s+/));
    assert.equal(bare.stdout.trim().split('\n').length, 1);
    const degraded = list('-n', A);
    assert.equal(degraded.status, 8);
    assert.match(degraded.stdout, /^e2e-list-a +beta +.* degraded: ReplicasDrift/m);
  });

  it('-o name: the release names, one a line, as helm list -q prints them; nothing for no release', () => {
    for (const [ns, status] of [
      [A, 8],
      [B, 0],
    ] as const) {
      const r = list('-n', ns, '-o', 'name');
      assert.equal(r.status, status, r.stderr);
      const helm = sh.helm('list', '-n', ns, '-q');
      assert.equal(helm.status, 0, helm.stderr);
      assert.equal(r.stdout, helm.stdout);
    }
    assert.equal(list('-n', A, '-o', 'name').stdout, 'alpha\nbeta\n');
    const none = list('-n', 'default', '-o', 'name');
    assert.equal(none.status, 0, none.stderr);
    assert.equal(none.stdout, '');
  });

  it('a Redis existingSecret: list and status see it without reading it (metadata only), and see it go', () => {
    const C = 'e2e-list-c';
    try {
      assert.equal(sh.kubectl('create', 'namespace', C).status, 0);
      const secret = sh.kubectl(
        'create',
        'secret',
        'generic',
        'ext',
        '-n',
        C,
        '--from-literal=redis-password=x',
      );
      assert.equal(secret.status, 0, secret.stderr);
      const r = sh.install('delta', {
        ns: C,
        replicas: 1,
        nodePortBase: 31130,
        set: ['redis.auth.existingSecret=ext'],
        timeout: '2m',
      });
      assert.equal(r.status, 0, r.stderr);
      const health = () => JSON.parse(list('-n', C, '-o', 'json').stdout).releases[0];
      assert.deepEqual([health().redis, health().healthy], ['ready', true]);
      assert.equal(sh.kubectl('delete', 'secret', 'ext', '-n', C).status, 0);
      const after = list('-n', C, '-o', 'json');
      assert.equal(after.status, 8, after.stderr);
      assert.deepEqual(JSON.parse(after.stdout).releases[0].problems, ['RedisSecretMissing']);
      const status = sh.kubectl('expose-pods', 'status', 'delta', '-n', C, '-o', 'json');
      assert.equal(status.status, 8, status.stderr);
      assert.deepEqual(JSON.parse(status.stdout).redis, { ready: true, pvc: 'Bound', secret: false });
    } finally {
      sh.kubectl('delete', 'namespace', C, '--wait=false');
    }
  });

  it('a namespace without releases says so, exit 0', () => {
    const r = list('-n', 'default');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'No expose-pods releases in namespace default.\n');
  });
});
