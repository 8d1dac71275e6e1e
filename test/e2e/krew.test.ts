import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { eventually, printClusterLogsOnFailure, userShell, watchEndpointsJson } from '../support/e2e.js';
import { HELMS } from '../support/tools.js';

after(printClusterLogsOnFailure);

// The single executable, installed with the real krew from the packaged
// archive, on the real control plane: install, endpoints and uninstall run the
// embedded chart through helm and the static command map, with no npm install.
describe('installed with krew: install, endpoints, uninstall on the real control plane', () => {
  const sh = userShell(HELMS[1].path, 'krew');
  const ns = 'e2e-krew';
  const release = 'krewed';
  const sts = `${release}-expose-pods`;
  const install = (...extra: string[]) =>
    sh.install(release, {
      ns,
      replicas: 2,
      nodePortBase: 30700,
      createNamespace: false,
      set: ['room.persistence.enabled=true', 'room.terminationGracePeriodSeconds=7'],
      timeout: '2m',
      extra,
    });

  before(() => {
    const which = sh.kubectl('plugin', 'list');
    assert.match(
      which.stdout,
      /expose-pods-krew-.*\/bin\/kubectl-expose_pods$/m,
      'the krew-installed binary',
    );
    const r = install('--create-namespace');
    assert.equal(r.status, 0, r.stderr);
  });

  it('install deploys the embedded chart with the overrides, and a second install changes nothing', () => {
    const tpl = sh.getJson('statefulset', sts, '-n', ns).spec.template;
    assert.equal(tpl.spec.terminationGracePeriodSeconds, 7);
    const uids = () =>
      sh
        .roomPods(ns)
        .map((p) => p.metadata.uid as string)
        .sort();
    const before = uids();
    assert.equal(before.length, 2);
    const again = install();
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(uids(), before);
  });

  it('endpoints -o json: each pod at its own node’s address and its Service’s nodePort', () => {
    const r = sh.kubectl('expose-pods', 'endpoints', release, '-n', ns, '-o', 'json');
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /DeprecationWarning/);
    const report = JSON.parse(r.stdout);
    assert.equal(report.endpoints.length, 2);
    for (const [i, e] of (report.endpoints as any[]).entries()) {
      const pod = sh.getJson('pod', `${sts}-${i}`, '-n', ns);
      const svc = sh.getJson('service', `${sts}-${i}`, '-n', ns);
      const node = sh.getJson('node', pod.spec.nodeName);
      assert.equal(e.status, 'Ready');
      assert.equal(e.node, pod.spec.nodeName);
      assert.equal(e.port, svc.spec.ports[0].nodePort);
      assert.equal(e.port, 30700 + i);
      assert.ok(
        (node.status.addresses as any[]).some((a) => a.address === e.address && a.type === e.addressType),
        `${e.address} is one of ${pod.spec.nodeName}'s addresses`,
      );
    }
  });

  it('endpoints --watch -o json streams the rows, and Ctrl-C ends it with exit 0', async () => {
    const { child, events, stderr, exited } = watchEndpointsJson(sh.env, [release, '-n', ns]);
    try {
      await eventually('both rows', () => (events.length >= 2 ? true : undefined), 30_000);
      assert.deepEqual(events.map((e) => `${e.type} ${e.endpoint.pod} ${e.endpoint.status}`).sort(), [
        `ADDED ${sts}-0 Ready`,
        `ADDED ${sts}-1 Ready`,
      ]);
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0, stderr());
  });

  it('uninstall keeps the PVCs and the Redis Secret; --delete-data --yes removes them', async () => {
    const r = sh.kubectl('expose-pods', 'uninstall', release, '-n', ns);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`✔ release ${release} uninstalled from namespace ${ns}`));
    const pvcs = () =>
      (sh.getJson('pvc', '-n', ns).items as any[]).map((p) => p.metadata.name as string).sort();
    assert.deepEqual(pvcs(), [`${sts}-redis-data`, `data-${sts}-0`, `data-${sts}-1`].sort());
    assert.equal(sh.kubectl('get', 'secret', `${sts}-redis`, '-n', ns).status, 0);
    const purge = sh.kubectl('expose-pods', 'uninstall', release, '-n', ns, '--delete-data', '--yes');
    assert.equal(purge.status, 0, purge.stderr);
    await eventually('PVCs deleted', () => (pvcs().length === 0 ? true : undefined));
    assert.equal(sh.kubectl('get', 'secret', `${sts}-redis`, '-n', ns).status, 1);
  });
});
