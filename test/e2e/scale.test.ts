import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { eventually, holdScheduling, printClusterLogsOnFailure, userShell } from '../support/e2e.js';
import { HELMS, ROOT, TOOLS, run } from '../support/tools.js';

after(printClusterLogsOnFailure);

const HELM4 = HELMS[1];

describe('scale: the rooms and their Services move together, through the release', () => {
  const sh = userShell(HELM4.path);
  const ns = 'e2e-scale';
  const release = 'rooms';
  const sts = `${release}-expose-pods`;
  const base = 32600;
  const scale = (...args: string[]) => sh.kubectl('expose-pods', 'scale', release, '-n', ns, ...args);
  const names = (kind: string, component: string) =>
    (
      sh.getJson(
        kind,
        '-n',
        ns,
        '-l',
        `app.kubernetes.io/instance=${release},app.kubernetes.io/component=${component}`,
      ).items as any[]
    )
      .map((o) => o.metadata.name as string)
      .sort();
  const ordinals = (k: number) => Array.from({ length: k }, (_, i) => `${sts}-${i}`).sort();
  const revisions = () =>
    JSON.parse(sh.helm('history', release, '-n', ns, '-o', 'json').stdout).length as number;
  const pvcUids = () =>
    Object.fromEntries(
      (sh.getJson('pvc', '-n', ns).items as any[]).map((p) => [
        p.metadata.name as string,
        p.metadata.uid as string,
      ]),
    );

  before(() => {
    const r = sh.install(release, {
      ns,
      replicas: 2,
      nodePortBase: base,
      redis: false,
      set: ['room.persistence.enabled=true'],
    });
    assert.equal(r.status, 0, r.stderr);
  });

  it('2 -> 5: prints the plan, the pods become Ready, 5 Services, endpoints lists 5, one Helm revision', () => {
    const before = revisions();
    const r = scale('--replicas', '5', '--timeout', '3m');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Scale release rooms in namespace e2e-scale: 2 -> 5 replicas$/m);
    assert.match(
      r.stdout,
      new RegExp(
        `^ {2}Services to add: +${sts}-2 \\(nodePort ${base + 2}\\), ${sts}-3 \\(nodePort ${base + 3}\\), ${sts}-4 \\(nodePort ${base + 4}\\)$`,
        'm',
      ),
    );
    assert.match(r.stderr, /^… pods ready 5\/5$/m);
    for (const i of [2, 3, 4])
      assert.match(r.stdout, new RegExp(`^ {2}\\+ ${sts}-${i} +[\\d.]+:${base + i} +Ready$`, 'm'));
    assert.equal(revisions(), before + 1, 'exactly one Helm revision per scale');
    assert.deepEqual(names('services', 'pod-service'), ordinals(5));
    const e = JSON.parse(sh.kubectl('expose-pods', 'endpoints', release, '-n', ns, '-o', 'json').stdout);
    assert.deepEqual(
      e.endpoints.map((x: any) => [x.pod, x.status]),
      ordinals(5).map((p) => [p, 'Ready']),
    );
    // The release is the source of truth: a later helm upgrade would keep 5.
    assert.equal(
      JSON.parse(sh.helm('get', 'values', release, '-n', ns, '-o', 'json').stdout).room.replicas,
      5,
    );
  });

  it('5 -> 1 removing Ready pods needs --yes without a terminal, and changes nothing without it', () => {
    const r = scale('--replicas', '1');
    assert.equal(r.status, 13, r.stderr);
    assert.match(
      r.stderr,
      /^error: this scale removes 4 Ready pod\(s\): pass --yes, or run it in a terminal$/m,
    );
    assert.equal(sh.getJson('statefulset', sts, '-n', ns).spec.replicas, 5);
  });

  it('5 -> 1 --yes: four pods and their Services go, their PVCs stay', () => {
    const pvcs = pvcUids();
    const r = scale('--replicas', '1', '--yes', '--timeout', '3m');
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`^ {2}pods to remove: +${sts}-4, ${sts}-3, ${sts}-2, ${sts}-1 {2}\\(4 Ready now`, 'm'),
    );
    assert.match(r.stdout, /^ {2}PVCs kept: .*reattached to the same ordinals/m);
    assert.deepEqual(names('pods', 'room'), ordinals(1));
    assert.deepEqual(names('services', 'pod-service'), ordinals(1));
    assert.deepEqual(pvcUids(), pvcs, 'every PVC is still there, the same objects');
    assert.match(r.stderr, /kept PVCs .*scaling up again reattaches them/);
  });

  it('1 -> 3: the old PVCs are reattached to the same ordinals', () => {
    const pvcs = pvcUids();
    const r = scale('--replicas', '3', '--timeout', '3m');
    assert.equal(r.status, 0, r.stderr);
    for (const i of [1, 2]) {
      const claim = sh
        .getJson('pod', `${sts}-${i}`, '-n', ns)
        .spec.volumes.find((v: any) => v.persistentVolumeClaim).persistentVolumeClaim.claimName;
      assert.equal(claim, `data-${sts}-${i}`);
    }
    assert.deepEqual(pvcUids(), pvcs, 'no new claims');
  });

  it('drift: kubectl scale to 4 shows NoService; scale --sync adopts 4 into the release and adds the Service', async () => {
    assert.equal(sh.kubectl('scale', 'statefulset', sts, '-n', ns, '--replicas', '4').status, 0);
    await eventually('pod 3 to be Ready', () =>
      (sh.getJson('pods', '-n', ns).items as any[]).some(
        (p) =>
          p.metadata.name === `${sts}-3` &&
          p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'),
      )
        ? true
        : undefined,
    );
    const e = JSON.parse(sh.kubectl('expose-pods', 'endpoints', release, '-n', ns, '-o', 'json').stdout);
    assert.equal(e.endpoints[3].status, 'NoService');
    const r = scale('--sync');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /note: the StatefulSet runs 4 replicas but the release says 3/);
    assert.deepEqual(names('services', 'pod-service'), ordinals(4));
    assert.equal(
      JSON.parse(sh.helm('get', 'values', release, '-n', ns, '-o', 'json').stdout).room.replicas,
      4,
    );
  });

  it('kubectl scale, then scale --replicas to the old count: Helm 4 takes spec.replicas back (--force-conflicts)', () => {
    assert.equal(sh.kubectl('scale', 'statefulset', sts, '-n', ns, '--replicas', '5').status, 0);
    const r = scale('--replicas', '4', '--yes', '--timeout', '3m');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(sh.getJson('statefulset', sts, '-n', ns).spec.replicas, 4);
    assert.deepEqual(names('services', 'pod-service'), ordinals(4));
  });

  it('a nodePort held by a foreign Service: refused, naming that Service; nothing changed', () => {
    const foreign = 'e2e-scale-foreign';
    sh.kubectl('create', 'namespace', foreign);
    const svc = sh.kubectl(
      'create',
      'service',
      'nodeport',
      'squatter',
      '-n',
      foreign,
      '--tcp',
      '80:80',
      '--node-port',
      String(base + 4),
    );
    assert.ok(svc.status === 0 || /AlreadyExists/.test(svc.stderr), svc.stderr);
    const before = revisions();
    const r = scale('--replicas', '6');
    assert.equal(r.status, 4, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`^ {2}nodePort ${base + 4} \\(for ${sts}-4\\) is taken by Service ${foreign}/squatter`, 'm'),
    );
    assert.equal(revisions(), before);
    assert.equal(sh.getJson('statefulset', sts, '-n', ns).spec.replicas, 4);
    assert.equal(sh.kubectl('delete', 'namespace', foreign, '--wait=false').status, 0);
  });

  it('--dry-run and -o json: the plan, nothing applied', () => {
    const r = scale('--replicas', '2', '--dry-run', '-o', 'json');
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout);
    assert.equal(res.schemaVersion, 1);
    assert.equal(res.applied, false);
    assert.deepEqual(res.plan.removePods, [`${sts}-3`, `${sts}-2`]);
    assert.equal(res.plan.statefulSet, sts);
    assert.equal(sh.getJson('statefulset', sts, '-n', ns).spec.replicas, 4);
    // -o name: the object scaled, as kubectl scale -o name prints it, and kubectl takes it back.
    const name = scale('--replicas', '2', '--dry-run', '-o', 'name');
    assert.equal(name.status, 0, name.stderr);
    assert.equal(name.stdout, `statefulset.apps/${sts}\n`);
    assert.equal(sh.kubectl('get', name.stdout.trim(), '-n', ns, '-o', 'name').stdout, name.stdout);
  });

  it('--delete-data: the PVCs of every removed ordinal go (and only those), after --yes', async () => {
    // A user's claim with the release's label and a name like a removed ordinal's: not the StatefulSet's, kept.
    const backup = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: `backup-${sts}-3`, namespace: ns, labels: { 'app.kubernetes.io/instance': release } },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } },
    };
    const made = run(TOOLS.KUBECTL, ['apply', '-f', '-'], { env: sh.env, input: JSON.stringify(backup) });
    assert.equal(made.status, 0, made.stderr);
    const r = scale('--replicas', '2', '--delete-data', '--yes', '--timeout', '3m');
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /backup-/);
    assert.match(
      r.stdout,
      new RegExp(
        `^ {2}PVCs to delete: +data-${sts}-2, data-${sts}-3, data-${sts}-4 {2}\\(--delete-data`,
        'm',
      ),
    );
    assert.match(r.stderr, new RegExp(`^deleted PVCs: data-${sts}-2, data-${sts}-3, data-${sts}-4$`, 'm'));
    // A claim goes once the pvc-protection finalizer sees no pod using it.
    await eventually('the PVCs of ordinals 2..4 to be gone', () =>
      Object.keys(pvcUids()).sort().join() === [`backup-${sts}-3`, `data-${sts}-0`, `data-${sts}-1`].join()
        ? true
        : undefined,
    );
  });

  it('bad input: no count, a negative count, a missing release', () => {
    const none = scale();
    assert.equal(none.status, 2);
    assert.match(none.stderr, /^error: give either --replicas N or --sync$/m);
    const neg = scale('--replicas', '-1');
    assert.equal(neg.status, 2);
    const missing = sh.kubectl('expose-pods', 'scale', 'nope', '-n', ns, '--replicas', '1');
    assert.equal(missing.status, 7, missing.stderr);
    assert.match(missing.stderr, /^error: release nope not found in namespace e2e-scale$/m);
    assert.doesNotMatch(neg.stderr + missing.stderr, /at .*\.js:\d+/);
  });
});

// kubectl scale (or an HPA) lowers spec.replicas behind the release: the controller removes
// the top rooms one by one (OrderedReady), the highest held Terminating for a while
// (expose-pods.test/terminating-for), so rooms above the new count stay live meanwhile.
describe('scale after kubectl scale down over rooms in use', { timeout: 300_000 }, () => {
  const sh = userShell(HELM4.path);
  const ns = 'e2e-scale-drift';
  const release = 'drift';
  const sts = `${release}-expose-pods`;
  const plugin = (...args: string[]) => sh.kubectl('expose-pods', ...args, '-n', ns);
  const podOf = (name: string) =>
    (sh.getJson('pods', '-n', ns).items as any[]).find((p) => p.metadata.name === name);

  before(() => {
    const r = sh.install(release, { ns, replicas: 5, nodePortBase: 30500, redis: false });
    assert.equal(r.status, 0, r.stderr);
    // Rooms 0, 1 and 2 in use; 3 and 4 Free.
    for (let n = 0; n < 4; n++) assert.equal(plugin('allocate', release, '-o', 'name').status, 0);
    assert.equal(plugin('deallocate', release, '--ordinal', '3').status, 0);
  });

  it('allocate never hands out a room at or above the new replica count; endpoints shows it Draining', async () => {
    const held = sh.kubectl('annotate', 'pod', `${sts}-4`, '-n', ns, 'expose-pods.test/terminating-for=45s');
    assert.equal(held.status, 0, held.stderr);
    assert.equal(sh.kubectl('scale', 'statefulset', sts, '-n', ns, '--replicas', '2').status, 0);
    await eventually('room 4 to be Terminating', () =>
      podOf(`${sts}-4`)?.metadata.deletionTimestamp ? true : undefined,
    );
    assert.equal(
      podOf(`${sts}-3`)?.metadata.deletionTimestamp,
      undefined,
      'room 3 is still live above the count',
    );
    const got: number[] = [];
    for (let i = 0; i < 4; i++) {
      const a = plugin('allocate', release, '-o', 'json');
      if (a.status === 0) got.push(JSON.parse(a.stdout).ordinal as number);
      else assert.equal(a.status, 14, a.stderr);
    }
    assert.deepEqual(
      got.filter((n) => n >= 2),
      [],
      'no room at or above spec.replicas',
    );
    const rows = JSON.parse(plugin('endpoints', release, '-o', 'json').stdout).endpoints as any[];
    const room3 = rows.find((e) => e.pod === `${sts}-3`);
    assert.equal(room3.state, 'Draining');
    assert.equal(
      rows.find((e) => e.pod === `${sts}-2`).state,
      'Allocated',
      'its match runs until the controller removes it',
    );
  });

  it('scale --sync says the controller is removing those rooms and which are in use, and exits 0', () => {
    const r = plugin('scale', release, '--sync', '--yes', '--timeout', '3m');
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `note: the StatefulSet's controller is already removing rooms ${sts}-\\d\\.\\.${sts}-\\d .*rooms in use among them: ${sts}-2: their matches end`,
      ),
    );
    assert.doesNotMatch(r.stderr, /nothing was scaled/);
    assert.equal(
      JSON.parse(sh.helm('get', 'values', release, '-n', ns, '-o', 'json').stdout).room.replicas,
      2,
    );
  });
});

// While scheduling is held (holdScheduling), new pods stay Pending, so a scale is
// certainly still waiting when the test contends with it or kills it; letting go lets it finish.
describe('scale under interruption and contention', () => {
  const sh = userShell(HELM4.path);
  const ns = 'e2e-scale-burst';
  const release = 'burst';
  const sts = `${release}-expose-pods`;
  const cordon = (verb: 'cordon' | 'uncordon') => holdScheduling(verb === 'cordon');

  /** Starts a scale in the background; `exited` resolves its exit code; its output so far is readable meanwhile. */
  function background(replicas: number) {
    const child = spawn(
      'kubectl',
      ['expose-pods', 'scale', release, '-n', ns, '--replicas', String(replicas), '--yes', '--timeout', '3m'],
      { env: sh.env },
    );
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    return { child, out, exited };
  }
  const helmStatus = () =>
    JSON.parse(sh.helm('status', release, '-n', ns, '-o', 'json').stdout).info.status as string;
  const waiting = (b: ReturnType<typeof background>, replicas: number) =>
    eventually(`the scale to ${replicas} to wait for its pods`, () =>
      new RegExp(`… pods ready \\d+/${replicas}`).test(b.out.stderr) ? true : undefined,
    );
  const scaleTo = (replicas: number, ...more: string[]) =>
    sh.kubectl(
      'expose-pods',
      'scale',
      release,
      '-n',
      ns,
      '--replicas',
      String(replicas),
      '--yes',
      '--timeout',
      '3m',
      ...more,
    );

  before(() => {
    const r = sh.install(release, { ns, replicas: 1, nodePortBase: 32700, redis: false });
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => {
    cordon('uncordon');
  });

  it('two scales at once: the second is refused (exit 9) while the first runs, and the first finishes cleanly', async () => {
    cordon('cordon');
    const first = background(10);
    await waiting(first, 10);
    const second = scaleTo(3);
    assert.equal(second.status, 9, second.stderr);
    assert.match(
      second.stderr,
      /^error: another operation is in progress on release burst: scale --replicas 10 by kubectl-expose-pods\/[^/]+\/\d+\/[0-9a-f]{12} since /m,
    );
    cordon('uncordon');
    assert.equal(await first.exited, 0, first.out.stderr);
    assert.equal(sh.getJson('statefulset', sts, '-n', ns).status.readyReplicas, 10);
    assert.equal(helmStatus(), 'deployed');
    assert.equal(sh.getJson('lease', '-n', ns).items.length, 0, 'the lock is released');
  });

  it('killed mid-wait (its helm may go on): the same command again converges', async () => {
    cordon('cordon');
    const a = background(15);
    await waiting(a, 15);
    a.child.kill('SIGKILL');
    await a.exited;
    cordon('uncordon');
    const r = scaleTo(15);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(sh.getJson('statefulset', sts, '-n', ns).status.readyReplicas, 15);
    assert.equal(helmStatus(), 'deployed');
  });

  it('killed together with its helm (release left pending-upgrade): the re-run rolls back and converges', async () => {
    // Under OnDelete (the default) helm returns once the objects are applied and the plugin
    // waits for the rooms itself, so there is no helm left to kill mid-wait; under RollingUpdate
    // helm waits for the StatefulSet, which is the case this test is about. The move restarts nothing.
    const strategy = sh.kubectl(
      'expose-pods',
      'install',
      release,
      '-n',
      ns,
      '--set',
      'room.updateStrategy.type=RollingUpdate',
      '--yes',
    );
    assert.equal(strategy.status, 0, strategy.stderr);
    cordon('cordon');
    const a = background(20);
    await waiting(a, 20);
    // The lock records the helm it runs.
    const helmPid = await eventually('the helm pid in the lock', () => {
      const lease = sh.getJson('lease', `${release}-expose-pods-lock`, '-n', ns);
      const pid = Number(lease.metadata.annotations?.['expose-pods.io/helm-pid']);
      return pid > 0 ? pid : undefined;
    });
    process.kill(helmPid, 'SIGKILL');
    a.child.kill('SIGKILL');
    await a.exited;
    assert.equal(helmStatus(), 'pending-upgrade');
    cordon('uncordon');
    const r = scaleTo(20);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stderr,
      /^warning: release burst was left pending-upgrade by an interrupted operation \(revision \d+\); rolling back to revision \d+ first$/m,
    );
    assert.equal(helmStatus(), 'deployed');
    assert.equal(sh.getJson('statefulset', sts, '-n', ns).status.readyReplicas, 20);
    const services = sh.podServices(ns);
    assert.equal(services.length, 20);
  });

  it('the API server restarts mid-scale: the scale finishes, or the same command again converges', async () => {
    cordon('cordon');
    const a = background(25);
    await waiting(a, 25);
    const restart = run('bash', [path.join(ROOT, 'test/cluster/cluster.sh'), 'restart-apiserver']);
    assert.equal(restart.status, 0, restart.stderr);
    cordon('uncordon');
    const code = await a.exited;
    if (code !== 0) {
      const again = scaleTo(25);
      assert.equal(again.status, 0, `first run (exit ${code}):\n${a.out.stderr}\nre-run:\n${again.stderr}`);
    }
    assert.equal(sh.getJson('statefulset', sts, '-n', ns).status.readyReplicas, 25);
    assert.equal(helmStatus(), 'deployed');
    const services = sh.podServices(ns);
    assert.equal(services.length, 25);
  });

  it('helm fails after the drain: the rooms it marked go back to service (the StatefulSet keeps them), nothing scaled', () => {
    // A helm that fails its upgrade and runs every other command (version, template) as the real one.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-failing-helm-'));
    const failing = path.join(dir, 'helm');
    writeFileSync(
      failing,
      `#!/bin/sh\nif [ "$1" = upgrade ]; then echo "Error: UPGRADE FAILED: injected" >&2; exit 1; fi\nexec ${HELM4.path} "$@"\n`,
    );
    chmodSync(failing, 0o755);
    const r = scaleTo(24, '--helm-binary', failing);
    assert.notEqual(r.status, 0, r.stderr);
    assert.match(r.stderr, /injected/);
    const set = sh.getJson('statefulset', sts, '-n', ns);
    assert.equal(set.spec.replicas, 25, 'nothing scaled');
    assert.notEqual(
      sh.getJson('pod', `${sts}-24`, '-n', ns).metadata.labels['expose-pods.io/draining'],
      'true',
      'the room marked for removal is back in service',
    );
    const alloc = sh.kubectl(
      'expose-pods',
      'allocate',
      release,
      '-n',
      ns,
      '--selector',
      `statefulset.kubernetes.io/pod-name=${sts}-24`,
      '-o',
      'json',
    );
    assert.equal(alloc.status, 0, alloc.stderr);
    assert.equal(JSON.parse(alloc.stdout).pod, `${sts}-24`);
  });
});

describe('scale with Helm 3 (three-way merge instead of server-side apply)', () => {
  const sh = userShell(HELMS[0].path);
  const ns = 'e2e-scale-helm3';
  const sts = 'h3-expose-pods';
  const scale = (...args: string[]) => sh.kubectl('expose-pods', 'scale', 'h3', '-n', ns, ...args);

  before(() => {
    const r = sh.install('h3', { ns, replicas: 2, nodePortBase: 32400, redis: false });
    assert.equal(r.status, 0, r.stderr);
  });

  it('2 -> 4, then a kubectl scale to 6 is taken back by scale --replicas 4', () => {
    assert.equal(scale('--replicas', '4', '--timeout', '3m').status, 0);
    assert.equal(sh.kubectl('scale', 'statefulset', sts, '-n', ns, '--replicas', '6').status, 0);
    const r = scale('--replicas', '4', '--yes', '--timeout', '3m');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /note: the StatefulSet runs 6 replicas but the release says 4/);
    assert.equal(sh.getJson('statefulset', sts, '-n', ns).spec.replicas, 4);
    const services = sh.podServices(ns);
    assert.equal(services.length, 4);
  });
});
