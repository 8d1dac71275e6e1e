import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';

import { execCommandPath, kubeconfigFiles, loadKube } from '../../src/kube/config.js';
import { resetExecCredentials } from '../../src/kube/exec-credential.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-kc-'));
function file(
  name: string,
  current: string,
  contexts: [string, string | undefined][],
  server = 'https://127.0.0.1:1',
): string {
  const f = path.join(dir, name);
  writeFileSync(
    f,
    [
      'apiVersion: v1',
      'kind: Config',
      `current-context: "${current}"`,
      'clusters:',
      `  - {name: c, cluster: {server: "${server}"}}`,
      'users:',
      '  - {name: u, user: {token: t}}',
      'contexts:',
      ...contexts.map(
        ([n, ns]) => `  - {name: ${n}, context: {cluster: c, user: u${ns ? `, namespace: ${ns}` : ''}}}`,
      ),
      '',
    ].join('\n'),
  );
  return f;
}

const saved = process.env.KUBECONFIG;
afterEach(() => {
  if (saved === undefined) delete process.env.KUBECONFIG;
  else process.env.KUBECONFIG = saved;
});

describe('kubeconfigFiles', () => {
  it('skips missing $KUBECONFIG entries, as kubectl does', () => {
    const a = file('a', 'x', [['x', undefined]]);
    assert.deepEqual(kubeconfigFiles(['/missing', a, ''].join(path.delimiter), '/home/none'), [a]);
  });
  it('falls back to ~/.kube/config only when it exists', () => {
    assert.deepEqual(kubeconfigFiles(undefined, '/home/none'), []);
  });
});

describe('loadKube', () => {
  it('merges several $KUBECONFIG files: first name and first current-context win', async () => {
    const a = file(
      'first',
      'one',
      [
        ['one', 'ns-one'],
        ['shared', 'from-first'],
      ],
      'https://127.0.0.1:1',
    );
    const b = file(
      'second',
      'two',
      [
        ['two', 'ns-two'],
        ['shared', 'from-second'],
      ],
      'https://127.0.0.1:2',
    );
    process.env.KUBECONFIG = [a, '/missing', b].join(path.delimiter);
    const k = await loadKube({});
    assert.equal(k.context, 'one');
    assert.equal(k.namespace, 'ns-one');
    assert.deepEqual(
      k.kc.getContexts().map((c) => c.name),
      ['one', 'shared', 'two'],
    );
    assert.equal((await loadKube({ context: 'shared' })).namespace, 'from-first');
    assert.equal((await loadKube({ context: 'two' })).namespace, 'ns-two');
  });

  it('-n beats the context namespace; no namespace anywhere means default', async () => {
    process.env.KUBECONFIG = file('ns', 'a', [
      ['a', 'ctx-ns'],
      ['b', undefined],
    ]);
    assert.equal((await loadKube({ namespace: 'flag-ns' })).namespace, 'flag-ns');
    assert.equal((await loadKube({ context: 'b' })).namespace, 'default');
  });

  it('no kubeconfig at all still resolves a namespace', async () => {
    process.env.KUBECONFIG = '/missing';
    const k = await loadKube({});
    assert.equal(k.namespace, 'default');
    assert.equal(k.context, undefined);
  });

  it('names the available contexts when --context is wrong', async () => {
    process.env.KUBECONFIG = file('ctx', 'a', [
      ['a', undefined],
      ['b', undefined],
    ]);
    await assert.rejects(
      loadKube({ context: 'c' }),
      /^UsageError: context c not found in kubeconfig \(available: a, b\)$/,
    );
  });

  it('rejects a --kubeconfig that is missing or not a kubeconfig', async () => {
    await assert.rejects(loadKube({ kubeconfig: '/no/such' }), /--kubeconfig \/no\/such: no such file/);
    const bad = path.join(dir, 'bad');
    writeFileSync(bad, 'clusters: [\n');
    await assert.rejects(loadKube({ kubeconfig: bad }), /is not a valid kubeconfig/);
  });
});

describe('an exec command, resolved as client-go resolves it', () => {
  it('execCommandPath: with a separator, against the kubeconfig file’s directory; a bare name or an absolute path as given', () => {
    const cases: [string, string, string][] = [
      ['./bin/get-token', '/home/me/.kube/config', '/home/me/.kube/bin/get-token'],
      ['bin/get-token', '/home/me/.kube/config', '/home/me/.kube/bin/get-token'],
      ['../tools/get-token', '/home/me/.kube/config', '/home/me/tools/get-token'],
      ['get-token', '/home/me/.kube/config', 'get-token'],
      ['aws', '/home/me/.kube/config', 'aws'],
      ['/usr/local/bin/get-token', '/home/me/.kube/config', '/usr/local/bin/get-token'],
    ];
    for (const [command, file, want] of cases) assert.equal(execCommandPath(command, file), want, command);
    // A relative kubeconfig path is made absolute first, from the working directory, as client-go does.
    assert.equal(execCommandPath('./x', 'conf/kc'), path.join(process.cwd(), 'conf', 'x'));
    // client-go looks for its own OS's separator only: on Windows, `bin\\x`.
    assert.equal(execCommandPath('bin\\x', '/k/config', '\\'), path.join('/k', 'bin\\x'));
    assert.equal(execCommandPath('bin/x', '/k/config', '\\'), 'bin/x');
  });

  it("runs the kubeconfig directory's bin/get-token, never the working directory's; a bare name comes from PATH", async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-kc-home-'));
    const checkout = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-kc-checkout-'));
    const onPath = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-kc-path-'));
    const tokenScript = (where: string, name: string, token: string) => {
      mkdirSync(path.dirname(path.join(where, name)), { recursive: true });
      const cred = JSON.stringify({
        apiVersion: 'client.authentication.k8s.io/v1',
        kind: 'ExecCredential',
        status: { token },
      });
      writeFileSync(path.join(where, name), `#!/bin/sh\necho '${cred}'\n`, { mode: 0o755 });
    };
    tokenScript(home, 'bin/get-token', 'from-the-kubeconfig-dir');
    tokenScript(checkout, 'bin/get-token', 'from-the-working-dir');
    tokenScript(onPath, 'expose-pods-test-get-token', 'from-path');
    const kubeconfig = (command: string) => {
      const f = path.join(home, `config-${command.replace(/\W/g, '')}`);
      writeFileSync(
        f,
        [
          'apiVersion: v1',
          'kind: Config',
          'current-context: x',
          'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]',
          `users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: "${command}", interactiveMode: Never}}}]`,
          'contexts: [{name: x, context: {cluster: c, user: u}}]',
          '',
        ].join('\n'),
      );
      return f;
    };
    const bearer = async (flags: { kubeconfig?: string }) => {
      const kube = await loadKube(flags);
      const opts: { headers?: Record<string, string> } = {};
      await kube.kc.applyToHTTPSOptions(opts);
      return opts.headers?.Authorization;
    };
    const cwd = process.cwd();
    const savedPath = process.env.PATH;
    process.chdir(checkout);
    process.env.PATH = `${onPath}${path.delimiter}${savedPath ?? ''}`;
    try {
      resetExecCredentials();
      assert.equal(
        await bearer({ kubeconfig: kubeconfig('./bin/get-token') }),
        'Bearer from-the-kubeconfig-dir',
      );
      resetExecCredentials();
      process.env.KUBECONFIG = kubeconfig('bin/get-token');
      assert.equal(await bearer({}), 'Bearer from-the-kubeconfig-dir', 'merged from $KUBECONFIG too');
      resetExecCredentials();
      assert.equal(
        await bearer({ kubeconfig: kubeconfig('expose-pods-test-get-token') }),
        'Bearer from-path',
      );
    } finally {
      process.chdir(cwd);
      process.env.PATH = savedPath;
      resetExecCredentials();
    }
  });
});
