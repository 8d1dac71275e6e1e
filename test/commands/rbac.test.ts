import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseAllDocuments } from 'yaml';

import { cli } from '../support/cli.js';
import { STACK_LINE } from '../support/tools.js';

describe('rbac: prints what every command needs, without a cluster', () => {
  it('YAML for kubectl apply: two Roles, a ClusterRole and their bindings, for the subject given; no opt-in unasked', () => {
    const r = cli(['rbac', '-n', 'game', '--release', 'rooms', '--group', 'game-ops'], {
      KUBECONFIG: '/nonexistent',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '', 'with --release, no warning');
    const docs = parseAllDocuments(r.stdout).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string }; subjects?: unknown[]; rules?: any[] },
    );
    assert.deepEqual(
      docs.map((d) => d.kind),
      ['Role', 'RoleBinding', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'],
    );
    assert.deepEqual(docs[1]?.subjects, [
      { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'game-ops' },
    ]);
    assert.deepEqual(docs[2]?.rules, [
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        resourceNames: ['rooms-expose-pods-lock', 'rooms-expose-pods-autoscaler'],
        verbs: ['get', 'update', 'delete'],
      },
    ]);
    assert.deepEqual(docs[4]?.rules, [
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
    ]);
    const json = cli(['rbac', '-n', 'game', '--user', 'alice@example.com', '-o', 'json'], {});
    assert.equal(json.status, 0, json.stderr);
    const list = JSON.parse(json.stdout) as { kind: string; items: { metadata: { name: string } }[] };
    assert.equal(list.kind, 'List');
    assert.match(
      list.items[1]?.metadata.name ?? '',
      /^kubectl-expose-pods-user-alice-example-com-[0-9a-f]{16}$/,
    );
    assert.match(
      json.stderr,
      /^warning: no --release given: the lock's rights \(get, update, delete\) cover every Lease of namespace game, other controllers' included; name each release with --release to narrow them$/m,
    );
  });

  it('Alice and alice get bindings of their own', () => {
    const name = (user: string) => {
      const r = cli(['rbac', '-n', 'game', '--release', 'rooms', '--user', user, '-o', 'json'], {});
      assert.equal(r.status, 0, r.stderr);
      return (JSON.parse(r.stdout) as { items: { metadata: { name: string } }[] }).items[1]?.metadata.name;
    };
    assert.notEqual(name('Alice'), name('alice'));
  });

  it('--out-of-service, --cluster-budget, --pod-slots: each its own ClusterRole, with what it allows beyond our use above it', () => {
    const r = cli(
      [
        'rbac',
        '-n',
        'game',
        '--release',
        'rooms',
        '--user',
        'alice',
        '--out-of-service',
        '--cluster-budget',
        '--pod-slots',
      ],
      {},
    );
    assert.equal(r.status, 0, r.stderr);
    const docs = parseAllDocuments(r.stdout);
    const roles = docs
      .map((d) => d.toJS() as { kind: string; metadata: { name: string } })
      .filter((d) => d.kind === 'ClusterRole')
      .map((d) => d.metadata.name);
    assert.deepEqual(roles, [
      'kubectl-expose-pods',
      'kubectl-expose-pods-out-of-service',
      'kubectl-expose-pods-cluster-budget',
      'kubectl-expose-pods-pod-slots',
    ]);
    for (const [role, beyond] of [
      ['out-of-service', 'taint any node NoExecute or out-of-service'],
      ['cluster-budget', "every tenant's Services"],
      ['pod-slots', 'env values and args included'],
    ] as const)
      assert.ok(
        new RegExp(
          `^# Beyond our use \\([^\\n]*${beyond}[^\\n]*\\n\\napiVersion: rbac\\.authorization\\.k8s\\.io/v1\\nkind: ClusterRole\\nmetadata:\\n  name: kubectl-expose-pods-${role}$`,
          'm',
        ).test(r.stdout),
        `${role}: its comment above it`,
      );
  });

  for (const [args, why] of [
    [['rbac', '-n', 'game'], /exactly one/i],
    [['rbac', '-n', 'game', '--user', 'a', '--group', 'b'], /cannot also be provided|exactly one/i],
    [['rbac', '--user', 'a'], /namespace/],
    [
      ['rbac', '-n', 'game', '--serviceaccount', 'matchmaker'],
      /--serviceaccount matchmaker: give it as NAMESPACE:NAME/,
    ],
    [
      ['rbac', '-n', 'game', '--user', 'a', '--release', 'Rooms'],
      /--release Rooms: release name "Rooms" is invalid/,
    ],
  ] as const) {
    it(`${args.slice(1).join(' ')}: exit 2, saying why`, () => {
      const r = cli([...args], {});
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, why);
      assert.doesNotMatch(r.stderr, STACK_LINE);
    });
  }
});
