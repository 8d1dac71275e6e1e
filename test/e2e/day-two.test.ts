import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import os from 'node:os';
import { after, before, describe, it } from 'node:test';

import {
  eventually,
  holdScheduling,
  isReadyPod,
  printClusterLogsOnFailure,
  userShell,
} from '../support/e2e.js';
import { HELMS } from '../support/tools.js';

after(printClusterLogsOnFailure);

// The sequences users run on day two, each numbered after the problem it proves fixed
// (issue "One safe path for every change to a release").

for (const [i, helm] of HELMS.entries()) {
  describe(`${helm.name}: install, scale, tolerations, then install again keeps what was set (1, 4)`, () => {
    const sh = userShell(helm.path);
    const ns = `e2e-day2-${helm.name}`;
    const release = 'r';
    const sts = `${release}-expose-pods`;
    const base = 31500 + i * 40;
    const ep = (...args: string[]) => sh.kubectl('expose-pods', ...args, '-n', ns);
    const values = () => JSON.parse(sh.helm('get', 'values', release, '-n', ns, '-o', 'json').stdout);
    const revisions = () =>
      JSON.parse(sh.helm('history', release, '-n', ns, '-o', 'json').stdout).length as number;
    const readyPods = () => sh.roomPods(ns, release).filter(isReadyPod).length;

    before(() => {
      const r = sh.install(release, { ns, replicas: 2, nodePortBase: base, redis: false });
      assert.equal(r.status, 0, r.stderr);
      const s = ep('scale', release, '--replicas', '5', '--timeout', '3m');
      assert.equal(s.status, 0, s.stderr);
      const t = ep('tolerations', release, '--not-ready', '10s', '--yes', '--timeout', '3m');
      assert.equal(t.status, 0, t.stderr);
    });

    it('install --set room.image.tag without a terminal or --yes: shows the plan, refuses (exit 13), changes nothing', () => {
      const before = revisions();
      const r = ep('install', release, '--set', 'room.image.tag=2.54', '--no-redis');
      assert.equal(r.status, 13, r.stderr);
      assert.match(r.stderr, /^ {4}room\.image\.tag: .* -> "2.54"$/m);
      assert.match(
        r.stderr,
        /^error: this install replaces 5 room\(s\) on the new pod template: pass --yes, or run it in a terminal$/m,
      );
      assert.match(r.stderr, new RegExp(`release ${release} in namespace ${ns} of context \\S+ \\(https://`));
      assert.equal(revisions(), before);
    });

    it('with --yes: replicas stay 5, the base stays, the tolerations stay; only the tag changed', () => {
      const r = ep('install', release, '--set', 'room.image.tag=2.54', '--yes', '--timeout', '3m');
      assert.equal(r.status, 0, r.stderr);
      const v = values();
      assert.equal(v.room.replicas, 5);
      assert.equal(v.expose.nodePortBase, base);
      assert.equal(v.room.failover.notReadySeconds, 10);
      assert.equal(v.room.image.tag, '2.54');
      assert.equal(v.redis.enabled, false, 'the --no-redis of the first install is kept');
      const s = sh.getJson('statefulset', sts, '-n', ns);
      assert.equal(s.spec.replicas, 5);
      assert.equal(readyPods(), 5);
      const svc = sh.getJson('service', `${sts}-4`, '-n', ns);
      assert.equal(svc.spec.ports[0].nodePort, base + 4);
    });

    it("the command scale's plan prints for a pinned expose.count is safe: it keeps every other value", () => {
      const r = ep('install', release, '--set', 'expose.count=6', '--yes', '--timeout', '3m');
      assert.equal(r.status, 0, r.stderr);
      const v = values();
      assert.deepEqual(
        [v.room.replicas, v.expose.count, v.expose.nodePortBase, v.room.image.tag],
        [5, 6, base, '2.54'],
      );
      const s = ep('scale', release, '--replicas', '7', '--dry-run');
      assert.equal(s.status, 0, s.stderr);
      const hint = new RegExp(
        `raise it with: (kubectl expose-pods install ${release} -n ${ns} --set expose.count=7)`,
      ).exec(s.stdout);
      assert.ok(hint, s.stdout);
    });

    it('install --reset-values is the explicit way back to the chart defaults', () => {
      const r = ep(
        'install',
        release,
        '--reset-values',
        '--no-redis',
        '--replicas',
        '5',
        '--node-port-base',
        String(base),
        '--yes',
        '--timeout',
        '3m',
      );
      assert.equal(r.status, 0, r.stderr);
      const v = values();
      assert.equal(v.room.failover, undefined);
      assert.equal(v.expose.count, undefined);
      assert.equal(
        sh
          .getJson('statefulset', sts, '-n', ns)
          .spec.template.spec.tolerations?.find((t: any) => t.key === 'node.kubernetes.io/not-ready')
          ?.tolerationSeconds ?? 300,
        300,
      );
    });
  });
}

describe('day two, one release at a time (Helm 4)', () => {
  const helm = HELMS[1];
  const sh = userShell(helm.path);
  const ns = 'e2e-day2';
  const base = 31700;
  const ep = (...args: string[]) => sh.kubectl('expose-pods', ...args, '-n', ns);
  const helmList = () =>
    (JSON.parse(sh.helm('list', '-n', ns, '-o', 'json').stdout) as any[]).map((r) => r.name).sort();

  before(() => {
    const r = sh.install('first', { ns, replicas: 3, nodePortBase: base, redis: false });
    assert.equal(r.status, 0, r.stderr);
  });

  it('2. a second release on taken nodePorts is refused before anything is written, naming the holder and a free base', () => {
    const r = ep('install', 'second', '--replicas', '2', '--node-port-base', String(base + 1), '--no-redis');
    assert.equal(r.status, 4, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^ {2}nodePort ${base + 1} \\(for second-expose-pods-0\\) is taken by Service ${ns}/first-expose-pods-1$`,
        'm',
      ),
    );
    assert.match(
      r.stderr,
      /^ {2}the first free block of 2 nodePorts starts at \d+: add --node-port-base \d+/m,
    );
    assert.match(r.stderr, /Nothing was changed\./);
    assert.deepEqual(helmList(), ['first']);
    assert.equal(sh.getJson('services', '-n', ns, '-l', 'app.kubernetes.io/instance=second').items.length, 0);
  });

  it('3. Services a failed upgrade left outside the manifest are removed by uninstall, freeing their nodePorts', () => {
    // What a failed upgrade leaves: a Service Helm made for the release that its last manifest no longer lists.
    const orphan = sh.kubectl(
      'create',
      'service',
      'nodeport',
      'first-expose-pods-9',
      '-n',
      ns,
      '--tcp',
      '8080:8080',
      '--node-port',
      String(base + 9),
    );
    assert.equal(orphan.status, 0, orphan.stderr);
    for (const [k, v] of [
      ['app.kubernetes.io/instance', 'first'],
      ['app.kubernetes.io/managed-by', 'Helm'],
      ['app.kubernetes.io/component', 'pod-service'],
    ])
      assert.equal(sh.kubectl('label', 'service', 'first-expose-pods-9', '-n', ns, `${k}=${v}`).status, 0);
    for (const a of ['meta.helm.sh/release-name=first', `meta.helm.sh/release-namespace=${ns}`])
      assert.equal(sh.kubectl('annotate', 'service', 'first-expose-pods-9', '-n', ns, a).status, 0);
    // A user's Service that only shares the label is not the release's.
    assert.equal(sh.kubectl('create', 'service', 'clusterip', 'mine', '-n', ns, '--tcp', '80:80').status, 0);
    assert.equal(
      sh.kubectl('label', 'service', 'mine', '-n', ns, 'app.kubernetes.io/instance=first').status,
      0,
    );

    const r = ep('uninstall', 'first');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /deleted Services a failed upgrade had left behind: first-expose-pods-9/);
    const left = (sh.getJson('services', '-n', ns).items as any[]).map((s) => s.metadata.name);
    assert.deepEqual(left, ['mine']);
  });

  it('5. HELM_KUBECONTEXT pointing elsewhere is ignored with a warning: helm acts on the same cluster as the API calls', () => {
    const env = { ...sh.env, HELM_KUBECONTEXT: 'prod-does-not-exist', HELM_NAMESPACE: 'elsewhere' };
    const r = spawnSyncIn(env, [
      'expose-pods',
      'install',
      'third',
      '-n',
      ns,
      '--replicas',
      '1',
      '--node-port-base',
      String(base + 20),
      '--no-redis',
      '--timeout',
      '2m',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stderr,
      /^warning: ignoring HELM_KUBECONTEXT=prod-does-not-exist, HELM_NAMESPACE=elsewhere: helm acts on context \S+/m,
    );
    assert.deepEqual(helmList(), ['third']);
  });

  it('6. a lease renewed by a holder with our hostname but a pid not alive here is not taken while renewed', async () => {
    const lease = holderLease(ns, new Date(), { 'expose-pods.io/operation': 'scale --replicas 9' });
    // Another machine of the same name renews it every 2 s while our scale runs.
    const renew = () => {
      lease.spec.renewTime = micro(new Date());
      return spawnSyncIn(sh.env, ['apply', '-f', '-'], JSON.stringify(lease));
    };
    assert.equal(renew().status, 0);
    const timer = setInterval(renew, 2000);
    try {
      const r = await runAsync(sh.env, [
        'expose-pods',
        'scale',
        'third',
        '-n',
        ns,
        '--replicas',
        '2',
        '--timeout',
        '1m',
      ]);
      assert.equal(r.status, 9, r.stderr);
      assert.match(r.stderr, /another operation is in progress on release third: scale --replicas 9/);
    } finally {
      clearInterval(timer);
    }
    assert.equal(sh.getJson('statefulset', 'third-expose-pods', '-n', ns).spec.replicas, 1);
    assert.equal(sh.kubectl('delete', 'lease', 'third-expose-pods-lock', '-n', ns).status, 0);
  });

  it('7. a lease no longer renewed, naming a pid that is alive but not helm: taken over once it stays unchanged for its duration, and the scale goes on', () => {
    // This test's own pid: alive, and not helm (a reused pid).
    const lease = holderLease(ns, new Date(Date.now() - 120_000), {
      'expose-pods.io/helm-pid': String(process.pid),
    });
    assert.equal(spawnSyncIn(sh.env, ['apply', '-f', '-'], JSON.stringify(lease)).status, 0);
    const started = Date.now();
    const r = ep('scale', 'third', '--replicas', '2', '--timeout', '1m');
    assert.equal(r.status, 0, r.stderr);
    // Its renewTime is two minutes old by its clock, which proves nothing: we watch it for its 30 s ourselves.
    assert.match(r.stderr, /waiting up to 30s to see whether it is renewed/);
    assert.ok(Date.now() - started >= 30_000, `took over after ${Date.now() - started} ms`);
    assert.doesNotMatch(r.stderr, /left helm running/);
    assert.equal(sh.getJson('statefulset', 'third-expose-pods', '-n', ns).spec.replicas, 2);
  });

  it('9. install --dry-run against the live cluster never prints the Redis password', () => {
    const r = ep('install', 'fourth', '--dry-run', '--set', 'redis.auth.password=hunter2-secret');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /kind: Secret/);
    assert.match(r.stdout, /<redacted>/);
    assert.doesNotMatch(r.stdout, /hunter2-secret|aHVudGVyMi1zZWNyZXQ/);
    // A real change of the password: the plan on stderr says it changes, never what to.
    for (const pw of ['S3cretPW', 'N3wPW']) {
      const set = ep('install', 'third', '--set', `redis.auth.password=${pw}`, '--yes', '--timeout', '2m');
      assert.equal(set.status, 0, set.stderr);
      assert.match(set.stderr, /^ {4}redis\.auth\.password: (\(unset\)|<redacted>) -> <redacted>$/m);
      assert.doesNotMatch(set.stdout + set.stderr, /S3cretPW|N3wPW/);
    }
  });

  it('10. SIGTERM mid-wait stops helm too (exit 143), and the same command again converges', async () => {
    const hold = (on: boolean) => holdScheduling(on);
    hold(true);
    try {
      const child = spawn(
        'kubectl',
        ['expose-pods', 'scale', 'third', '-n', ns, '--replicas', '4', '--timeout', '3m'],
        { env: sh.env },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      const helmPid = await eventually('the helm pid in the lock', () => {
        const l = sh.kubectl('get', 'lease', 'third-expose-pods-lock', '-n', ns, '-o', 'json');
        if (l.status !== 0) return undefined;
        const pid = Number(JSON.parse(l.stdout).metadata.annotations?.['expose-pods.io/helm-pid']);
        return pid > 0 ? pid : undefined;
      });
      await eventually('the scale to wait for its pods', () =>
        /pods ready \d+\/4/.test(stderr) ? true : undefined,
      );
      // kubectl execs the plugin in its own process: this is the signal a supervisor sends.
      child.kill('SIGTERM');
      const code = await exited;
      assert.match(stderr, /^error: interrupted \(SIGTERM\): helm was stopped$/m);
      assert.equal(code, 143, stderr);
      await eventually(
        'helm stopped',
        () => {
          try {
            process.kill(helmPid, 0);
            return undefined;
          } catch {
            return true;
          }
        },
        15_000,
      );
      assert.equal(
        sh.kubectl('get', 'lease', 'third-expose-pods-lock', '-n', ns).status,
        1,
        'the lock is released',
      );
    } finally {
      hold(false);
    }
    const again = ep('scale', 'third', '--replicas', '4', '--timeout', '3m');
    assert.equal(again.status, 0, again.stderr);
    assert.equal(sh.getJson('statefulset', 'third-expose-pods', '-n', ns).status.readyReplicas, 4);
  });

  it('11. uninstall --delete-data deletes only the claims and Secrets the chart made, by name', () => {
    const claim = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'scores', namespace: ns, labels: { 'app.kubernetes.io/instance': 'third' } },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } },
    };
    // A user's Secret (an existingSecret made from the chart's own), with every label of the chart's Redis Secret.
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'my-redis-password',
        namespace: ns,
        labels: {
          'app.kubernetes.io/name': 'expose-pods',
          'app.kubernetes.io/instance': 'third',
          'app.kubernetes.io/component': 'redis',
        },
      },
      stringData: { 'redis-password': 'x' },
    };
    for (const o of [claim, secret])
      assert.equal(spawnSyncIn(sh.env, ['apply', '-f', '-'], JSON.stringify(o)).status, 0);
    const r = ep('uninstall', 'third', '--delete-data', '--yes');
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr + r.stdout, /scores|my-redis-password/);
    assert.deepEqual(
      (sh.getJson('pvc', '-n', ns).items as any[]).map((p) => p.metadata.name),
      ['scores'],
    );
    assert.equal(
      sh.kubectl('get', 'secret', 'my-redis-password', '-n', ns).status,
      0,
      "the user's Secret is kept",
    );
  });

  it('12. --image with a comma sets one value, never a second key', () => {
    const r = ep(
      'install',
      'fifth',
      '--dry-run',
      '--image',
      'repo/app:1.2,redis.enabled=false',
      '-o',
      'json',
    );
    assert.equal(r.status, 0, r.stderr);
    const items = JSON.parse(r.stdout).items as any[];
    assert.ok(
      items.some((o) => o.kind === 'Deployment' && /redis/.test(o.metadata.name)),
      'Redis is still enabled',
    );
    const sts = items.find((o) => o.kind === 'StatefulSet');
    assert.equal(sts.spec.template.spec.containers[0].image, 'repo/app:1.2,redis.enabled=false');
  });

  it('13. a scale past what the nodes can hold is refused up front, naming the shortfall', () => {
    const r = ep(
      'install',
      'sixth',
      '--replicas',
      '1',
      '--node-port-base',
      String(base + 30),
      '--no-redis',
      '--set',
      'expose.count=1',
      '--timeout',
      '2m',
    );
    assert.equal(r.status, 0, r.stderr);
    const s = ep('scale', 'sixth', '--replicas', '2000', '--dry-run');
    assert.equal(s.status, 4, s.stderr);
    assert.match(
      s.stderr,
      /^ {2}1999 new pod\(s\) need a slot, and the 3 node\(s\) that can take rooms have \d+ free \(allocatable pods minus pods bound\): \d+ would stay Pending$/m,
    );
    assert.equal(sh.getJson('statefulset', 'sixth-expose-pods', '-n', ns).spec.replicas, 1);
  });
});

/** MicroTime as the API wants it: six fractional digits. */
const micro = (d: Date) => d.toISOString().replace('Z', '000Z');

/** The release third's lock Lease, held by a holder named like this host with a pid not alive here. */
function holderLease(ns: string, renewed: Date, annotations: Record<string, string>) {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'third-expose-pods-lock', namespace: ns, annotations },
    spec: {
      holderIdentity: `kubectl-expose-pods/${os.hostname()}/4194305`,
      leaseDurationSeconds: 30,
      acquireTime: micro(renewed),
      renewTime: micro(renewed),
    },
  };
}

function spawnSyncIn(env: NodeJS.ProcessEnv, args: string[], input?: string) {
  return spawnSync('kubectl', args, { env, input, encoding: 'utf8' });
}

function runAsync(
  env: NodeJS.ProcessEnv,
  args: string[],
): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('kubectl', args, { env });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (status) => resolve({ status, stderr }));
  });
}
