import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, it } from 'node:test';

import { ExitCode } from '../../src/errors.js';
import { KubeApiError } from '../../src/kube/errors.js';
import {
  execCredential,
  execInfo,
  interactive,
  parseCredential,
  resetExecCredentials,
  type ExecConfig,
} from '../../src/kube/exec-credential.js';
import { eventually } from '../support/poll.js';
import { ROOT } from '../support/tools.js';

const PLUGIN = path.join(ROOT, 'test/support/exec-plugin.mjs');
const dir = mkdtempSync(path.join(os.tmpdir(), 'exec-credential-'));
const source = path.join(dir, 'source.kubeconfig');
const b64 = (s: string) => Buffer.from(s).toString('base64');
writeFileSync(source, `client-certificate-data: ${b64('CERT')}\nclient-key-data: ${b64('KEY')}\n`);

let n = 0;
/** The test plugin, counting into a file of its own; the extra env entries change how it behaves. */
function plugin(env: Record<string, string> = {}): { exec: ExecConfig; runs: () => string[] } {
  const count = path.join(dir, `count-${++n}`);
  writeFileSync(count, '');
  const exec: ExecConfig = {
    apiVersion: 'client.authentication.k8s.io/v1',
    command: process.execPath,
    args: [PLUGIN],
    interactiveMode: 'IfAvailable',
    env: Object.entries({ EXEC_PLUGIN_COUNT: count, EXEC_PLUGIN_SOURCE: source, ...env }).map(
      ([name, value]) => ({ name, value }),
    ),
  };
  return { exec, runs: () => readFileSync(count, 'utf8').split('\n').filter(Boolean) };
}

const opts = { timeoutMs: 10_000, stdinIsTTY: false };

describe('exec credential plugins: once per process, bounded, failures are exit 5', () => {
  beforeEach(() => resetExecCredentials());

  it('ten requests at once start the plugin once, and later ones reuse its credential', async () => {
    const p = plugin({ EXEC_PLUGIN_DELAY_MS: '300' });
    const creds = await Promise.all(Array.from({ length: 10 }, () => execCredential(p.exec, opts)));
    assert.equal(p.runs().length, 1);
    for (const c of creds)
      assert.deepEqual(c.status, { clientCertificateData: 'CERT', clientKeyData: 'KEY' });
    await execCredential(p.exec, opts);
    assert.equal(p.runs().length, 1, 'a credential without an expiry lasts the process');
  });

  it('an expired credential (or one about to expire) is renewed; a valid one is not', async () => {
    const soon = plugin({ EXEC_PLUGIN_EXPIRES_S: '5' });
    await execCredential(soon.exec, opts);
    await execCredential(soon.exec, opts);
    assert.equal(soon.runs().length, 2, 'expiring within the margin: signed in again');
    const later = plugin({ EXEC_PLUGIN_EXPIRES_S: '3600' });
    await execCredential(later.exec, opts);
    await execCredential(later.exec, opts);
    assert.equal(later.runs().length, 1);
  });

  it('a plugin slower than --request-timeout ends in exit 5 within the timeout, naming it and the flag', async () => {
    const p = plugin({ EXEC_PLUGIN_DELAY_MS: '20000' });
    const started = Date.now();
    await assert.rejects(execCredential(p.exec, { ...opts, timeoutMs: 500 }), (e: unknown) => {
      assert.ok(e instanceof KubeApiError);
      assert.equal(e.exitCode, ExitCode.CLUSTER_UNREACHABLE);
      assert.match(
        e.message,
        /credential plugin .*node did not return a credential within 0\.5s \(--request-timeout\)/,
      );
      assert.match(e.hint ?? '', /raise --request-timeout/);
      return true;
    });
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  });

  it('a failing plugin is exit 5, and is not cached: the next request tries again', async () => {
    const p = plugin({ EXEC_PLUGIN_FAIL: '1' });
    for (let i = 0; i < 2; i++)
      await assert.rejects(execCredential(p.exec, opts), (e: unknown) => {
        assert.ok(e instanceof KubeApiError);
        assert.equal(e.exitCode, ExitCode.CLUSTER_UNREACHABLE);
        assert.match(e.message, /failed \(exit 1\)$/);
        return true;
      });
    assert.equal(p.runs().length, 2);
  });

  it('a missing plugin names itself and gives its installHint', async () => {
    const exec = {
      command: '/nonexistent/aws',
      args: ['eks', 'get-token'],
      installHint: 'Install the AWS CLI.',
    };
    await assert.rejects(execCredential(exec, opts), (e: unknown) => {
      assert.ok(e instanceof KubeApiError);
      assert.equal(e.exitCode, ExitCode.CLUSTER_UNREACHABLE);
      assert.equal(e.message, 'the credential plugin /nonexistent/aws was not found');
      assert.equal(e.hint, 'Install the AWS CLI.');
      return true;
    });
  });

  it('a hung plugin that ignores SIGTERM is killed at the timeout with all it started (its process group)', async () => {
    const pids = path.join(dir, 'hung-pids');
    const script = path.join(dir, 'hung-plugin');
    // TERM ignored by the plugin and, inherited, by the child it leaves running.
    writeFileSync(
      script,
      `#!/bin/sh\ntrap '' TERM\nsleep 60 &\necho "$$ $!" > ${pids}\nwhile :; do sleep 1; done\n`,
      {
        mode: 0o755,
      },
    );
    await assert.rejects(
      execCredential({ command: script, interactiveMode: 'Never' }, { ...opts, timeoutMs: 500 }),
      {
        exitCode: ExitCode.CLUSTER_UNREACHABLE,
      },
    );
    const [plugin, child] = readFileSync(pids, 'utf8').trim().split(' ').map(Number);
    // A zombie (killed, not yet reaped by whoever inherited it) counts as gone.
    const alive = (pid: number) => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    assert.ok(plugin && child);
    await eventually(
      'the plugin and its child to be killed',
      () => (alive(plugin) || alive(child) ? undefined : true),
      8000,
      50,
    );
  });

  it('KUBERNETES_EXEC_INFO reaches the plugin: interactive false without a terminal', async () => {
    const p = plugin();
    await execCredential(p.exec, opts);
    assert.deepEqual(JSON.parse(p.runs()[0] ?? ''), {
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      spec: { interactive: false },
    });
  });
});

describe('exec credential plugins: the pure rules', () => {
  const exec = (mode?: string): ExecConfig => ({ command: 'x', ...(mode && { interactiveMode: mode }) });

  it("interactiveMode as client-go reads it: Never never, IfAvailable with a terminal, Always or it's an error", () => {
    assert.equal(interactive(exec('Never'), true), false);
    assert.equal(interactive(exec('IfAvailable'), true), true);
    assert.equal(interactive(exec('IfAvailable'), false), false);
    assert.equal(interactive(exec(), true), true, 'v1beta1 without the field: IfAvailable');
    assert.equal(interactive(exec('Always'), true), true);
    assert.throws(
      () => interactive(exec('Always'), false),
      (e: unknown) => e instanceof KubeApiError && e.exitCode === ExitCode.CLUSTER_UNREACHABLE,
    );
  });

  it('the cluster goes to the plugin only when provideClusterInfo asks for it', () => {
    const cluster = { name: 'c', server: 'https://k:6443', skipTLSVerify: false, caData: 'Q0E=' };
    assert.deepEqual(JSON.parse(execInfo({ command: 'x' }, false, cluster)).spec, { interactive: false });
    assert.deepEqual(JSON.parse(execInfo({ command: 'x', provideClusterInfo: true }, true, cluster)).spec, {
      interactive: true,
      cluster: { server: 'https://k:6443', 'certificate-authority-data': 'Q0E=' },
    });
  });

  it('what the plugin prints must be an ExecCredential with a token or a certificate and key', () => {
    const x = { command: 'p' };
    assert.deepEqual(parseCredential(x, '{"kind":"ExecCredential","status":{"token":"t"}}').status, {
      token: 't',
    });
    for (const bad of [
      '',
      'not json',
      '{"kind":"ExecCredential","status":{}}',
      '{"kind":"ExecCredential","status":{"clientCertificateData":"c"}}',
      '{"status":{"token":"t"}}',
    ])
      assert.throws(
        () => parseCredential(x, bad),
        (e: unknown) => e instanceof KubeApiError && e.exitCode === ExitCode.CLUSTER_UNREACHABLE,
        bad,
      );
  });
});
