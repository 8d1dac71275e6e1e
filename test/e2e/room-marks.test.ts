/**
 * A room ends its own match, and cordon, on the real control plane: a
 * container restart written as the kubelet writes it frees the room (and
 * with allocation.endOnRestart=false does not); cordon keeps the current
 * allocation and stops new ones. The KWOK harness runs no containers, so the
 * downward API files are checked on the live pod's spec, not read from inside.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { printClusterLogsOnFailure, userShell } from '../support/e2e.js';
import { HELMS } from '../support/tools.js';

after(printClusterLogsOnFailure);

const sh = userShell(HELMS[1].path);

/** `kubectl expose-pods ARGS -n ns`, and the rows of endpoints -o json. */
function pluginIn(ns: string) {
  const plugin = (...args: string[]) => sh.kubectl('expose-pods', ...args, '-n', ns);
  const rows = (release: string): any[] => {
    const r = plugin('endpoints', release, '-o', 'json');
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout).endpoints;
  };
  const allocate = (release: string) => {
    const r = plugin('allocate', release, '-o', 'json');
    return { ...r, row: r.status === 0 ? JSON.parse(r.stdout) : undefined };
  };
  return { plugin, rows, allocate };
}

/** What a kubelet writes when the room's process exits and is started again: one more restart, and when it stopped. */
function restartContainer(ns: string, pod: string, finishedAt: string) {
  const restarts = sh.getJson('pod', pod, '-n', ns).status.containerStatuses[0].restartCount as number;
  const r = sh.kubectl(
    'patch',
    'pod',
    pod,
    '-n',
    ns,
    '--subresource',
    'status',
    '--type',
    'json',
    '-p',
    JSON.stringify([
      { op: 'replace', path: '/status/containerStatuses/0/restartCount', value: restarts + 1 },
      {
        op: 'add',
        path: '/status/containerStatuses/0/lastState',
        value: { terminated: { exitCode: 0, reason: 'Completed', startedAt: finishedAt, finishedAt } },
      },
    ]),
  );
  assert.equal(r.status, 0, r.stderr);
}

/** A time after now, in the kubelet's whole seconds. */
const soon = () => new Date(Math.ceil(Date.now() / 1000) * 1000 + 1000).toISOString().replace('.000Z', 'Z');

describe('a room ends its own match by exiting (allocation.endOnRestart)', { timeout: 600_000 }, () => {
  const ns = 'e2e-ends';
  const release = 'ends';
  const sts = `${release}-expose-pods`;
  const { plugin, rows, allocate } = pluginIn(ns);

  before(() => {
    const r = sh.install(release, {
      ns,
      replicas: 3,
      nodePortBase: 30300,
      redis: false,
      set: ['room.podManagementPolicy=Parallel'],
    });
    assert.equal(r.status, 0, r.stderr);
  });

  it('the room reads its allocation from files: the live pod mounts its labels and annotations read-only at /etc/expose-pods', () => {
    const spec = sh.getJson('pod', `${sts}-0`, '-n', ns).spec;
    assert.deepEqual(
      spec.volumes
        .find((v: any) => v.name === 'allocation')
        .downwardAPI.items.map((i: any) => [i.path, i.fieldRef.fieldPath]),
      [
        ['labels', 'metadata.labels'],
        ['annotations', 'metadata.annotations'],
      ],
    );
    const room = spec.containers.find((c: any) => c.name === 'room');
    assert.deepEqual(
      room.volumeMounts.find((m: any) => m.name === 'allocation'),
      { name: 'allocation', mountPath: '/etc/expose-pods', readOnly: true },
    );
    const set = sh.getJson('statefulset', sts, '-n', ns);
    assert.equal(set.metadata.annotations['expose-pods.io/end-on-restart'], 'true');
  });

  it('a container restart after the allocation frees the room: Free with lastAllocation, no status problem, and allocate takes it', () => {
    for (const n of [0, 1, 2]) assert.equal(allocate(release).row?.pod, `${sts}-${n}`);
    const allocatedAt = rows(release)[1].allocation.allocatedAt as string;
    const finishedAt = soon();
    restartContainer(ns, `${sts}-1`, finishedAt);
    const row = rows(release).find((e) => e.pod === `${sts}-1`);
    assert.equal(row.state, 'Free');
    assert.equal(row.allocation, null);
    assert.deepEqual(row.lastAllocation, {
      id: row.lastAllocation.id,
      allocatedAt,
      endedAt: new Date(finishedAt).toISOString(),
    });
    assert.deepEqual(
      rows(release).map((e) => e.state),
      ['Allocated', 'Free', 'Allocated'],
    );
    const status = JSON.parse(plugin('status', release, '-o', 'json').stdout);
    assert.deepEqual([status.rooms.free, status.rooms.allocated, status.rooms.stale], [1, 2, 0]);
    assert.equal(
      status.problems.some((p: any) => p.kind === 'StaleAllocation'),
      false,
    );
    // The marks are still on the pod; allocate overwrites them, on the resourceVersion it read.
    const again = allocate(release);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(
      [again.row.pod, again.row.state, again.row.lastAllocation],
      [`${sts}-1`, 'Allocated', null],
    );
    const pod = sh.getJson('pod', `${sts}-1`, '-n', ns);
    assert.equal(pod.metadata.annotations['expose-pods.io/allocated-restarts'], '1');
    assert.equal(allocate(release).status, 14, 'every room in use again');
  });

  it('a scale-down does not wait for a room whose match ended', () => {
    restartContainer(ns, `${sts}-2`, soon());
    const r = plugin('scale', release, '--replicas', '2', '--yes', '--timeout', '60s');
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /waiting for .* in use/);
    assert.deepEqual(
      rows(release).map((e) => [e.pod, e.state]),
      [
        [`${sts}-0`, 'Allocated'],
        [`${sts}-1`, 'Allocated'],
      ],
    );
  });

  it('with allocation.endOnRestart=false a restart leaves the allocation: Allocated (stale), a status problem, exit 14', () => {
    const r = sh.install(release, {
      ns,
      replicas: 2,
      nodePortBase: 30300,
      redis: false,
      createNamespace: false,
      set: ['allocation.endOnRestart=false'],
      extra: ['--yes'],
    });
    assert.equal(r.status, 0, r.stderr);
    restartContainer(ns, `${sts}-0`, soon());
    const row = rows(release)[0];
    assert.deepEqual([row.state, row.allocation.stale, row.lastAllocation], ['Allocated', true, null]);
    const status = JSON.parse(plugin('status', release, '-o', 'json').stdout);
    assert.ok(status.problems.some((p: any) => p.kind === 'StaleAllocation'));
    assert.equal(allocate(release).status, 14);
  });
});

describe('cordon and uncordon: one room out of rotation', { timeout: 600_000 }, () => {
  const ns = 'e2e-cordon';
  const release = 'cordon';
  const sts = `${release}-expose-pods`;
  const { plugin, rows, allocate } = pluginIn(ns);

  before(() => {
    const r = sh.install(release, {
      ns,
      replicas: 2,
      nodePortBase: 30400,
      redis: false,
      set: ['room.podManagementPolicy=Parallel'],
    });
    assert.equal(r.status, 0, r.stderr);
  });

  it('cordon keeps the current allocation and stops new ones; deallocated it is Cordoned; uncordon makes it Free and allocatable', () => {
    assert.equal(allocate(release).row?.pod, `${sts}-0`);
    const c = plugin('cordon', release, `${sts}-0`, '-o', 'json');
    assert.equal(c.status, 0, c.stderr);
    assert.match(c.stderr, /cordoned: no new match goes there \(its current match runs on\)/);
    const cordoned = JSON.parse(c.stdout);
    assert.deepEqual([cordoned.state, cordoned.cordoned], ['Allocated', true]);
    assert.match(plugin('endpoints', release, '--ordinal', '0').stdout, /Allocated \(cordoned\)$/m);
    const twice = plugin('cordon', release, '--ordinal', '0');
    assert.equal(twice.status, 0, twice.stderr);
    assert.match(twice.stderr, /already cordoned: nothing to change/);

    assert.equal(allocate(release).row?.pod, `${sts}-1`);
    const d = plugin('deallocate', release, '--ordinal', '0', '-o', 'json');
    assert.equal(d.status, 0, d.stderr);
    assert.equal(JSON.parse(d.stdout).state, 'Cordoned');
    assert.equal(
      sh.getJson('pod', `${sts}-0`, '-n', ns).metadata.labels['expose-pods.io/cordoned'],
      'true',
      'deallocate leaves the cordon',
    );
    const none = allocate(release);
    assert.equal(none.status, 14, 'the only room not in use is cordoned');
    assert.match(none.stderr, /2 rooms: 1 Allocated, 1 Cordoned/);

    const status = JSON.parse(plugin('status', release, '-o', 'json').stdout);
    assert.deepEqual([status.rooms.free, status.rooms.allocated, status.rooms.cordoned], [0, 1, 1]);
    assert.match(plugin('status', release).stdout, /^ROOMS 2 rooms: 1 Allocated, 1 Cordoned$/m);
    const list = plugin('list');
    assert.match(list.stdout, /^NAMESPACE +NAME +READY +FREE +ALLOCATED +DRAINING +CORDONED +UPDATED /m);
    assert.match(list.stdout, new RegExp(`^${ns} +${release} +2/2 +0 +1 +0 +1 `, 'm'));

    const u = plugin('uncordon', release, '--ordinal', '0', '-o', 'json');
    assert.equal(u.status, 0, u.stderr);
    assert.deepEqual([JSON.parse(u.stdout).state, JSON.parse(u.stdout).cordoned], ['Free', false]);
    assert.match(
      plugin('uncordon', release, '--ordinal', '0').stderr,
      /already uncordoned: nothing to change/,
    );
    assert.equal(allocate(release).row?.pod, `${sts}-0`);
  });

  it('a scale keeps the cordon; a scale-down may remove a cordoned room that is not in use', () => {
    assert.equal(plugin('deallocate', release, '--ordinal', '1').status, 0);
    assert.equal(plugin('cordon', release, '--ordinal', '1').status, 0);
    const up = plugin('scale', release, '--replicas', '3', '--yes', '--timeout', '90s');
    assert.equal(up.status, 0, up.stderr);
    assert.deepEqual(
      rows(release).map((e) => e.state),
      ['Allocated', 'Cordoned', 'Free'],
    );
    const down = plugin('scale', release, '--replicas', '1', '--yes', '--timeout', '60s');
    assert.equal(down.status, 0, down.stderr);
    assert.deepEqual(
      rows(release).map((e) => [e.pod, e.state]),
      [[`${sts}-0`, 'Allocated']],
    );
  });
});
