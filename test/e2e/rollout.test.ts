import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';

import { askTcp } from '../support/dataplane.js';
import {
  eventually,
  holdScheduling,
  isReadyPod,
  printClusterLogsOnFailure,
  userShell,
} from '../support/e2e.js';
import { CHART, HELMS, run } from '../support/tools.js';

after(printClusterLogsOnFailure);

// New builds on a busy fleet, on the real control plane: the StatefulSet (OnDelete)
// restarts nothing by itself, the plugin replaces the Free rooms (a delete conditioned
// on UID and resourceVersion) and never a room in use, which keeps its build until its
// match ends; allocate hands out only rooms on the new build.
describe('rollouts: a new build never restarts a room in use', { timeout: 900_000 }, () => {
  const sh = userShell(HELMS[1].path);
  const ns = 'e2e-rollout';
  const release = 'roll';
  const sts = `${release}-expose-pods`;
  const ROOMS = 10;
  const plugin = (...args: string[]) => sh.kubectl('expose-pods', ...args, '-n', ns);
  const rows = (): any[] => {
    const r = plugin('endpoints', release, '-o', 'json');
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout).endpoints;
  };
  const pods = () =>
    new Map<string, any>(
      sh
        .roomPods(ns, release)
        .filter((p) => !p.metadata.deletionTimestamp)
        .map((p) => [p.metadata.name as string, p]),
    );
  const updateRevision = () => sh.getJson('statefulset', sts, '-n', ns).status.updateRevision as string;
  const revisionOf = (p: any) => p?.metadata.labels['controller-revision-hash'] as string | undefined;
  const allocate = (match: string) => {
    const r = plugin('allocate', release, '-o', 'json', '--meta', `match=${match}`);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  /** Every Service still selects its own ordinal's pod, and its endpoint is that pod's address. */
  const servicesRouteToTheirOrdinals = () => {
    const live = pods();
    for (let n = 0; n < ROOMS; n++) {
      const svc = sh.getJson('service', `${sts}-${n}`, '-n', ns);
      assert.equal(svc.spec.selector['statefulset.kubernetes.io/pod-name'], `${sts}-${n}`);
      const slices = sh.getJson('endpointslices', '-n', ns, '-l', `kubernetes.io/service-name=${sts}-${n}`)
        .items as any[];
      const addresses = slices.flatMap((s) => (s.endpoints ?? []).flatMap((e: any) => e.addresses));
      assert.deepEqual(addresses, [live.get(`${sts}-${n}`)?.status.podIP], `${sts}-${n} routes to its pod`);
    }
  };

  /** `kubectl expose-pods ARGS` in the background: its exit code and output. */
  const runAsync = (args: string[]) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('kubectl', ['expose-pods', ...args], { env: sh.env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (status) => {
        resolve({ status, stdout, stderr });
      });
    });

  before(() => {
    const r = sh.install(release, {
      ns,
      replicas: ROOMS,
      nodePortBase: 31640,
      redis: false,
      set: ['room.podManagementPolicy=Parallel'],
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(sh.getJson('statefulset', sts, '-n', ns).spec.updateStrategy.type, 'OnDelete');
  });

  it('10 rooms, 3 in use, a new image: exit 0; the 3 keep their pods and build, the 7 Free are replaced on the new revision', () => {
    const inUse = ['a', 'b', 'c'].map((m) => allocate(m).pod as string);
    assert.deepEqual(inUse, [`${sts}-0`, `${sts}-1`, `${sts}-2`]);
    const before = pods();
    const oldRevision = revisionOf(before.get(`${sts}-0`));
    const ports = new Map(rows().map((e) => [e.pod, e.port]));
    const r = plugin('install', release, '--set', 'room.image.tag=2.54', '--yes', '--max-unavailable', '3');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /rooms replaced on the new pod template .*: /);
    assert.match(r.stderr, new RegExp(`rooms in use that keep their build .*: ${sts}-2, ${sts}-1, ${sts}-0`));
    assert.match(r.stderr, /3 room\(s\) in use still run an older revision/);
    const now = pods();
    const rev = updateRevision();
    assert.notEqual(rev, oldRevision);
    for (const [name, p] of before) {
      const kept = inUse.includes(name);
      assert.equal(
        now.get(name)?.metadata.uid === p.metadata.uid,
        kept,
        `${name} ${kept ? 'kept' : 'replaced'}`,
      );
      assert.equal(revisionOf(now.get(name)), kept ? oldRevision : rev, `${name}'s revision`);
      assert.ok(isReadyPod(now.get(name)), `${name} Ready`);
    }
    // The rows say which rooms run the old build; each keeps its port.
    for (const e of rows()) {
      assert.equal(e.outdated, inUse.includes(e.pod), e.pod);
      assert.equal(e.port, ports.get(e.pod), `${e.pod} keeps its nodePort`);
    }
    const wide = plugin('endpoints', release, '-o', 'wide');
    assert.match(wide.stdout, new RegExp(`${sts}-0 .* ${oldRevision} \\(outdated\\)`));
    // status: healthy, the rollout in numbers.
    const status = plugin('status', release, '-o', 'json');
    assert.equal(status.status, 0, status.stderr);
    const rollout = JSON.parse(status.stdout).rollout;
    assert.deepEqual([rollout.updated, rollout.total, rollout.inUseOutdated.length], [7, 10, 3]);
  });

  it('allocate hands out rooms on the new build only', () => {
    const room = allocate('d');
    assert.equal(room.pod, `${sts}-3`, 'the lowest Free room: all Free rooms are on the new revision');
    assert.equal(room.outdated, false);
    assert.equal(room.revision, updateRevision());
    const d = plugin('deallocate', release, room.pod);
    assert.equal(d.status, 0, d.stderr);
  });

  it('each deallocate replaces its room on the new revision, at the same Service and port; at the end all 10 are new', async () => {
    const ports = new Map(rows().map((e) => [e.pod, e.port]));
    for (const n of [0, 1, 2]) {
      const pod = `${sts}-${n}`;
      const uid = pods().get(pod)?.metadata.uid;
      const d = plugin('deallocate', release, pod, '-o', 'json');
      assert.equal(d.status, 0, d.stderr);
      assert.match(d.stderr, /it is being replaced on the new one/);
      await eventually(`${pod} replaced and Ready`, () => {
        const p = pods().get(pod);
        return p && p.metadata.uid !== uid && isReadyPod(p) ? true : undefined;
      });
    }
    const rev = updateRevision();
    const now = pods();
    assert.deepEqual(
      [...now.values()].map(revisionOf),
      Array(ROOMS).fill(rev),
      'every room on the new revision',
    );
    await eventually('every row Ready and Free', () =>
      rows().every((e) => e.status === 'Ready' && e.state === 'Free') ? true : undefined,
    );
    for (const e of rows()) assert.equal(e.port, ports.get(e.pod), `${e.pod} keeps its nodePort`);
    await eventually('every Service routing to its own ordinal', () => {
      try {
        servicesRouteToTheirOrdinals();
        return true;
      } catch {
        return undefined;
      }
    });
  });

  it('a replaced room answers through kube-proxy at the same address and port', async () => {
    const row = allocate('net');
    await eventually(`${row.address}:${row.port} to answer as ${row.pod}`, async () => {
      const got = await askTcp(row.address, row.port);
      return 'answer' in got && got.answer.pod === row.pod ? true : undefined;
    });
    assert.equal(plugin('deallocate', release, row.pod).status, 0);
  });

  it('allocators racing a rollout: no room an allocate returned is replaced afterwards', async () => {
    const install = spawn(
      'kubectl',
      [
        'expose-pods',
        'install',
        release,
        '-n',
        ns,
        '--set',
        'room.image.tag=2.55',
        '--yes',
        '--max-unavailable',
        '1',
      ],
      { env: sh.env },
    );
    let stderr = '';
    install.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const state = { finished: false };
    const done = new Promise<number | null>((res) => install.on('exit', res));
    void done.then(() => (state.finished = true));
    const won: { pod: string; uid: string }[] = [];
    while (!state.finished) {
      // Asynchronously, so the rollout's exit is seen between two allocations.
      const r = await runAsync(['allocate', release, '-n', ns, '-o', 'json', '--meta', `race=${won.length}`]);
      if (r.status === 0) {
        const row = JSON.parse(r.stdout);
        won.push({ pod: row.pod, uid: pods().get(row.pod)?.metadata.uid });
      } else assert.equal(r.status, 14, r.stderr);
    }
    assert.equal(await done, 0, stderr);
    assert.ok(won.length > 0, 'allocate won rooms during the rollout');
    const now = pods();
    for (const w of won)
      assert.equal(now.get(w.pod)?.metadata.uid, w.uid, `${w.pod}, allocated mid-rollout, kept`);
    for (const w of won) assert.equal(plugin('deallocate', release, w.pod).status, 0);
  });

  it('a plain helm upgrade with a new image restarts no room; status names `rollout`; allocate refuses the old build; rollout finishes it', async () => {
    await eventually('every room Ready', () =>
      pods().size === ROOMS && [...pods().values()].every(isReadyPod) ? true : undefined,
    );
    const uids = new Map([...pods()].map(([n, p]) => [n, p.metadata.uid]));
    const up = sh.helm('upgrade', release, '-n', ns, CHART, '--reuse-values', '--set', 'room.image.tag=2.56');
    assert.equal(up.status, 0, up.stderr);
    await eventually('the controller to take the new template', () => {
      const s = sh.getJson('statefulset', sts, '-n', ns);
      return s.status.observedGeneration === s.metadata.generation ? true : undefined;
    });
    for (const [n, p] of pods()) assert.equal(p.metadata.uid, uids.get(n), `${n} not restarted by helm`);
    const status = plugin('status', release);
    assert.equal(status.status, 8, status.stderr);
    assert.match(status.stdout, new RegExp(`run kubectl expose-pods rollout ${release} -n ${ns}`));
    const alloc = plugin('allocate', release);
    assert.equal(alloc.status, 14, alloc.stderr);
    assert.match(alloc.stderr, /on an older revision, waiting for the rollout/);
    const dry = plugin('rollout', release, '--dry-run');
    assert.equal(dry.status, 0, dry.stderr);
    for (const [n, p] of pods()) assert.equal(p.metadata.uid, uids.get(n), `${n} not touched by --dry-run`);
    const roll = plugin('rollout', release, '--yes', '-o', 'json');
    assert.equal(roll.status, 0, roll.stderr);
    const res = JSON.parse(roll.stdout);
    assert.equal(res.result.replaced.length, ROOMS);
    const rev = updateRevision();
    assert.deepEqual([...pods().values()].map(revisionOf), Array(ROOMS).fill(rev));
    assert.equal(plugin('status', release).status, 0);
    // Nothing left: a second rollout has nothing to do.
    const again = plugin('rollout', release, '--yes');
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /nothing to do/);
  });

  it('rollout --restart: a new revision for every Free room, rooms in use kept; --wait-in-use times out with exit 15, nothing undone', () => {
    const room = allocate('restart');
    const uid = pods().get(room.pod)?.metadata.uid;
    const before = updateRevision();
    const r = plugin('rollout', release, '--restart', '--yes');
    assert.equal(r.status, 0, r.stderr);
    assert.notEqual(updateRevision(), before);
    assert.equal(pods().get(room.pod)?.metadata.uid, uid, 'the room in use kept');
    const outdated = rows()
      .filter((e) => e.outdated)
      .map((e) => e.pod);
    assert.deepEqual(outdated, [room.pod]);
    const wait = plugin('rollout', release, '--wait-in-use', '--timeout', '3s', '--yes');
    assert.equal(wait.status, 15, wait.stderr);
    assert.match(
      wait.stderr,
      new RegExp(`1 room\\(s\\) in use \\(Allocated\\) still run an older revision: ${room.pod}`),
    );
    assert.equal(pods().get(room.pod)?.metadata.uid, uid, 'still kept');
  });

  it('renaming the StatefulSet with rooms present is refused (exit 9), nothing changed', () => {
    const uids = new Map([...pods()].map(([n, p]) => [n, p.metadata.uid]));
    const r = plugin('install', release, '--set', 'fullnameOverride=renamed', '--yes');
    assert.equal(r.status, 9, r.stderr);
    assert.match(r.stderr, /renames the StatefulSet/);
    for (const [n, p] of pods()) assert.equal(p.metadata.uid, uids.get(n), `${n} untouched`);
  });

  it('a failed revision whose StatefulSet never reached the cluster: a plain scale says it would replace the Free rooms, and asks (exit 13), restarting none', () => {
    // A foreign Service holds the nodePort of the Service a plain helm upgrade adds, so Helm 3
    // fails creating it, before it reaches the StatefulSet: the newest record (failed) has a
    // new image, the cluster still runs the old template.
    const blocker = sh.kubectl(
      'create',
      'service',
      'nodeport',
      'blocker',
      '--tcp=80:80',
      '--node-port=31650',
      '-n',
      ns,
    );
    assert.equal(blocker.status, 0, blocker.stderr);
    const uids = new Map([...pods()].map(([n, p]) => [n, p.metadata.uid]));
    const template = JSON.stringify(sh.getJson('statefulset', sts, '-n', ns).spec.template);
    const up = run(
      HELMS[0].path,
      [
        'upgrade',
        release,
        CHART,
        '-n',
        ns,
        '--reuse-values',
        '--set',
        'room.replicas=11',
        '--set',
        'room.image.tag=2.57',
      ],
      { env: sh.env },
    );
    assert.notEqual(up.status, 0, 'the upgrade fails on the nodePort');
    assert.equal(JSON.parse(sh.helm('status', release, '-n', ns, '-o', 'json').stdout).info.status, 'failed');
    assert.equal(
      JSON.stringify(sh.getJson('statefulset', sts, '-n', ns).spec.template),
      template,
      'never reached',
    );
    const scale = plugin('scale', release, '--replicas', '10');
    assert.equal(scale.status, 13, scale.stderr);
    assert.match(
      scale.stderr,
      /the StatefulSet's live pod template differs from the release's newest revision \(failed\)/,
    );
    assert.match(scale.stderr, /replaces \d+ room\(s\) on the release's newest pod template/);
    for (const [n, p] of pods()) assert.equal(p.metadata.uid, uids.get(n), `${n} untouched`);
    assert.equal(sh.kubectl('delete', 'service', 'blocker', '-n', ns).status, 0);
  });
});

// The holes left around the strategy, on the real control plane with Helm 4 (server-side apply):
// a strategy set outside Helm, a room allocated while a RollingUpdate change waits in its drain,
// and the automatic rollback of an interrupted change under RollingUpdate.
describe(
  'rollouts: the update strategy never lets the controller restart a room in use',
  { timeout: 900_000 },
  () => {
    const sh = userShell(HELMS[1].path);
    const ns = 'e2e-rollout-strategy';
    const release = 'strat';
    const sts = `${release}-expose-pods`;
    const plugin = (...args: string[]) => sh.kubectl('expose-pods', ...args, '-n', ns);
    const uidOf = (pod: string): string => sh.getJson('pod', pod, '-n', ns).metadata.uid;
    const set = () => sh.getJson('statefulset', sts, '-n', ns);
    const image = () => set().spec.template.spec.containers[0].image as string;
    const allocate = (): string => {
      const r = plugin('allocate', release, '-o', 'json');
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout).pod;
    };
    const deallocate = (pod: string) => {
      const r = plugin('deallocate', release, pod);
      assert.equal(r.status, 0, r.stderr);
    };
    const helmStatus = () =>
      JSON.parse(sh.helm('status', release, '-n', ns, '-o', 'json').stdout).info.status as string;
    /** The newest revision's number. */
    const revisions = (): number =>
      JSON.parse(sh.helm('history', release, '-n', ns, '-o', 'json').stdout).at(-1).revision;
    /** Every room Ready on the StatefulSet's update revision. */
    const settled = () =>
      eventually('every room Ready on the update revision', () => {
        const s = set();
        const pods = sh.roomPods(ns, release).filter((p) => !p.metadata.deletionTimestamp);
        return s.status.observedGeneration === s.metadata.generation &&
          pods.length === s.spec.replicas &&
          pods.every(
            (p) => isReadyPod(p) && p.metadata.labels['controller-revision-hash'] === s.status.updateRevision,
          )
          ? true
          : undefined;
      });
    /** `kubectl expose-pods ARGS -n NS` in the background: its output so far, and its exit code. */
    const background = (...args: string[]) => {
      const child = spawn('kubectl', ['expose-pods', ...args, '-n', ns], { env: sh.env });
      const out = { stderr: '' };
      child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
      const done = new Promise<number | null>((res) => child.on('exit', res));
      return { out, done, kill: () => child.kill('SIGKILL') };
    };

    before(() => {
      const r = sh.install(release, {
        ns,
        replicas: 3,
        nodePortBase: 31560,
        redis: false,
        set: ['room.podManagementPolicy=Parallel'],
      });
      assert.equal(r.status, 0, r.stderr);
    });
    after(() => {
      holdScheduling(false);
    });

    it('a live RollingUpdate set with kubectl patch: a new image takes OnDelete back in the same write; the room in use is kept, the Free ones replaced', async () => {
      const inUse = allocate();
      assert.equal(inUse, `${sts}-0`);
      const uids = new Map([0, 1, 2].map((n) => [`${sts}-${n}`, uidOf(`${sts}-${n}`)]));
      const patch = sh.kubectl(
        'patch',
        'statefulset',
        sts,
        '-n',
        ns,
        '-p',
        '{"spec":{"updateStrategy":{"type":"RollingUpdate"}}}',
      );
      assert.equal(patch.status, 0, patch.stderr);
      const old = set().status.updateRevision;
      // Helm 4 alone fails here on the field kubectl patch owns, writing nothing.
      const r = plugin('install', release, '--set', 'room.image.tag=2.54', '--yes');
      assert.equal(r.status, 0, r.stderr);
      assert.match(
        r.stderr,
        /updateStrategy: RollingUpdate \(live\) -> OnDelete, in the same write as the pod template: the controller restarts no room/,
      );
      assert.equal(set().spec.updateStrategy.type, 'OnDelete');
      assert.match(image(), /:2\.54$/);
      const pod0 = sh.getJson('pod', inUse, '-n', ns);
      assert.equal(pod0.metadata.uid, uids.get(inUse), 'the room in use kept');
      assert.equal(pod0.metadata.labels['controller-revision-hash'], old, 'on its old build');
      for (const n of [1, 2])
        assert.notEqual(uidOf(`${sts}-${n}`), uids.get(`${sts}-${n}`), `room ${n} replaced`);
      deallocate(inUse);
      await settled();
    });

    it('under RollingUpdate, a room allocated while the change waits in its drain: exit 15 before helm, the room kept, the Draining mark taken back, nothing upgraded', async () => {
      const move = plugin('install', release, '--set', 'room.updateStrategy.type=RollingUpdate', '--yes');
      assert.equal(move.status, 0, move.stderr);
      for (let n = 0; n < 3; n++) assert.equal(allocate(), `${sts}-${n}`);
      deallocate(`${sts}-0`);
      deallocate(`${sts}-1`);
      const before = { revisions: revisions(), image: image() };
      // Room 2 in use and removed: the change waits for it; rooms 0 and 1 are Free, so the plan restarts no room in use.
      const change = background(
        'install',
        release,
        '--set',
        'room.image.tag=2.55',
        '--replicas',
        '2',
        '--yes',
        '--timeout',
        '2m',
      );
      await eventually('room 2 marked Draining', () =>
        sh.getJson('pod', `${sts}-2`, '-n', ns).metadata.labels['expose-pods.io/draining'] === 'true'
          ? true
          : undefined,
      );
      const raced = allocate();
      assert.equal(raced, `${sts}-0`);
      const uid = uidOf(raced);
      deallocate(`${sts}-2`);
      assert.equal(await change.done, 15, change.out.stderr);
      assert.match(
        change.out.stderr,
        new RegExp(
          `restarts 1 room\\(s\\) in use \\(Allocated\\): ${sts}-0, allocated while it asked or waited`,
        ),
      );
      assert.equal(uidOf(raced), uid, 'the room allocated meanwhile kept');
      assert.deepEqual([revisions(), image(), set().spec.replicas], [before.revisions, before.image, 3]);
      assert.notEqual(
        sh.getJson('pod', `${sts}-2`, '-n', ns).metadata.labels['expose-pods.io/draining'],
        'true',
        'the mark taken back',
      );
      deallocate(raced);
    });

    it('under RollingUpdate, the rollback of an interrupted change to another template would restart a room in use: exit 15, nothing rolled back; once it is free, the same command converges', async () => {
      const deployed = revisions();
      // A change of ours killed with its helm while the rolling update waits (the scheduler held): left pending-upgrade.
      holdScheduling(true);
      const change = background(
        'install',
        release,
        '--set',
        'room.image.tag=2.56',
        '--yes',
        '--timeout',
        '5m',
      );
      const helmPid = await eventually('the helm pid in the lock, the new template applied', () => {
        const lease = sh.getJson('lease', `${release}-expose-pods-lock`, '-n', ns);
        const pid = Number(lease.metadata.annotations?.['expose-pods.io/helm-pid']);
        return pid > 0 && /:2\.56$/.test(image()) ? pid : undefined;
      });
      process.kill(helmPid, 'SIGKILL');
      change.kill();
      await change.done;
      assert.equal(helmStatus(), 'pending-upgrade');
      holdScheduling(false);
      await settled();
      const inUse = allocate();
      const uid = uidOf(inUse);
      const r = plugin('scale', release, '--replicas', '3', '--yes');
      assert.equal(r.status, 15, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `rolling it back to revision ${deployed} restarts 1 room\\(s\\) in use \\(Allocated\\): ${inUse}: their matches would end; nothing was rolled back`,
        ),
      );
      assert.match(r.stderr, /and run the command again: it rolls back then/);
      assert.match(r.stderr, new RegExp(`helm rollback ${release} ${deployed} -n ${ns}`));
      assert.equal(uidOf(inUse), uid, 'the room in use kept');
      assert.equal(helmStatus(), 'pending-upgrade');
      assert.match(image(), /:2\.56$/, 'not rolled back');
      // The lock is left released, carrying the revision recognised as ours (by the dead holder's tenure).
      const lease = sh.getJson('lease', `${release}-expose-pods-lock`, '-n', ns);
      assert.equal(lease.spec.holderIdentity, undefined, 'released');
      assert.equal(
        JSON.parse(lease.metadata.annotations['expose-pods.io/pending-revision']).revision,
        revisions(),
        'the pending revision',
      );
      assert.equal(lease.metadata.annotations['expose-pods.io/unsettled'], undefined);
      // Refused again while the room is in use; once it is free, the same command rolls back and converges.
      const still = plugin('scale', release, '--replicas', '3', '--yes');
      assert.equal(still.status, 15, still.stderr);
      deallocate(inUse);
      const again = plugin('scale', release, '--replicas', '3', '--yes');
      assert.equal(again.status, 0, again.stderr);
      assert.match(again.stderr, /rolling back to revision \d+ first/);
      assert.equal(helmStatus(), 'deployed');
      assert.doesNotMatch(image(), /:2\.56$/, 'rolled back');
      assert.equal(
        sh.kubectl('get', 'lease', `${release}-expose-pods-lock`, '-n', ns).status,
        1,
        'the lock deleted once settled',
      );
    });
  },
);
