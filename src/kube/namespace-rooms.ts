import type {
  V1Deployment,
  V1EndpointSlice,
  V1PersistentVolumeClaim,
  V1Pod,
  V1Service,
  V1StatefulSet,
} from '@kubernetes/client-node';

import { kubeApis, metadataNames } from './api.js';
import type { BudgetObjects } from './budget-objects.js';
import type { ResolvedKube } from './config.js';
import {
  redisClaimOf,
  redisSecretOf,
  redisView,
  statefulSetSummary,
  type ReleaseObjects,
} from './release-objects.js';
import { endpointViews, podView, serviceView } from './views.js';

/** What the chart renders in one namespace, for every release there at once. */
export interface NamespaceRooms {
  namespace: string;
  statefulSets: V1StatefulSet[];
  /** Room and Redis pods. */
  pods: V1Pod[];
  /** Per-pod Services (and the headless and Redis ones). */
  services: V1Service[];
  endpointSlices: V1EndpointSlice[];
  /** Redis Deployments. */
  deployments: V1Deployment[];
  claims: V1PersistentVolumeClaim[];
  /** The names of the Secrets the chart made (the Redis passwords). */
  secretNames: Set<string>;
}

/** Every object any release of a chart with the components room, pod-service or redis has made. */
const CHART_SELECTOR = 'app.kubernetes.io/instance,app.kubernetes.io/component in (room,pod-service,redis)';

/**
 * The chart's objects in a namespace, by label, with seven list requests
 * whatever the number of releases and rooms. Secrets are listed for their
 * names only, and only those the chart labels.
 */
export async function readNamespaceRooms(kube: ResolvedKube, namespace: string): Promise<NamespaceRooms> {
  const { core, apps, discovery, call, metadataOnly } = await kubeApis(kube);
  const q = { namespace, labelSelector: CHART_SELECTOR };
  const where = `in namespace ${namespace}`;
  const [statefulSets, pods, services, endpointSlices, deployments, claims, secrets] = await Promise.all([
    call(`list statefulsets ${where}`, apps.listNamespacedStatefulSet(q)),
    call(`list pods ${where}`, core.listNamespacedPod(q)),
    call(`list services ${where}`, core.listNamespacedService(q)),
    call(`list endpointslices ${where}`, discovery.listNamespacedEndpointSlice(q)),
    call(`list deployments ${where}`, apps.listNamespacedDeployment(q)),
    call(`list persistentvolumeclaims ${where}`, core.listNamespacedPersistentVolumeClaim(q)),
    call(`list secrets ${where}`, core.listNamespacedSecret(q, metadataOnly.list)),
  ]);
  return {
    namespace,
    statefulSets: statefulSets.items,
    pods: pods.items,
    services: services.items,
    endpointSlices: endpointSlices.items,
    deployments: deployments.items,
    claims: claims.items,
    secretNames: new Set(metadataNames(secrets)),
  };
}

/** The objects of one release and component among a namespace's. */
export function ofRelease<T extends { metadata?: { labels?: Record<string, string> } }>(
  items: readonly T[],
  release: string,
  component: string,
): T[] {
  return items.filter(
    (o) =>
      o.metadata?.labels?.['app.kubernetes.io/instance'] === release &&
      o.metadata.labels['app.kubernetes.io/component'] === component,
  );
}

/**
 * One release's objects among its namespace's, in the shape readReleaseObjects
 * gives status. A Redis Secret the chart did not make (existingSecret) is not
 * among the listed names: it costs one GET, for that release only.
 */
export async function releaseObjectsOf(
  kube: ResolvedKube,
  rooms: NamespaceRooms,
  release: string,
  cluster: BudgetObjects,
): Promise<ReleaseObjects> {
  const sts = ofRelease(rooms.statefulSets, release, 'room')[0];
  const dep = ofRelease(rooms.deployments, release, 'redis')[0];
  let redis: ReleaseObjects['redis'];
  if (dep) {
    const secret = redisSecretOf(dep) ?? '';
    const claim = redisClaimOf(dep);
    const present =
      rooms.secretNames.has(secret) || (secret !== '' && (await secretExists(kube, rooms.namespace, secret)));
    redis = redisView(
      dep,
      ofRelease(rooms.pods, release, 'redis'),
      present,
      rooms.claims.find((c) => c.metadata?.name === claim),
    );
  }
  return {
    statefulSet: sts && statefulSetSummary(sts),
    pods: ofRelease(rooms.pods, release, 'room').map(podView),
    services: ofRelease(rooms.services, release, 'pod-service').map(serviceView),
    endpoints: ofRelease(rooms.endpointSlices, release, 'pod-service').flatMap(endpointViews),
    redis,
    cluster,
    template: sts?.spec?.template,
  };
}

/**
 * Whether a Secret can be read, by its metadata. Any failure counts as no, so
 * one forbidden existingSecret marks its release degraded instead of failing
 * the whole list; status, about one release, fails on a 403 instead.
 */
async function secretExists(kube: ResolvedKube, namespace: string, name: string): Promise<boolean> {
  const { core, metadataOnly } = await kubeApis(kube);
  try {
    await core.readNamespacedSecret({ namespace, name }, metadataOnly.get);
    return true;
  } catch {
    return false;
  }
}
