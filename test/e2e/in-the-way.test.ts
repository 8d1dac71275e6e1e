import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { printClusterLogsOnFailure, userShell } from '../support/e2e.js';
import { HELMS, run, STACK_LINE, TOOLS } from '../support/tools.js';

after(printClusterLogsOnFailure);

HELMS.forEach((helm, i) => {
  describe(`${helm.name}: an object in the way of a change is refused up front, with no Helm revision`, () => {
    const sh = userShell(helm.path);
    const ns = `e2e-in-the-way-${helm.name}`;
    const release = 'way';
    const sts = `${release}-expose-pods`;
    const base = 31080 + i * 10;
    const revisions = () =>
      JSON.parse(sh.helm('history', release, '-n', ns, '-o', 'json').stdout).length as number;
    const ep = (...args: string[]) => sh.kubectl('expose-pods', ...args, '-n', ns);

    before(() => {
      const r = sh.install(release, { ns, replicas: 2, nodePortBase: base, redis: false, timeout: '2m' });
      assert.equal(r.status, 0, r.stderr);
    });
    after(() => sh.kubectl('delete', 'namespace', ns, '--wait=false'));

    it('a hand-made Service with the name of the next per-pod Service: exit 9 naming it, nothing written; deleted, the scale goes through', () => {
      const made = run(
        TOOLS.KUBECTL,
        ['create', 'service', 'clusterip', `${sts}-2`, '--tcp', '80:80', '-n', ns],
        {
          env: sh.env,
        },
      );
      assert.equal(made.status, 0, made.stderr);
      const before = revisions();
      const r = ep('scale', release, '--replicas', '3', '--timeout', '2m');
      assert.equal(r.status, 9, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `^error: an object this change would create already exists and is not part of release ${release}: service/${sts}-2 \\(not managed by Helm\\); nothing was changed$`,
          'm',
        ),
      );
      assert.match(r.stderr, new RegExp(`kubectl delete service ${sts}-2 -n ${ns}`));
      assert.match(r.stderr, /kubectl annotate service .* meta\.helm\.sh\/release-name=way/);
      assert.doesNotMatch(r.stderr, STACK_LINE);
      assert.equal(revisions(), before, 'no Helm revision');
      assert.equal(sh.getJson('statefulset', sts, '-n', ns).spec.replicas, 2);
      assert.equal(sh.kubectl('delete', 'service', `${sts}-2`, '-n', ns).status, 0);
      const again = ep('scale', release, '--replicas', '3', '--timeout', '2m');
      assert.equal(again.status, 0, again.stderr);
      assert.equal(revisions(), before + 1);
    });
  });
});
