import type {
  V1DeploymentList,
  V1EndpointSliceList,
  V1NodeList,
  V1PersistentVolumeClaimList,
  V1PodList,
  V1ServiceList,
  V1StatefulSet,
  V1StatefulSetList,
} from '@kubernetes/client-node';

import { ExitCode, ExposePodsError } from '../errors.js';
import { kubeApis, readOnce, releaseSelector } from './api.js';
import type { ResolvedKube } from './config.js';
import { KubeApiError } from './errors.js';

/** The release has no StatefulSet here: not installed, or another namespace. */
export function noStatefulSet(release: string, namespace: string): ExposePodsError {
  return new ExposePodsError(
    `release ${release} has no StatefulSet in namespace ${namespace}`,
    ExitCode.NOT_FOUND,
    `Is it installed there? Check with: kubectl expose-pods status ${release} -n ${namespace}`,
  );
}

/** A read a user may not be allowed to make: undefined on 403, any other failure as it was. */
export function unlessForbidden<T>(read: Promise<T>): Promise<T | undefined> {
  return read.catch((e: unknown) => {
    if (e instanceof KubeApiError && e.httpCode === 403) return undefined;
    throw e;
  });
}

/**
 * One release's objects, one method per resource, each found by the chart's
 * labels (app.kubernetes.io/instance, and the component) and each failure
 * wrapped once, naming what was being done ("list pods in namespace game").
 * Every command that reads a release asks this for what it needs; none of its
 * requests grows with the number of rooms. Each list is sent once per command
 * run until a write or a refresh (readOnce), unless `fresh` (a reflector's
 * list, which must see now).
 */
export interface ReleaseReader {
  namespace: string;
  release: string;
  statefulSets: () => Promise<V1StatefulSetList>;
  /** The release's StatefulSet, or undefined. */
  statefulSet: () => Promise<V1StatefulSet | undefined>;
  /** The release's StatefulSet, or NOT_FOUND naming the release and namespace. */
  requireStatefulSet: () => Promise<V1StatefulSet & { metadata: { name: string } }>;
  /** The room pods; with `selector`, only those its labels also match (kubectl's syntax, checked by the API server). */
  roomPods: (selector?: string) => Promise<V1PodList>;
  /** The per-pod Services (and, for a LoadBalancer release, only those). */
  podServices: () => Promise<V1ServiceList>;
  /** The per-pod Services' EndpointSlices. */
  podEndpointSlices: () => Promise<V1EndpointSliceList>;
  /** Every claim carrying the release's instance label. */
  claims: () => Promise<V1PersistentVolumeClaimList>;
  redisDeployments: () => Promise<V1DeploymentList>;
  redisPods: () => Promise<V1PodList>;
  /** Every node: cluster-scoped, so a namespaced user may get a 403 (see unlessForbidden). */
  nodes: () => Promise<V1NodeList>;
}

export async function releaseReader(
  kube: ResolvedKube,
  namespace: string,
  release: string,
  opts: { fresh?: boolean } = {},
): Promise<ReleaseReader> {
  const { core, apps, discovery, call } = await kubeApis(kube);
  const where = `in namespace ${namespace}`;
  const once = <T>(key: string, read: () => Promise<T>) => (opts.fresh ? read() : readOnce(kube, key, read));
  /** One list of the release's objects of a kind, by the chart's labels (of one component, or all). */
  const list =
    <T>(
      resource: string,
      request: (q: { namespace: string; labelSelector: string }) => Promise<T>,
      component?: string,
    ) =>
    (selector?: string) => {
      const labelSelector = `${releaseSelector(release, component)}${selector ? `,${selector}` : ''}`;
      return once(`list ${resource} ${namespace} ${labelSelector}`, () =>
        call(`list ${resource} ${where}`, request({ namespace, labelSelector })),
      );
    };
  const statefulSets = list('statefulsets', (q) => apps.listNamespacedStatefulSet(q), 'room');
  const statefulSet = async () => (await statefulSets()).items[0];
  return {
    namespace,
    release,
    statefulSets,
    statefulSet,
    requireStatefulSet: async () => {
      const set = await statefulSet();
      if (!set?.metadata?.name) throw noStatefulSet(release, namespace);
      return set as V1StatefulSet & { metadata: { name: string } };
    },
    roomPods: list('pods', (q) => core.listNamespacedPod(q), 'room'),
    podServices: list('services', (q) => core.listNamespacedService(q), 'pod-service'),
    podEndpointSlices: list('endpointslices', (q) => discovery.listNamespacedEndpointSlice(q), 'pod-service'),
    claims: list('persistentvolumeclaims', (q) => core.listNamespacedPersistentVolumeClaim(q)),
    redisDeployments: list('deployments', (q) => apps.listNamespacedDeployment(q), 'redis'),
    redisPods: list('pods', (q) => core.listNamespacedPod(q), 'redis'),
    nodes: () => once('list nodes', () => call('list nodes', core.listNode())),
  };
}
