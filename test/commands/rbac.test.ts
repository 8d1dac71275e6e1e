import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseAllDocuments } from 'yaml';

import { cli } from '../support/cli.js';
import { STACK_LINE } from '../support/tools.js';

describe('rbac: prints what every command needs, without a cluster', () => {
  it('YAML for kubectl apply: four objects, for the subject given', () => {
    const r = cli(['rbac', '-n', 'game', '--group', 'game-ops'], { KUBECONFIG: '/nonexistent' });
    assert.equal(r.status, 0, r.stderr);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string; subjects?: unknown[] });
    assert.deepEqual(
      docs.map((d) => d.kind),
      ['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'],
    );
    assert.deepEqual(docs[1]?.subjects, [
      { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'game-ops' },
    ]);
    const json = cli(['rbac', '-n', 'game', '--user', 'alice@example.com', '-o', 'json'], {});
    assert.equal(json.status, 0, json.stderr);
    const list = JSON.parse(json.stdout) as { kind: string; items: { metadata: { name: string } }[] };
    assert.equal(list.kind, 'List');
    assert.equal(list.items[1]?.metadata.name, 'kubectl-expose-pods-user-alice-example.com');
  });

  for (const [args, why] of [
    [['rbac', '-n', 'game'], /exactly one/i],
    [['rbac', '-n', 'game', '--user', 'a', '--group', 'b'], /cannot also be provided|exactly one/i],
    [['rbac', '--user', 'a'], /namespace/],
    [
      ['rbac', '-n', 'game', '--serviceaccount', 'matchmaker'],
      /--serviceaccount matchmaker: give it as NAMESPACE:NAME/,
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
