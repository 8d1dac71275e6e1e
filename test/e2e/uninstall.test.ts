import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';

import { eventually, printClusterLogsOnFailure, userShell } from '../support/e2e.js';
import { HELMS, run } from '../support/tools.js';

after(printClusterLogsOnFailure);

for (const [i, helm] of HELMS.entries()) {
  const ns = `e2e-uninstall-${helm.name}`;
  const release = 'arena';
  const sts = `${release}-expose-pods`;

  describe(`${helm.name}: kubectl expose-pods uninstall keeps data unless told, and converges`, () => {
    const sh = userShell(helm.path);
    const names = (kind: string) =>
      (sh.getJson(kind, '-n', ns).items as any[]).map((o) => o.metadata.name as string).sort();
    const DATA = [`data-${sts}-0`, `data-${sts}-1`, `${sts}-redis-data`].sort();

    before(() => {
      const r = sh.install(release, {
        ns,
        replicas: 2,
        nodePortBase: 32000 + i * 100,
        set: ['room.persistence.enabled=true'],
      });
      assert.equal(r.status, 0, r.stderr);
    });

    it('uninstall keeps the PVCs and the Secret, and says how to delete them', async () => {
      const r = sh.kubectl('expose-pods', 'uninstall', release, '-n', ns);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`✔ release ${release} uninstalled from namespace ${ns}`));
      for (const pvc of DATA) assert.match(r.stderr, new RegExp(`${ns}/persistentvolumeclaim/${pvc}`));
      assert.match(r.stderr, new RegExp(`${ns}/secret/${sts}-redis`));
      assert.match(r.stderr, /--delete-data/);
      await eventually('the StatefulSet gone', () =>
        sh.kubectl('get', 'statefulset', sts, '-n', ns).status !== 0 ? true : undefined,
      );
      assert.deepEqual(names('pvc'), DATA);
    });

    it('with the release gone, a plain uninstall is a clear not-found (exit 7) naming the leftovers', () => {
      const r = sh.kubectl('expose-pods', 'uninstall', release, '-n', ns);
      assert.equal(r.status, 7);
      assert.match(r.stderr, new RegExp(`^error: release ${release} not found in namespace ${ns}$`, 'm'));
      assert.match(r.stderr, /left 3 PVC\(s\) and 1 Secret\(s\) behind; add --delete-data/);
    });

    it('--delete-data without a terminal and without --yes refuses (exit 13) and changes nothing', () => {
      const r = sh.kubectl('expose-pods', 'uninstall', release, '-n', ns, '--delete-data');
      assert.equal(r.status, 13, r.stderr);
      assert.match(r.stderr, /--delete-data needs confirmation: pass --yes/);
      assert.deepEqual(names('pvc'), DATA);
    });

    it('on a terminal it asks first, naming the cluster, and "n" changes nothing (exit 13)', () => {
      // script(1) gives the command a real pseudo-terminal; "n" is typed at the prompt.
      const cmd = `kubectl expose-pods uninstall ${release} -n ${ns} --delete-data`;
      const r = run('script', ['-qec', cmd, '/dev/null'], { env: sh.env, input: 'n\n' });
      assert.equal(r.status, 13, r.stdout);
      assert.match(r.stdout, /this deletes the data of release/);
      assert.match(
        r.stdout,
        new RegExp(`in namespace ${ns} of context expose-pods-e2e \\(https://127\\.0\\.0\\.1:\\d+\\)\\r\\n`),
      );
      assert.match(r.stdout, /Delete it for good\? \[y\/N\]/);
      assert.match(r.stdout, /nothing was changed: deleting the data was not confirmed/);
      assert.deepEqual(names('pvc'), DATA);
    });

    it('--delete-data --yes deletes the leftovers of the uninstalled release', async () => {
      const r = sh.kubectl('expose-pods', 'uninstall', release, '-n', ns, '--delete-data', '--yes');
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /was already uninstalled/);
      await eventually('PVCs deleted', () => (names('pvc').length === 0 ? true : undefined));
      assert.equal(sh.kubectl('get', 'secret', `${sts}-redis`, '-n', ns).status, 1);
    });

    it('running it again finds nothing: exit 7', () => {
      const r = sh.kubectl('expose-pods', 'uninstall', release, '-n', ns, '--delete-data', '--yes');
      assert.equal(r.status, 7, r.stderr);
    });
  });
}

// The --delete-data prompt can wait for minutes: every room is marked Draining before it
// asks (allocate gets none), checked again after, and the marks are taken back when it stops.
describe('uninstall: no room is allocated while it asks', { timeout: 300_000 }, () => {
  const helm = HELMS[1];
  const sh = userShell(helm.path);
  const ns = 'e2e-uninstall-race';
  const release = 'race';
  const sts = `${release}-expose-pods`;
  const plugin = (...args: string[]) => sh.kubectl('expose-pods', ...args, '-n', ns);
  const states = () =>
    (JSON.parse(plugin('endpoints', release, '-o', 'json').stdout).endpoints as any[]).map((e) => [
      e.pod,
      e.state,
      e.draining,
    ]);
  /** The uninstall on a pseudo-terminal (script(1)): its output so far, an answer to type, its exit. */
  const onTerminal = () => {
    const cmd = `kubectl expose-pods uninstall ${release} -n ${ns} --delete-data`;
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { env: sh.env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    return { out: () => out, answer: (a: string) => child.stdin.write(`${a}\n`), exited };
  };

  before(() => {
    const r = sh.install(release, {
      ns,
      replicas: 2,
      nodePortBase: 32250,
      redis: false,
      set: ['room.persistence.enabled=true'],
    });
    assert.equal(r.status, 0, r.stderr);
  });

  it('during the prompt every room is Draining and allocate gets none; a room allocated behind its back is refused after it (exit 15), the marks taken back', async () => {
    const u = onTerminal();
    await eventually('the prompt', () => (/Delete it for good\? \[y\/N\]/.test(u.out()) ? true : undefined));
    assert.deepEqual(states(), [
      [`${sts}-0`, 'Draining', true],
      [`${sts}-1`, 'Draining', true],
    ]);
    const a = plugin('allocate', release);
    assert.equal(a.status, 14, a.stderr);
    // A writer that does not honour the mark (a hand-written label) puts a match in room 0 meanwhile.
    const label = sh.kubectl('label', 'pod', `${sts}-0`, '-n', ns, 'expose-pods.io/state=Allocated');
    assert.equal(label.status, 0, label.stderr);
    u.answer('y');
    assert.equal(await u.exited, 15, u.out());
    assert.match(
      u.out(),
      new RegExp(`1 room\\(s\\) in use \\(Allocated\\) allocated while it asked: ${sts}-0`),
    );
    assert.equal(sh.getJson('statefulset', sts, '-n', ns).spec.replicas, 2, 'still installed');
    assert.deepEqual(states(), [
      [`${sts}-0`, 'Allocated', false],
      [`${sts}-1`, 'Free', false],
    ]);
  });

  it('"n" at the prompt takes the marks back: every room in service again', async () => {
    assert.equal(plugin('deallocate', release, '--ordinal', '0').status, 0);
    const u = onTerminal();
    await eventually('the prompt', () => (/Delete it for good\? \[y\/N\]/.test(u.out()) ? true : undefined));
    u.answer('n');
    assert.equal(await u.exited, 13, u.out());
    assert.deepEqual(states(), [
      [`${sts}-0`, 'Free', false],
      [`${sts}-1`, 'Free', false],
    ]);
    const done = plugin('uninstall', release, '--delete-data', '--yes');
    assert.equal(done.status, 0, done.stderr);
  });
});
