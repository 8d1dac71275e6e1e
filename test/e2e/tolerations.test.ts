import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { printClusterLogsOnFailure, userShell } from '../support/e2e.js';
import { HELMS } from '../support/tools.js';

after(printClusterLogsOnFailure);

describe('tolerations: what the live pods tolerate, and the failover time it gives', () => {
  const sh = userShell(HELMS[1].path);
  const ns = 'e2e-tolerations';
  const install = (release: string, base: number, ...set: string[]) => {
    const r = sh.kubectl(
      'expose-pods',
      'install',
      release,
      '-n',
      ns,
      '--create-namespace',
      '--replicas',
      '2',
      '--no-redis',
      '--node-port-base',
      String(base),
      ...set.flatMap((s) => ['--set', s]),
      '--timeout',
      '3m',
    );
    assert.equal(r.status, 0, r.stderr);
  };
  const report = (release: string, ...args: string[]) => {
    const r = sh.kubectl('expose-pods', 'tolerations', release, '-n', ns, '-o', 'json', ...args);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  };

  before(() => {
    install('fast', 32300, 'room.failover.notReadySeconds=10', 'room.failover.unreachableSeconds=10');
    // null removes the chart's default of 300, leaving the pods to the admission plugin.
    install('plain', 32350, 'room.failover.notReadySeconds=null', 'room.failover.unreachableSeconds=null');
  });

  it('room.failover at 10 s: every live pod tolerates 10 s, from the chart; eviction about 60 s after the last heartbeat', () => {
    const r = report('fast');
    assert.deepEqual(
      r.pods.map((p: any) => [p.pod, p.notReadySeconds, p.unreachableSeconds, p.source, p.currentTemplate]),
      [
        ['fast-expose-pods-0', 10, 10, 'chart', true],
        ['fast-expose-pods-1', 10, 10, 'chart', true],
      ],
    );
    assert.deepEqual(
      r.failover.map((f: any) => [f.kind, f.evictionAfterSeconds]),
      [
        ['not-ready', 60],
        ['unreachable', 60],
      ],
    );
    const table = sh.kubectl('expose-pods', 'tolerations', 'fast', '-n', ns);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^fast-expose-pods-0 +kwok-node-\d +10s +10s +chart +current$/m);
    assert.match(table.stdout, /assuming --node-monitor-grace-period 50s; the API does not expose it/);
    assert.match(table.stdout, /^ {2}not-ready +50s \+ 10s \(chart\) = 1m$/m);
    assert.match(table.stdout, /stay Terminating until someone confirms the node is gone/);
  });

  it("no failover values: the admission plugin's 300 s on the live pods, and over 5 minutes to eviction", () => {
    const r = report('plain', '--node-monitor-grace-period', '20s');
    assert.ok(r.pods.every((p: any) => p.notReadySeconds === 300 && p.source === 'admission default'));
    assert.deepEqual(
      r.failover.map((f: any) => f.evictionAfterSeconds),
      [320, 320],
    );
  });

  it('bad input: a grace period that is not a duration (exit 2), a release that is not there (exit 7)', () => {
    const bad = sh.kubectl(
      'expose-pods',
      'tolerations',
      'fast',
      '-n',
      ns,
      '--node-monitor-grace-period',
      'soon',
    );
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^error: --node-monitor-grace-period soon is not a duration/m);
    const missing = sh.kubectl('expose-pods', 'tolerations', 'nope', '-n', ns);
    assert.equal(missing.status, 7);
    assert.match(missing.stderr, /^error: release nope has no StatefulSet in namespace e2e-tolerations$/m);
  });
});
