import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { eventually } from '../support/poll.js';

/**
 * The helm kubeconfig that carries a live token, on every way out: the CLI
 * signs in through an exec plugin against a stand-in API server, runs
 * `install --dry-run` with a stand-in helm that records whether its
 * --kubeconfig exists and then hangs, and is sent a signal (or sees helm fail).
 */
const FAKE_HELM = `#!/bin/sh
[ "$1" = version ] && { echo v3.22.0+gfake; exit 0; }
kc=""; prev=""
for a in "$@"; do [ "$prev" = --kubeconfig ] && kc="$a"; prev="$a"; done
if [ -f "$kc" ]; then seen=present; else seen=absent; fi
echo "$$ $kc $seen $(stat -c %a "$kc" 2>/dev/null)" >> "$FAKE_HELM_STATE/started"
grep -q live-token-1234 "$kc" 2>/dev/null && echo "$$ token" >> "$FAKE_HELM_STATE/started"
[ -n "$FAKE_HELM_FAIL" ] && { echo "Error: fake failure" >&2; exit 1; }
exec sleep 60
`;

/** The built CLI (tools.ts has it too, but loads the test tools, which this test does not need). */
const CLI = path.join(path.dirname(new URL(import.meta.url).pathname), '../../bin/run.js');

const PLUGIN = `#!/bin/sh
echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"live-token-1234"}}'
`;

/** Every file under dir, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

/** Whether pid runs; a zombie (killed, not yet reaped by whoever inherited it) counts as gone. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('the helm kubeconfig with the live token: never left behind, helm never left running', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-cred-'));
  let server: http.Server;
  let kubeconfig: string;
  const helm = path.join(dir, 'helm');
  writeFileSync(helm, FAKE_HELM);
  chmodSync(helm, 0o755);
  const plugin = path.join(dir, 'get-token');
  writeFileSync(plugin, PLUGIN);
  chmodSync(plugin, 0o755);

  before(async () => {
    // The namespace exists; nothing else is asked before helm runs.
    server = http.createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url?.startsWith('/api/v1/namespaces/game'))
        res.end('{"kind":"Namespace","metadata":{"name":"game"}}');
      else {
        res.statusCode = 404;
        res.end('{"kind":"Status","code":404}');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    kubeconfig = path.join(dir, 'config');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'current-context: x',
        `clusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]`,
        `users: [{name: sso, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: "${plugin}", interactiveMode: Never}}}]`,
        'contexts: [{name: x, context: {cluster: c, user: sso, namespace: game}}]',
        '',
      ].join('\n'),
    );
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Starts `install --dry-run` with its own TMPDIR; resolves when it ends, with how. */
  function start(env: Record<string, string> = {}) {
    const state = mkdtempSync(path.join(dir, 'state-'));
    const tmp = mkdtempSync(path.join(dir, 'tmp-'));
    const child = spawn(
      process.execPath,
      [CLI, 'install', 'rooms', '--dry-run', '--helm-binary', helm, '--kubeconfig', kubeconfig],
      {
        env: { ...process.env, NO_COLOR: '1', TMPDIR: tmp, FAKE_HELM_STATE: state, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
      (resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })),
    );
    const started = () =>
      existsSync(path.join(state, 'started'))
        ? readFileSync(path.join(state, 'started'), 'utf8').split('\n').filter(Boolean)
        : [];
    return { child, ended, started, tmp };
  }

  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`${sig} while helm runs: the kubeconfig and its directory are gone, helm is stopped, the command dies of ${sig}`, async () => {
      const run = start();
      const [line] = await eventually(
        'helm to start with the kubeconfig',
        () => {
          const s = run.started();
          return s.length >= 2 ? s : undefined;
        },
        20_000,
        25,
      );
      const [pid, file, seen, mode] = (line ?? '').split(' ');
      assert.equal(seen, 'present', 'written before helm starts');
      assert.equal(mode, '600');
      assert.ok(file?.startsWith(run.tmp), file);
      assert.match(run.started()[1] ?? '', /token$/, 'it carries the live token');
      assert.ok(alive(Number(pid)), 'helm runs');
      run.child.kill(sig);
      const end = await run.ended;
      assert.equal(end.signal, sig, `${end.code} ${end.stderr}`);
      assert.equal(existsSync(path.dirname(file ?? '')), false, 'its directory is removed');
      assert.deepEqual(
        filesUnder(run.tmp).filter((f) => readFileSync(f, 'utf8').includes('live-token-1234')),
        [],
        'no file with the token is left in TMPDIR',
      );
      await eventually('helm to stop', () => (alive(Number(pid)) ? undefined : true), 10_000, 25);
    });
  }

  it('helm fails: the command ends with an error, and the kubeconfig is gone with it', async () => {
    const run = start({ FAKE_HELM_FAIL: '1' });
    const end = await run.ended;
    assert.equal(end.code, 1, end.stderr);
    const [line] = run.started();
    const [, file, seen] = (line ?? '').split(' ');
    assert.equal(seen, 'present');
    assert.equal(existsSync(path.dirname(file ?? '')), false);
    assert.deepEqual(
      filesUnder(run.tmp).filter((f) => readFileSync(f, 'utf8').includes('live-token-1234')),
      [],
    );
  });
});
