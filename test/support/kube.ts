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
