import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  eventually,
  printClusterLogsOnFailure,
  userShell,
  watchEndpointsAs,
  watchEndpointsJson,
} from '../support/e2e.js';
import { HELMS, ROOT, run } from '../support/tools.js';

after(printClusterLogsOnFailure);

// One room pinned to kwok-node-3, the node that has only an InternalIP.
describe('endpoints on the InternalIP-only node', () => {
  const sh = userShell(HELMS[1].path);
  const ns = 'e2e-endpoints';

  before(() => {
    const r = sh.install('solo', {
      ns,
      replicas: 1,
      nodePortBase: 32500,
      redis: false,
      set: ['room.nodeSelector.kubernetes\\.io/hostname=kwok-node-3'],
      timeout: '2m',
    });
    assert.equal(r.status, 0, r.stderr);
  });

  it('shows InternalIP, and warns on stderr that outside clients usually cannot reach it', () => {
    const r = sh.kubectl('expose-pods', 'endpoints', 'solo', '-n', ns);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^solo-expose-pods-0 +true +kwok-node-3 +198\.51\.100\.13 +InternalIP +32500 +TCP +solo-expose-pods-0 +Ready +Free$/m,
    );
    assert.match(r.stderr, /^warning: solo-expose-pods-0: only an internal address \(InternalIP\)/m);
  });

  it('--no-headers: the row alone, as kubectl get --no-headers prints it', () => {
    const r = sh.kubectl('expose-pods', 'endpoints', 'solo', '-n', ns, '--no-headers');
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^solo-expose-pods-0 +true +kwok-node-3 +198\.51\.100\.13 +InternalIP +32500 +TCP +solo-expose-pods-0 +Ready +Free\n$/,
    );
  });

  it('shell completion through the real kubectl: release names of this chart only, and namespaces', () => {
    // Another chart's Helm release in the same namespace is not offered.
    const chart = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-other-chart-'));
    mkdirSync(path.join(chart, 'templates'));
    writeFileSync(path.join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: other\nversion: 0.1.0\n');
    writeFileSync(
      path.join(chart, 'templates/cm.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\ndata: {}\n',
    );
    const other = sh.helm('install', 'other', chart, '-n', ns);
    assert.equal(other.status, 0, other.stderr);
    const complete = (...words: string[]) => {
      const r = sh.kubectl('__complete', 'expose-pods', ...words);
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim().split('\n');
    };
    assert.deepEqual(complete('status', '-n', ns, ''), ['solo', ':4']);
    assert.deepEqual(
      complete('endpoints', '--namespace', ns, 'o'),
      [':4'],
      'other is not an expose-pods release',
    );
    assert.deepEqual(complete('scale', '-n', ns, 'so'), ['solo', ':4']);
    const namespaces = complete('status', '-n', 'e2e-end');
    assert.deepEqual(namespaces, ['e2e-endpoints', ':4']);
  });

  it('-o addresses prints host:port for scripts; --address-type Hostname changes the pick', () => {
    assert.equal(
      sh.kubectl('expose-pods', 'endpoints', 'solo', '-n', ns, '-o', 'addresses').stdout,
      '198.51.100.13:32500\n',
    );
    const r = sh.kubectl(
      'expose-pods',
      'endpoints',
      'solo',
      '-n',
      ns,
      '-o',
      'json',
      '--address-type',
      'Hostname',
    );
    assert.deepEqual(
      JSON.parse(r.stdout).endpoints.map((e: any) => [e.address, e.addressType]),
      [['kwok-node-3', 'Hostname']],
    );
  });

  it('-o name prints pod/NAME of each row shown, as kubectl takes them; --watch -o name names each room that changes', async () => {
    const r = sh.kubectl('expose-pods', 'endpoints', 'solo', '-n', ns, '-o', 'name');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'pod/solo-expose-pods-0\n');
    const back = sh.kubectl('get', r.stdout.trim(), '-n', ns, '-o', 'name');
    assert.equal(back.stdout, r.stdout, back.stderr);

    const ready = () =>
      JSON.parse(sh.kubectl('expose-pods', 'endpoints', 'solo', '-n', ns, '-o', 'json').stdout).endpoints[0]
        ?.status === 'Ready';
    const { child, events, stderr, exited } = watchEndpointsAs(sh.env, ['solo', '-n', ns], 'name', (l) => l);
    try {
      await eventually('the first name', () => (events.length ? true : undefined), 30_000);
      assert.deepEqual(events, ['pod/solo-expose-pods-0']);
      assert.equal(sh.kubectl('delete', 'pod', 'solo-expose-pods-0', '-n', ns, '--wait=false').status, 0);
      await eventually('the room to change and come back', () =>
        events.length >= 3 && ready() ? true : undefined,
      );
      assert.deepEqual(new Set(events), new Set(['pod/solo-expose-pods-0']), 'only names, one a line');
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0, stderr());
  });

  it('the library: examples/matchmaker.mjs imports allocate by package name and hands its match the one Free room (again on a retry), then none; --end frees it once', () => {
    // The example runs as a program that depends on the package would: node_modules/kubectl-expose-pods.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-lib-'));
    mkdirSync(path.join(dir, 'node_modules'));
    symlinkSync(ROOT, path.join(dir, 'node_modules', 'kubectl-expose-pods'));
    copyFileSync(path.join(ROOT, 'examples/matchmaker.mjs'), path.join(dir, 'matchmaker.mjs'));
    const matchmaker = (match: string) =>
      run(process.execPath, [path.join(dir, 'matchmaker.mjs'), 'solo', ns, match], { env: sh.env });
    const r = matchmaker('m-lib');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      match: 'm-lib',
      room: 'solo-expose-pods-0',
      host: '198.51.100.13',
      port: 32500,
      protocol: 'TCP',
    });
    const none = matchmaker('m-late');
    assert.equal(none.status, 14, none.stderr);
    assert.match(
      none.stderr,
      /^no Free room in release solo \(namespace e2e-endpoints\): 1 room: 1 Allocated$/m,
    );
    const row = JSON.parse(sh.kubectl('expose-pods', 'endpoints', 'solo', '-n', ns, '-o', 'json').stdout)
      .endpoints[0];
    assert.deepEqual(
      [row.state, row.allocation.id, row.allocation.metadata],
      ['Allocated', 'm-lib', { match: 'm-lib' }],
    );
    // Its retry (the match id is the allocation id) gets the same room, not exit 14.
    const retry = matchmaker('m-lib');
    assert.equal(retry.status, 0, retry.stderr);
    assert.equal(JSON.parse(retry.stdout).room, 'solo-expose-pods-0');
    // The match ends; the late one's end, and a retried end, change nothing.
    const ends = (match: string) => {
      const r = run(process.execPath, [path.join(dir, 'matchmaker.mjs'), 'solo', ns, match, '--end'], {
        env: sh.env,
      });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout);
    };
    assert.deepEqual(ends('m-late'), { match: 'm-late', ended: false });
    assert.deepEqual(ends('m-lib'), { match: 'm-lib', ended: true });
    assert.deepEqual(ends('m-lib'), { match: 'm-lib', ended: false });
  });

  it('--watch -o json: a deleted pod is reported going and coming back, and the watch survives an API server crash', async () => {
    const { child: w, events, stderr, exited } = watchEndpointsJson(sh.env, ['solo', '-n', ns]);
    const statuses = (from: number) => events.slice(from).map((e) => `${e.type} ${e.endpoint.status}`);
    try {
      await eventually('the first event', () => (events.length ? true : undefined), 30_000);
      assert.equal(events[0].schemaVersion, 1);
      assert.equal(events[0].type, 'ADDED');
      assert.equal(events[0].endpoint.pod, 'solo-expose-pods-0');
      assert.equal(events[0].endpoint.address, '198.51.100.13');
      assert.ok(!Number.isNaN(Date.parse(events[0].time)));

      for (const round of ['before', 'after'] as const) {
        if (round === 'after') {
          // A crash of the API server drops every watch; the command reconnects by itself.
          const r = run('bash', [path.join(ROOT, 'test/cluster/cluster.sh'), 'restart-apiserver']);
          assert.equal(r.status, 0, r.stderr);
          await eventually('the reconnect notice', () =>
            /warning: the watch on pods in namespace e2e-endpoints was lost/.test(stderr())
              ? true
              : undefined,
          );
        }
        const from = events.length;
        const del = await eventually('kubectl delete pod', () => {
          const r = sh.kubectl('delete', 'pod', 'solo-expose-pods-0', '-n', ns, '--wait=false');
          return r.status === 0 ? r : undefined;
        });
        assert.match(del.stdout, /deleted/);
        await eventually(
          `the pod to be reported gone and back Ready (${round} the restart)`,
          () => {
            const seen = statuses(from);
            const down = seen.findIndex((s) => s !== 'MODIFIED Ready');
            return down >= 0 && seen.slice(down).includes('MODIFIED Ready') ? true : undefined;
          },
          60_000,
        );
      }
      assert.equal(w.exitCode, null, 'the watch is still running');
    } finally {
      w.kill('SIGINT');
    }
    assert.equal(await exited, 0, stderr());
    assert.doesNotMatch(stderr(), /error|at .*\.js:\d+/);
  });

  it('--watch refuses -o addresses and --probe (exit 2)', () => {
    const a = sh.kubectl('expose-pods', 'endpoints', 'solo', '-n', ns, '--watch', '-o', 'addresses');
    assert.equal(a.status, 2);
    assert.match(a.stderr, /^error: --watch does not combine with -o addresses$/m);
    const p = sh.kubectl('expose-pods', 'endpoints', 'solo', '-n', ns, '-w', '--probe');
    assert.equal(p.status, 2);
    assert.match(p.stderr, /^error: --watch does not combine with --probe$/m);
  });

  it('--ordinal out of range and an unknown release are clear errors', () => {
    const bad = sh.kubectl('expose-pods', 'endpoints', 'solo', '-n', ns, '--ordinal', '5');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--ordinal 5: release solo has ordinals 0\.\.0/);
    const missing = sh.kubectl('expose-pods', 'endpoints', 'nope', '-n', ns);
    assert.equal(missing.status, 7);
    assert.match(missing.stderr, /^error: release nope has no StatefulSet in namespace e2e-endpoints$/m);
  });
});
