import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { printClusterLogsOnFailure, userShell } from '../support/e2e.js';
import { HELMS } from '../support/tools.js';

after(printClusterLogsOnFailure);

describe('tolerations: what the live pods tolerate, and the failover time it gives', () => {
  const sh = userShell(HELMS[1].path);
  const ns = 'e2e-tolerations';
  const install = (release: string, base: number, ...set: string[]) => {
    const r = sh.install(release, {
      ns,
      replicas: 2,
      nodePortBase: base,
      redis: false,
      set,
    });
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
    assert.match(table.stdout, /^POD +NODE +NOT-READY/);
    const bare = sh.kubectl('expose-pods', 'tolerations', 'fast', '-n', ns, '--no-headers');
    assert.equal(bare.status, 0, bare.stderr);
    assert.match(
      bare.stdout,
      /^fast-expose-pods-0 +kwok-node-\d +10s +10s +chart +current\n/,
      'the rows first',
    );
    assert.doesNotMatch(bare.stdout, /^POD /m);
    const names = sh.kubectl('expose-pods', 'tolerations', 'fast', '-n', ns, '-o', 'name');
    assert.equal(names.status, 0, names.stderr);
    assert.equal(names.stdout, 'pod/fast-expose-pods-0\npod/fast-expose-pods-1\n');
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

  it('--not-ready/--unreachable: refused without --yes off a terminal; with it, set through the release, pods rolled', () => {
    const set = (...extra: string[]) =>
      sh.kubectl(
        'expose-pods',
        'tolerations',
        'fast',
        '-n',
        ns,
        '--not-ready',
        '20s',
        '--unreachable',
        '3s',
        ...extra,
      );
    const refused = set();
    assert.equal(refused.status, 13, refused.stderr);
    assert.match(refused.stderr, /^error: this replaces 2 pod\(s\): pass --yes, or run it in a terminal$/m);
    assert.equal(report('fast').pods[0].notReadySeconds, 10, 'nothing changed');

    const r = set('--yes');
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stderr,
      /^warning: --unreachable 3s: below 5s a short network blip evicts pods \(flapping\)$/m,
    );
    assert.match(
      r.stderr,
      /^release fast in namespace e2e-tolerations: not-ready 10s -> 20s, unreachable 10s -> 3s; 2 Free room\(s\) are replaced in batches \(--max-unavailable\)$/m,
    );
    assert.match(r.stdout, /^fast-expose-pods-1 +kwok-node-\d +20s +3s +chart +current$/m);
    // Through the release: a later helm upgrade keeps them.
    const values = JSON.parse(sh.helm('get', 'values', 'fast', '-n', ns, '-o', 'json').stdout);
    assert.deepEqual(values.room.failover, { notReadySeconds: 20, unreachableSeconds: 3 });
    assert.equal(values.room.replicas, 2, 'the other values are reused');

    const again = sh.kubectl('expose-pods', 'tolerations', 'fast', '-n', ns, '--not-ready', '20s', '--yes');
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /already has these values; nothing to change/);
  });

  it('bad values are refused before anything runs; a StatefulSet scaled outside Helm is refused (exit 9)', () => {
    for (const [value, message] of [
      ['2h', /^error: --not-ready 2h is longer than 60m/m],
      ['1.5s', /^error: --not-ready 1\.5s is not a duration in whole seconds/m],
      ['soon', /^error: --not-ready soon is not a duration/m],
    ] as const) {
      const r = sh.kubectl('expose-pods', 'tolerations', 'fast', '-n', ns, '--not-ready', value, '--yes');
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, message);
    }
    assert.equal(
      sh.kubectl('scale', 'statefulset', 'plain-expose-pods', '-n', ns, '--replicas', '3').status,
      0,
    );
    const r = sh.kubectl('expose-pods', 'tolerations', 'plain', '-n', ns, '--not-ready', '10s', '--yes');
    assert.equal(r.status, 9, r.stderr);
    assert.match(r.stderr, /^error: the StatefulSet runs 3 replicas but release plain says 2/m);
    assert.match(r.stderr, /kubectl expose-pods scale plain -n e2e-tolerations --sync/);
  });
});
