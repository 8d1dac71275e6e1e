import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import type nock from 'nock';

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

/** The chart's label selector as the plugin sends it: release rooms, of one component or of all. */
export const chartSelector = (component?: string, release = 'rooms'): string =>
  `app.kubernetes.io/instance=${release}${component ? `,app.kubernetes.io/component=${component}` : ''}`;

/** The lists of release rooms in namespace game that the release reader sends (kube/reader.ts). */
const RELEASE_LISTS = {
  statefulSets: { path: '/apis/apps/v1/namespaces/game/statefulsets', component: 'room' },
  roomPods: { path: '/api/v1/namespaces/game/pods', component: 'room' },
  podServices: { path: '/api/v1/namespaces/game/services', component: 'pod-service' },
  claims: { path: '/api/v1/namespaces/game/persistentvolumeclaims', component: undefined },
} as const;

/**
 * Answers the given release lists once each, exactly as they must be asked
 * (GET, only the chart's labelSelector in the query): items, and a
 * resourceVersion where a watch follows.
 */
export function mockReleaseLists(
  scope: nock.Scope,
  lists: Partial<Record<keyof typeof RELEASE_LISTS, { items: unknown[]; resourceVersion?: string }>>,
): nock.Scope {
  for (const [kind, list] of Object.entries(lists)) {
    const { path: listPath, component } = RELEASE_LISTS[kind as keyof typeof RELEASE_LISTS];
    scope
      .get(listPath)
      .query({ labelSelector: chartSelector(component) })
      .reply(200, { metadata: { resourceVersion: list.resourceVersion }, items: list.items });
  }
  return scope;
}

/**
 * The permission reviews a change makes before it writes (kube/access.ts):
 * a SelfSubjectRulesReview answering with `rules` (default: everything), and
 * a SelfSubjectAccessReview for each cluster-scoped permission, answered by `allowed`.
 */
export function mockAccessReviews(
  scope: nock.Scope,
  rules: { verbs: string[]; apiGroups: string[]; resources: string[] }[] = [
    { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  ],
  allowed: (review: { spec: { resourceAttributes: { verb: string; resource: string } } }) => boolean = () =>
    true,
): nock.Scope {
  return scope
    .post('/apis/authorization.k8s.io/v1/selfsubjectrulesreviews')
    .reply(201, (_u: string, body: any) => ({ ...body, status: { resourceRules: rules, incomplete: false } }))
    .post('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews')
    .times(3)
    .reply(201, (_u: string, body: any) => ({ ...body, status: { allowed: allowed(body) } }));
}

/**
 * A Redis Deployment as the chart renders it (a sidecar beside the redis
 * container, a config volume beside the data one): its password from
 * `secret`, its data on the claim `claim` (an emptyDir without one).
 */
export const redisDeployment = (o: { secret?: string; claim?: string }): V1Deployment => ({
  metadata: { name: 'rooms-expose-pods-redis' },
  spec: {
    selector: {},
    template: {
      spec: {
        containers: [
          { name: 'sidecar', env: [{ name: 'OTHER', value: 'x' }] },
          {
            name: 'redis',
            env: o.secret
              ? [
                  {
                    name: 'REDIS_PASSWORD',
                    valueFrom: { secretKeyRef: { name: o.secret, key: 'redis-password' } },
                  },
                ]
              : [],
          },
        ],
        volumes: o.claim
          ? [
              { name: 'config', configMap: { name: 'c' } },
              { name: 'data', persistentVolumeClaim: { claimName: o.claim } },
            ]
          : [{ name: 'data', emptyDir: {} }],
      },
    },
  },
});
