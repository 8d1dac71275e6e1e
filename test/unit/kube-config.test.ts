import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';

import { kubeconfigFiles, loadKube } from '../../src/kube/config.js';

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
