import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { printClusterLogsOnFailure, userShell } from '../support/e2e.js';
import { HELMS, STACK_LINE } from '../support/tools.js';

after(printClusterLogsOnFailure);

for (const [i, helm] of HELMS.entries()) {
  const ns = `e2e-install-${helm.name}`;
  const release = 'lobby';
  const sts = `${release}-expose-pods`;
  const base = String(31200 + i * 100);

  describe(`${helm.name}: install, as a user runs it`, () => {
    const sh = userShell(helm.path);
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-install-'));
    const values = path.join(tmp, 'values.yaml');
    writeFileSync(values, 'room:\n  podAnnotations:\n    team: blue\n');
    const install = (...extra: string[]) =>
      sh.install(release, {
        ns,
        replicas: 2,
        nodePortBase: base,
        createNamespace: false,
        set: ['room.terminationGracePeriodSeconds=7'],
        timeout: '2m',
        extra: ['-f', values, ...extra],
      });
    const password = () => sh.getJson('secret', `${sts}-redis`, '-n', ns).data['redis-password'] as string;
    const podUids = () =>
      sh
        .roomPods(ns)
        .map((p) => p.metadata.uid)
        .sort();

    before(() => {
      const r = install('--create-namespace');
      assert.equal(r.status, 0, r.stderr);
    });

    it('-f and --set overrides take effect on the live StatefulSet', () => {
      const tpl = sh.getJson('statefulset', sts, '-n', ns).spec.template;
      assert.equal(tpl.metadata.annotations.team, 'blue');
      assert.equal(tpl.spec.terminationGracePeriodSeconds, 7);
    });

    it('installing again with the same values is a no-op upgrade: same pods, same Redis password', () => {
      const revision = () => Number(JSON.parse(sh.helm('list', '-n', ns, '-o', 'json').stdout)[0].revision);
      const [uids, pw, before] = [podUids(), password(), revision()];
      const r = install();
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(podUids(), uids);
      assert.equal(password(), pw, 'the generated password must survive an upgrade (lookup)');
      assert.equal(revision(), before + 1);
    });

    it('--dry-run against the cluster changes nothing', () => {
      const r = sh.kubectl('expose-pods', 'install', 'ghost', '-n', ns, '--dry-run');
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /name: ghost-expose-pods/);
      assert.match(
        r.stderr,
        /✔ the API server accepted all \d+ objects of release ghost .*\(server-side dry run\); nothing was changed/,
      );
      assert.deepEqual(
        JSON.parse(sh.helm('list', '-n', ns, '-o', 'json').stdout).map((x: any) => x.name),
        [release],
      );
      assert.notEqual(sh.kubectl('get', 'statefulset', 'ghost-expose-pods', '-n', ns).status, 0);
    });

    it('--dry-run asks the API server, which catches a nodePort another release holds (exit 4)', () => {
      const r = sh.kubectl(
        'expose-pods',
        'install',
        'ghost',
        '-n',
        ns,
        '--dry-run',
        '--node-port-base',
        base,
        '--no-redis',
      );
      assert.equal(r.status, 4, r.stderr);
      assert.match(
        r.stderr,
        /^error: the API server rejected Service\/ghost-expose-pods-0: .*provided port is already allocated/m,
      );
      assert.equal(r.stdout, '');
      assert.notEqual(sh.kubectl('get', 'service', 'ghost-expose-pods-0', '-n', ns).status, 0);
    });

    it('a missing namespace without --create-namespace: exit 7 and the fix', () => {
      const r = sh.kubectl('expose-pods', 'install', release, '-n', `${ns}-missing`, '--no-redis');
      assert.equal(r.status, 7, r.stderr);
      assert.match(r.stderr, new RegExp(`^error: namespace ${ns}-missing does not exist$`, 'm'));
      assert.match(r.stderr, /--create-namespace/);
      assert.doesNotMatch(r.stderr, STACK_LINE);
    });

    it('a release of another chart is refused (exit 9) and left untouched', () => {
      const chartDir = path.join(tmp, 'charts');
      mkdirSync(chartDir);
      const created = sh.helm('create', path.join(chartDir, 'other'));
      assert.equal(created.status, 0, created.stderr);
      const own = sh.helm('install', 'foreign', path.join(chartDir, 'other'), '-n', ns);
      assert.equal(own.status, 0, own.stderr);
      const r = sh.kubectl('expose-pods', 'install', 'foreign', '-n', ns);
      assert.equal(r.status, 9, r.stderr);
      assert.match(
        r.stderr,
        /release foreign in namespace .* is chart other-0\.1\.0, not expose-pods; refusing to touch it/,
      );
      assert.equal(JSON.parse(sh.helm('history', 'foreign', '-n', ns, '-o', 'json').stdout).length, 1);
      sh.helm('uninstall', 'foreign', '-n', ns);
    });

    it('a nodeSelector no node matches: refused before anything is written (exit 4), naming the nodes left out and why', () => {
      const r = sh.install('nowhere', {
        ns,
        replicas: 1,
        nodePortBase: Number(base) + 60,
        createNamespace: false,
        redis: false,
        timeout: '8s',
        extra: ['--set-string', 'room.nodeSelector.nowhere=true'],
      });
      assert.equal(r.status, 4, r.stderr);
      assert.match(
        r.stderr,
        /^ {2}1 new pod\(s\) need a slot, and the 0 node\(s\) that can take rooms have 0 free \(allocatable pods minus pods bound\) \(left out: 3 no label nowhere=true \(nodeSelector\)\): 1 would stay Pending$/m,
      );
      assert.equal(sh.helm('status', 'nowhere', '-n', ns).status, 1, 'no release was made');
    });

    it('a timeout (exit 10) names the pod that is not ready and why', () => {
      // More CPU than any node has: the pre-flight counts pod slots, not CPU, so the scheduler is the one to say no.
      const r = sh.install('stuck', {
        ns,
        replicas: 1,
        nodePortBase: Number(base) + 50,
        createNamespace: false,
        redis: false,
        timeout: '8s',
        extra: ['--set', 'room.resources.requests.cpu=1000,room.resources.limits.cpu=1000'],
      });
      assert.equal(r.status, 10, r.stderr);
      // Under OnDelete helm does not wait for the StatefulSet: the plugin's own wait times out, and says why.
      assert.match(r.stderr, /^error: the wait for the rooms timed out after \d+s$/m);
      assert.match(r.stderr, /^ {2}stuck-expose-pods-0: Pending \(Unschedulable\)$/m);
      assert.match(r.stderr, /Raise --timeout/);
      sh.helm('uninstall', 'stuck', '-n', ns);
    });
  });
}
