import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { stringify } from 'yaml';

import { CLUSTER, printClusterLogsOnFailure, userShell } from '../support/e2e.js';
import { eventually } from '../support/poll.js';
import { HELMS, ROOT, run, STACK_LINE, TOOLS } from '../support/tools.js';

after(printClusterLogsOnFailure);

/**
 * Signing in through an exec credential plugin, as on EKS, GKE or AKS: a
 * kubeconfig whose user runs test/support/exec-plugin.mjs, which counts its
 * runs, prints a device-code prompt on stderr, takes a second, and returns
 * the admin's client certificate.
 */
describe('an exec credential plugin: one sign-in per command, its prompt shown, bounded by --request-timeout', () => {
  const sh = userShell(HELMS[1].path);
  const ns = 'e2e-exec';
  const release = 'signin';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-exec-'));
  const count = path.join(dir, 'runs');
  const admin = readFileSync(CLUSTER.KUBECONFIG, 'utf8');
  const ca = /certificate-authority-data: (\S+)/.exec(admin)?.[1] ?? '';
  const server = /server: (\S+)/.exec(admin)?.[1] ?? '';

  /** A kubeconfig whose only user signs in with the plugin; delayMs is how long the sign-in takes. */
  function kubeconfig(name: string, delayMs: number, extra: Record<string, string> = {}): string {
    const file = path.join(dir, name);
    const env = {
      EXEC_PLUGIN_COUNT: count,
      EXEC_PLUGIN_SOURCE: CLUSTER.KUBECONFIG,
      EXEC_PLUGIN_DELAY_MS: String(delayMs),
      ...extra,
    };
    writeFileSync(
      file,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'managed', cluster: { server, 'certificate-authority-data': ca } }],
        users: [
          {
            name: 'sso',
            user: {
              exec: {
                apiVersion: 'client.authentication.k8s.io/v1',
                command: process.execPath,
                args: [path.join(ROOT, 'test/support/exec-plugin.mjs')],
                interactiveMode: 'IfAvailable',
                env: Object.entries(env).map(([n, value]) => ({ name: n, value })),
              },
            },
          },
        ],
        contexts: [{ name: 'managed', context: { cluster: 'managed', user: 'sso', namespace: ns } }],
        'current-context': 'managed',
      }),
    );
    return file;
  }
  const signedIn = kubeconfig('sso.kubeconfig', 1000);

  /** `kubectl expose-pods ARGS` with the plugin's kubeconfig; how many times the plugin ran. */
  function ep(config: string, ...args: string[]) {
    writeFileSync(count, '');
    const started = Date.now();
    const r = run(TOOLS.KUBECTL, ['expose-pods', ...args], { env: { ...sh.env, KUBECONFIG: config } });
    const runs = readFileSync(count, 'utf8').split('\n').filter(Boolean).length;
    return { ...r, runs, ms: Date.now() - started };
  }

  before(() => {
    const r = sh.install(release, { ns, replicas: 2, nodePortBase: 31050, redis: false, timeout: '2m' });
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => sh.kubectl('delete', 'namespace', ns, '--wait=false'));

  for (const args of [
    ['endpoints', release],
    ['status', release],
    ['list'],
    ['list', '-A'],
    ['tolerations', release],
    ['check-certs'],
    ['recover', release],
  ]) {
    it(`${args.join(' ')}: the plugin runs once, and its prompt reaches stderr`, () => {
      const r = ep(signedIn, ...args);
      // list -A also sees the other e2e files' releases (exit 8 when one is degraded); check-certs 11 near expiry.
      assert.ok([0, 8, 11].includes(r.status ?? -1), `exit ${r.status}: ${r.stderr}`);
      assert.equal(r.runs, 1, r.stderr);
      assert.match(
        r.stderr,
        /^To sign in, open https:\/\/login\.example\.test\/device and enter the code EXPO-5ED$/m,
      );
    });
  }

  it('a write (scale, its helm processes included) signs in once: helm gets the credential', () => {
    const up = ep(signedIn, 'scale', release, '--replicas', '3', '--timeout', '2m');
    assert.equal(up.status, 0, up.stderr);
    assert.equal(up.runs, 1, up.stderr);
    const alloc = ep(signedIn, 'allocate', release, '-o', 'name');
    assert.equal(alloc.status, 0, alloc.stderr);
    assert.equal(alloc.runs, 1);
    const down = ep(signedIn, 'scale', release, '--replicas', '2', '--yes', '--timeout', '2m');
    assert.equal(down.status, 0, down.stderr);
    assert.equal(down.runs, 1, down.stderr);
    assert.equal(sh.getJson('statefulset', `${release}-expose-pods`, '-n', ns).spec.replicas, 2);
  });

  it('a credential that expires soon is not handed to helm: each helm process signs in itself', () => {
    const short = kubeconfig('short.kubeconfig', 0, { EXEC_PLUGIN_EXPIRES_S: '300' });
    const r = ep(short, 'scale', release, '--replicas', '3', '--timeout', '2m');
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.runs > 1, `ran ${r.runs} time(s)`);
  });

  it('a plugin that hangs ends in exit 5 within --request-timeout, naming the plugin; nothing is written', () => {
    const slow = kubeconfig('slow.kubeconfig', 60_000);
    const revisions = () =>
      JSON.parse(sh.helm('history', release, '-n', ns, '-o', 'json').stdout).length as number;
    const before = revisions();
    for (const args of [
      ['endpoints', release],
      ['scale', release, '--replicas', '4'],
    ]) {
      const r = ep(slow, ...args, '--request-timeout', '2s');
      assert.equal(r.status, 5, r.stderr);
      assert.match(
        r.stderr,
        /^error: the credential plugin .* did not return a credential within 2s \(--request-timeout\)$/m,
      );
      assert.match(r.stderr, /raise --request-timeout/);
      assert.doesNotMatch(r.stderr, STACK_LINE);
      assert.ok(r.ms < 8000, `took ${r.ms} ms`);
    }
    assert.equal(revisions(), before);
  });

  it('a plugin that fails is exit 5; its own message reaches the user', () => {
    const r = ep(kubeconfig('fail.kubeconfig', 0, { EXEC_PLUGIN_FAIL: '1' }), 'endpoints', release);
    assert.equal(r.status, 5, r.stderr);
    assert.match(r.stderr, /^error: the sign-in was declined$/m);
    assert.match(r.stderr, /^error: the credential plugin .* failed \(exit 1\)$/m);
    assert.doesNotMatch(r.stderr, STACK_LINE);
  });
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGHUP', 129],
  ] as const) {
    it(`${sig} during a change signed in through the plugin: helm is stopped, no file with the credential is left (exit ${code})`, async () => {
      const tmp = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-exec-tmp-'));
      const child = spawn(
        TOOLS.KUBECTL,
        ['expose-pods', 'scale', release, '--replicas', '4', '--timeout', '2m'],
        {
          env: { ...sh.env, NO_COLOR: '1', KUBECONFIG: signedIn, TMPDIR: tmp },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const ended = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      // helm upgrade runs while its kubeconfig exists: find both.
      const credential = () =>
        readdirSync(tmp, { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile() && e.name === 'kubeconfig')
          .map((e) => path.join(e.parentPath, e.name));
      const helms = (file: string) =>
        readdirSync('/proc')
          .filter((p) => /^\d+$/.test(p))
          .filter((p) => {
            try {
              const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
              return cmd.includes('upgrade') && cmd.includes(file);
            } catch {
              return false;
            }
          })
          .map(Number);
      const [file, pids] = await eventually(
        'helm upgrade with the signed-in kubeconfig',
        () => {
          const f = credential()[0];
          const p = f ? helms(f) : [];
          return f && p.length ? ([f, p] as const) : undefined;
        },
        60_000,
        50,
      );
      assert.match(readFileSync(file, 'utf8'), /client-certificate-data/);
      child.kill(sig);
      assert.equal(await ended, code, stderr);
      assert.match(stderr, new RegExp(`^error: interrupted \\(${sig}\\): helm was stopped$`, 'm'));
      assert.deepEqual(credential(), [], 'no kubeconfig with the credential is left');
      assert.deepEqual(
        readdirSync(tmp).filter((n) => n.startsWith('kubectl-expose-pods-')),
        [],
        'nor its directory',
      );
      const running = (pid: number) => {
        try {
          return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
        } catch {
          return false;
        }
      };
      await eventually('helm to be gone', () => (pids.some(running) ? undefined : true), 30_000, 100);
    });
  }
});
