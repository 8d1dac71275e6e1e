import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { KubeConfig } from '@kubernetes/client-node';

import type { ResolvedKube } from '../../src/kube/config.js';

/** The fake API server nock tests intercept. */
export const FAKE_SERVER = 'https://k8s.test:6443';

/** A ResolvedKube for a token user on the given server (nock's by default), namespace game. */
export function fakeKube(server = FAKE_SERVER, requestTimeoutMs = 30_000): ResolvedKube {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u', namespace: 'game' }],
    currentContext: 'x',
  });
  return { kc, context: 'x', namespace: 'game', requestTimeoutMs };
}

/** The same token user on nock's server as a kubeconfig file, for code that loads one (namespace game). */
export function fakeKubeconfigFile(server = FAKE_SERVER): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'expose-pods-fake-kube-')), 'config');
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: secret-token}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: game}}]
current-context: x
`,
  );
  return file;
}
