import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';

import nock from 'nock';
import { parse } from 'yaml';

import { ExitCode } from '../../src/errors.js';
import { runHelm } from '../../src/helm/helm.js';
import { kubeApis, listJson } from '../../src/kube/api.js';
import { loadKube } from '../../src/kube/config.js';
import { helmKubeconfig, resetExecCredentials } from '../../src/kube/exec-credential.js';
import { headerKeyEscape, impersonationHeaders, impersonationOf } from '../../src/kube/impersonation.js';
import { FAKE_SERVER } from '../support/kube.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-as-'));
const plugin = path.join(dir, 'get-token');
writeFileSync(
  plugin,
  `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"live-token"}}'\n`,
  { mode: 0o755 },
);

/** A kubeconfig on nock's server whose user (a token, or the exec plugin above) impersonates with `as`. */
function kubeconfig(as: Record<string, unknown>, auth: 'token' | 'exec' = 'token'): string {
  const f = path.join(mkdtempSync(path.join(dir, 'kc-')), 'config');
  const user =
    auth === 'token'
      ? { token: 'secret-token', ...as }
      : {
          exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never' },
          ...as,
        };
  writeFileSync(
    f,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: FAKE_SERVER, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u', namespace: 'game' } }],
      'current-context': 'x',
    }),
  );
  return f;
}

const AS = {
  as: 'alice',
  'as-uid': 'a1b2',
  'as-groups': ['game-ops'],
  'as-user-extra': { scopes: ['openid'], 'acme.com/project': ['rooms'] },
};

describe('impersonation: what the kubeconfig user asks for reaches every request and helm', () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => {
    nock.cleanAll();
    resetExecCredentials();
  });

  it('the fields, the headers client-go sends, and extra keys escaped as client-go escapes them', () => {
    assert.equal(impersonationOf({ token: 't' }), undefined);
    const i = impersonationOf(AS);
    assert.deepEqual(i, {
      user: 'alice',
      uid: 'a1b2',
      groups: ['game-ops'],
      extra: { scopes: ['openid'], 'acme.com/project': ['rooms'] },
    });
    assert.deepEqual(impersonationHeaders(i), {
      'Impersonate-User': 'alice',
      'Impersonate-Uid': 'a1b2',
      'Impersonate-Group': 'game-ops',
      'Impersonate-Extra-scopes': 'openid',
      'Impersonate-Extra-acme.com%2Fproject': 'rooms',
    });
    for (const [key, escaped] of [
      ['scopes', 'scopes'],
      ['acme.com/project', 'acme.com%2Fproject'],
      ['a b', 'a%20b'],
      ['100%', '100%25'],
      ['é', '%C3%A9'],
      ["!#$&'*+-.^_`|~", "!#$&'*+-.^_`|~"],
    ])
      assert.equal(headerKeyEscape(key!), escaped, key);
  });

  it('typed requests and plain-JSON lists carry as, as-uid, as-groups and as-user-extra', async () => {
    const kube = await loadKube({ kubeconfig: kubeconfig(AS) });
    const headers = {
      'impersonate-user': 'alice',
      'impersonate-uid': 'a1b2',
      'impersonate-group': 'game-ops',
      'impersonate-extra-scopes': 'openid',
      'impersonate-extra-acme.com%2fproject': 'rooms',
    };
    let scope = nock(FAKE_SERVER);
    for (const p of ['/api/v1/nodes', '/api/v1/services'])
      scope = Object.entries(headers)
        .reduce((s, [k, v]) => s.matchHeader(k, v), scope.get(p))
        .reply(200, { items: [] });
    const { core } = await kubeApis(kube);
    await core.listNode();
    await listJson(kube, '/api/v1/services');
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
  });

  it('several groups, or several values of an extra, are refused (exit 2): one header each is all the client sends', async () => {
    for (const as of [
      { as: 'alice', 'as-groups': ['a', 'b'] },
      { as: 'alice', 'as-user-extra': { scopes: ['openid', 'profile'] } },
    ])
      await assert.rejects(loadKube({ kubeconfig: kubeconfig(as) }), (e: any) => {
        assert.equal(e.exitCode, ExitCode.USAGE);
        assert.match(e.message, /^the kubeconfig user u impersonates with several values of as-/);
        assert.match(e.message, /its permission checks would act as another identity than the helm it runs/);
        return true;
      });
  });

  it("helm's signed-in kubeconfig keeps the impersonation, and exists only while helm runs", async () => {
    const kube = await loadKube({ kubeconfig: kubeconfig(AS, 'exec') });
    const file = await helmKubeconfig(kube.kc);
    assert.ok(file);
    assert.equal(existsSync(file), false, 'not written before helm starts');
    const cat = path.join(dir, 'helm-cat');
    writeFileSync(cat, '#!/bin/sh\ncat "$2"\n');
    chmodSync(cat, 0o755);
    const r = await runHelm(cat, ['--kubeconfig', file]);
    assert.equal(r.code, 0, r.stderr);
    const config = parse(r.stdout) as { users: { user: Record<string, unknown> }[] };
    assert.deepEqual(config.users[0]?.user, {
      token: 'live-token',
      as: 'alice',
      'as-uid': 'a1b2',
      'as-groups': ['game-ops'],
      'as-user-extra': { scopes: ['openid'], 'acme.com/project': ['rooms'] },
    });
    assert.equal(existsSync(file), false, 'removed when helm ended');
    assert.equal(existsSync(path.dirname(file)), true, 'its private directory stays until the command ends');
  });
});
