import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { askTcp } from '../support/dataplane.js';
import { eventually, isReadyPod, printClusterLogsOnFailure, userShell } from '../support/e2e.js';
import { HELMS } from '../support/tools.js';

after(printClusterLogsOnFailure);

/** Runs a command in the background: its stderr so far, and its exit code and output at the end. */
function start(cmd: string, args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(cmd, args, { env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('exit', (status) => {
      resolve({ status, stdout, stderr });
    });
  });
  return { stderr: () => stderr, done };
}

/** Runs a command in the background; its exit code and output. */
const runAsync = (cmd: string, args: string[], env: NodeJS.ProcessEnv) => start(cmd, args, env).done;

// Rooms in use on the real control plane: allocation races, the PodDisruptionBudget
// against real evictions, a container restart seen as a stale allocation, and the
// allocated room answering through kube-proxy at the address allocate returned.
describe('allocate and deallocate: rooms in use', { timeout: 600_000 }, () => {
  const sh = userShell(HELMS[1].path);
  const ns = 'e2e-alloc';
  const release = 'alloc';
  const sts = `${release}-expose-pods`;
  const ROOMS = 10;
  const plugin = (...args: string[]) => sh.kubectl('expose-pods', ...args, '-n', ns);
  const rows = (): any[] => {
    const r = plugin('endpoints', release, '-o', 'json');
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout).endpoints;
  };
  const evict = (pod: string) => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'expose-pods-evict-')), 'eviction.json');
    writeFileSync(
      file,
      JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: ns } }),
    );
    return sh.kubectl('create', '--raw', `/api/v1/namespaces/${ns}/pods/${pod}/eviction`, '-f', file);
  };

  before(() => {
    const r = sh.install(release, {
      ns,
      replicas: ROOMS,
      nodePortBase: 31950,
      redis: false,
      // A restart keeps the allocation here (shown stale): a room that ends its own match is test/e2e/room-marks.test.ts's.
      set: ['room.podManagementPolicy=Parallel', 'allocation.endOnRestart=false'],
    });
    assert.equal(r.status, 0, r.stderr);
  });

  it('every room starts Free, in the table and in -o json', () => {
    assert.deepEqual(new Set(rows().map((e) => e.state)), new Set(['Free']));
    const table = plugin('endpoints', release);
    assert.match(table.stdout.split('\n')[0] ?? '', / STATUS +STATE$/);
  });

  it('20 allocators race for 10 Free rooms: exactly 10 win, 10 distinct rooms, and 10 exit 14', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        runAsync(
          'kubectl',
          ['expose-pods', 'allocate', release, '-n', ns, '-o', 'json', '--meta', `match=m-${i}`],
          sh.env,
        ),
      ),
    );
    const won = outcomes.filter((o) => o.status === 0);
    const lost = outcomes.filter((o) => o.status !== 0);
    assert.equal(won.length, ROOMS, lost.map((o) => o.stderr).join('\n'));
    assert.deepEqual(
      lost.map((o) => o.status),
      Array(10).fill(14),
      lost.map((o) => o.stderr).join('\n'),
    );
    for (const o of lost)
      assert.match(
        o.stderr,
        /^error: no Free room in release alloc \(namespace e2e-alloc\): 10 rooms: 10 Allocated$/m,
      );
    const rooms = won.map((o) => JSON.parse(o.stdout));
    assert.equal(new Set(rooms.map((r) => r.pod)).size, ROOMS, 'distinct rooms');
    for (const r of rooms) {
      assert.equal(r.state, 'Allocated');
      assert.equal(r.status, 'Ready');
      assert.match(r.allocation.metadata.match, /^m-\d+$/);
    }
    // What each winner was told is what the cluster says: its match on its room.
    const now = new Map(rows().map((e) => [e.pod, e]));
    for (const r of rooms) {
      assert.equal(now.get(r.pod)?.state, 'Allocated');
      assert.deepEqual(now.get(r.pod)?.allocation.metadata, r.allocation.metadata);
    }
    const pod = sh.getJson('pod', `${sts}-0`, '-n', ns);
    assert.equal(pod.metadata.labels['expose-pods.io/state'], 'Allocated');
    assert.equal(pod.metadata.annotations['cluster-autoscaler.kubernetes.io/safe-to-evict'], 'false');
  });

  it('an Eviction of an Allocated room is refused (429); after deallocate, the Eviction goes through', async () => {
    const victim = `${sts}-9`;
    const uid = sh.getJson('pod', victim, '-n', ns).metadata.uid;
    // The disruption controller computes the budget's status; until then every eviction it covers is refused too.
    await eventually('the PodDisruptionBudget observed', () => {
      const pdb = sh.getJson('pdb', `${sts}-allocated`, '-n', ns);
      return pdb.status?.observedGeneration === pdb.metadata.generation && pdb.status.expectedPods > 0
        ? true
        : undefined;
    });
    const refused = evict(victim);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /TooManyRequests|disruption budget/i);
    assert.equal(sh.getJson('pod', victim, '-n', ns).metadata.uid, uid, 'the room is untouched');

    const d = plugin('deallocate', release, `pod/${victim}`, '-o', 'json');
    assert.equal(d.status, 0, d.stderr);
    assert.equal(JSON.parse(d.stdout).state, 'Free');
    const pod = sh.getJson('pod', victim, '-n', ns);
    assert.equal(pod.metadata.labels['expose-pods.io/state'], undefined);
    assert.equal(pod.metadata.annotations?.['cluster-autoscaler.kubernetes.io/safe-to-evict'], undefined);
    // Running it again converges: nothing to change, exit 0.
    const again = plugin('deallocate', release, '--ordinal', '9');
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /was not allocated: nothing to change/);

    const allowed = evict(victim);
    assert.equal(allowed.status, 0, allowed.stderr);
    await eventually(`${victim} replaced and Ready`, () => {
      const p = sh.getJson('pods', '-n', ns).items.find((x: any) => x.metadata.name === victim);
      return p && p.metadata.uid !== uid && isReadyPod(p) ? true : undefined;
    });
    const replaced = rows().find((e) => e.pod === victim);
    assert.equal(replaced?.state, 'Free', 'a new pod starts Free');
  });

  it('a room whose container restarted after allocation is shown as stale', () => {
    const pod = `${sts}-3`;
    // What a kubelet reports when the room's process dies and is started again.
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
      '[{"op":"replace","path":"/status/containerStatuses/0/restartCount","value":1}]',
    );
    assert.equal(r.status, 0, r.stderr);
    const row = rows().find((e) => e.pod === pod);
    assert.equal(row?.state, 'Allocated');
    assert.equal(row?.allocation.stale, true);
    assert.match(plugin('endpoints', release, '--ordinal', '3').stdout, /Allocated \(stale\)$/m);
    assert.equal(rows().filter((e) => e.allocation?.stale).length, 1, 'only that one');
  });

  it('the room allocate hands out answers at the address it returned, through kube-proxy', async () => {
    // InternalIP: a bare-metal ExternalIP (kwok-node-2's) is refused by kube-proxy in nftables mode, as allocate warns.
    const a = plugin('allocate', release, '-o', 'json', '--address-type', 'InternalIP');
    assert.equal(a.status, 0, a.stderr);
    const room = JSON.parse(a.stdout);
    assert.equal(room.pod, `${sts}-9`, 'the only Free room');
    await eventually(`${room.address}:${room.port} to answer as ${room.pod}`, async () => {
      const got = await askTcp(room.address, room.port);
      return 'answer' in got && got.answer.pod === room.pod ? true : undefined;
    });
    const name = plugin('allocate', release, '-o', 'name');
    assert.equal(name.status, 14, name.stderr);
    assert.equal(name.stdout, '');
  });

  it('a scale-down over rooms in use waits for them: on timeout exit 15, nothing scaled, the rooms untouched and Draining', () => {
    const uids = [8, 9].map((n) => sh.getJson('pod', `${sts}-${n}`, '-n', ns).metadata.uid);
    const r = plugin('scale', release, '--replicas', '8', '--yes', '--timeout', '3s');
    assert.equal(r.status, 15, r.stderr);
    assert.match(r.stdout, new RegExp(`^ {2}rooms in use: +${sts}-9, ${sts}-8 `, 'm'));
    assert.match(
      r.stderr,
      new RegExp(
        `^error: 2 room\\(s\\) to be removed are still in use \\(Allocated\\): ${sts}-9, ${sts}-8; nothing was scaled$`,
        'm',
      ),
    );
    assert.equal(
      sh.getJson('statefulset', sts, '-n', ns).spec.replicas,
      ROOMS,
      'the replica count is unchanged',
    );
    for (const [i, n] of [8, 9].entries()) {
      const pod = sh.getJson('pod', `${sts}-${n}`, '-n', ns);
      assert.equal(pod.metadata.uid, uids[i], 'the room in use keeps its pod');
      assert.equal(pod.metadata.labels['expose-pods.io/draining'], 'true');
    }
    const shown = rows().find((e) => e.pod === `${sts}-9`);
    assert.deepEqual([shown?.state, shown?.draining], ['Allocated', true]);
  });

  it('once its rooms are deallocated the waiting scale goes through; they end Draining, never Free', async () => {
    const scale = start(
      'kubectl',
      ['expose-pods', 'scale', release, '-n', ns, '--replicas', '8', '--yes', '--timeout', '2m'],
      sh.env,
    );
    // It is waiting, with progress: the rooms stay until their matches end.
    await eventually('the scale to wait for the rooms in use', () =>
      scale.stderr().includes('waiting for 2 room(s) in use to be freed') ? true : undefined,
    );
    assert.equal(sh.getJson('statefulset', sts, '-n', ns).spec.replicas, ROOMS);
    for (const n of [9, 8]) {
      const d = plugin('deallocate', release, '--ordinal', String(n), '-o', 'json');
      assert.equal(d.status, 0, d.stderr);
      assert.equal(JSON.parse(d.stdout).state, 'Draining', 'a room on its way out takes no new match');
    }
    const done = await scale.done;
    assert.equal(done.status, 0, done.stderr);
    assert.equal(sh.getJson('statefulset', sts, '-n', ns).spec.replicas, 8);
    assert.deepEqual(
      rows().map((e) => e.pod),
      Array.from({ length: 8 }, (_, i) => `${sts}-${i}`),
    );
  });

  it('--delete-in-use removes a room in use only after a confirmation that names it', () => {
    const refused = plugin('scale', release, '--replicas', '7', '--delete-in-use');
    assert.equal(refused.status, 13, refused.stderr);
    assert.match(refused.stderr, new RegExp(`removes 1 room\\(s\\) in use \\(Allocated\\): ${sts}-7`));
    assert.equal(sh.getJson('statefulset', sts, '-n', ns).spec.replicas, 8, 'not confirmed: nothing changed');
    const r = plugin('scale', release, '--replicas', '7', '--delete-in-use', '--yes');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(sh.getJson('statefulset', sts, '-n', ns).spec.replicas, 7);
  });

  it('uninstall with rooms in use says how many and needs --delete-in-use (exit 15, nothing changed)', () => {
    const r = plugin('uninstall', release);
    assert.equal(r.status, 15, r.stderr);
    assert.match(r.stderr, /^error: release alloc has 7 room\(s\) in use \(Allocated\): /m);
    assert.equal(sh.getJson('statefulset', sts, '-n', ns).spec.replicas, 7, 'still installed');
  });

  it('a new pod template while every room is in use restarts none of them: each keeps its pod and its build until its match ends', () => {
    const uids = Array.from({ length: 7 }, (_, n) => sh.getJson('pod', `${sts}-${n}`, '-n', ns).metadata.uid);
    const tol = plugin('tolerations', release, '--not-ready', '10s', '--yes');
    assert.equal(tol.status, 0, tol.stderr);
    for (const [n, uid] of uids.entries())
      assert.equal(sh.getJson('pod', `${sts}-${n}`, '-n', ns).metadata.uid, uid, `${sts}-${n} kept`);
    const json = rows();
    assert.deepEqual(
      json.map((e) => [e.state, e.outdated]),
      Array(7).fill(['Allocated', true]),
      'every room in use runs the older revision',
    );
    // Rooms in use on an older build are expected, not a problem (the stale room of an earlier test is one).
    const status = JSON.parse(plugin('status', release, '-o', 'json').stdout);
    assert.equal(status.rollout.inUseOutdated.length, 7);
    assert.deepEqual(
      status.problems.map((p: any) => p.kind),
      ['StaleAllocation'],
    );
  });

  it('a lower expose.count over rooms in use is refused (exit 15), their Services kept; --delete-in-use asks, naming them', () => {
    const r = plugin('install', release, '--set', 'expose.count=5', '--yes');
    assert.equal(r.status, 15, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `removes the Service of 2 room\\(s\\) in use \\(Allocated\\): ${sts}-5, ${sts}-6: their matches would lose their address; nothing was changed`,
      ),
    );
    assert.match(r.stderr, /keep expose\.count at 7 or more/);
    for (const n of [5, 6]) assert.equal(sh.kubectl('get', 'service', `${sts}-${n}`, '-n', ns).status, 0);
    const asked = plugin('install', release, '--set', 'expose.count=5', '--delete-in-use');
    assert.equal(asked.status, 13, asked.stderr);
    assert.match(
      asked.stderr,
      new RegExp(`removes the Service of 2 room\\(s\\) in use \\(Allocated\\): ${sts}-5, ${sts}-6`),
    );
    assert.equal(sh.kubectl('get', 'service', `${sts}-6`, '-n', ns).status, 0, 'not confirmed: kept');
    // Nothing was changed: the release has no expose.count of its own.
    assert.equal(
      JSON.parse(sh.helm('get', 'values', release, '-n', ns, '-o', 'json').stdout).expose?.count,
      undefined,
    );
  });
});

describe(
  'a lower expose.count: a room allocated while its confirmation waits keeps its Service',
  { timeout: 300_000 },
  () => {
    const sh = userShell(HELMS[1].path);
    const ns = 'e2e-alloc-count';
    const release = 'count';
    const sts = `${release}-expose-pods`;
    const plugin = (...args: string[]) => sh.kubectl('expose-pods', ...args, '-n', ns);
    // Matches taken by a writer that does not go through allocate (as uninstall.test.ts does it).
    const take = (n: number) => {
      const r = sh.kubectl('label', 'pod', `${sts}-${n}`, '-n', ns, 'expose-pods.io/state=Allocated');
      assert.equal(r.status, 0, r.stderr);
    };

    before(() => {
      const r = sh.install(release, {
        ns,
        replicas: 3,
        nodePortBase: 30600,
        redis: false,
        set: ['room.podManagementPolicy=Parallel'],
      });
      assert.equal(r.status, 0, r.stderr);
    });
    after(() => {
      plugin('uninstall', release, '--delete-in-use', '--yes');
    });

    it('room 2 confirmed with --delete-in-use, room 1 allocated during the question: exit 15 after the yes, every Service kept', async () => {
      take(2);
      const cmd = `kubectl expose-pods install ${release} -n ${ns} --set expose.count=1 --delete-in-use`;
      const child = spawn('script', ['-qec', cmd, '/dev/null'], { env: sh.env });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      await eventually('the confirmation', () => (/\[y\/N\]/.test(out) ? true : undefined));
      assert.match(out, new RegExp(`removes the Service of 1 room\\(s\\) in use \\(Allocated\\): ${sts}-2`));
      take(1);
      child.stdin.write('y\n');
      assert.equal(await exited, 15, out);
      assert.match(
        out,
        new RegExp(
          `removes the Service of 1 room\\(s\\) in use \\(Allocated\\): ${sts}-1, allocated while it asked`,
        ),
      );
      for (const n of [0, 1, 2])
        assert.equal(sh.kubectl('get', 'service', `${sts}-${n}`, '-n', ns).status, 0, `${sts}-${n} kept`);
      assert.equal(
        JSON.parse(sh.helm('get', 'values', release, '-n', ns, '-o', 'json').stdout).expose?.count,
        undefined,
        'the release was not changed',
      );
    });
  },
);
