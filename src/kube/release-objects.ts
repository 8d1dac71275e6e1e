import type { V1Deployment, V1PersistentVolumeClaim, V1Pod, V1StatefulSet } from '@kubernetes/client-node';

import type { EndpointView, PodView, RedisView, ServiceView } from '../core/model.js';
import { kubeApis } from './api.js';
import { readBudgetObjects, type BudgetObjects } from './budget-objects.js';
import { releaseReader } from './release-reader.js';
import type { ResolvedKube } from './config.js';
import { toKubeError } from './errors.js';
import { endpointViews, podView, pvcView, serviceView } from './views.js';

/** Everything `status` reads from the cluster about one release, found by the chart's labels. */
export interface ReleaseObjects {
  statefulSet?: { name: string; replicas: number; readyReplicas: number; currentReplicas: number };
  pods: PodView[];
  services: ServiceView[];
  endpoints: EndpointView[];
  redis?: RedisView;
  /** The cluster-wide lists the budgets need (nodes, every Service, ...). */
  cluster: BudgetObjects;
  /** The StatefulSet's pod template, for where rooms may be scheduled. */
  template?: unknown;
}

/** The Secret the Redis Deployment takes its password from (the chart's, or an existingSecret). */
export function redisSecretOf(d: V1Deployment): string | undefined {
  for (const c of d.spec?.template.spec?.containers ?? []) {
    const ref = c.env?.find((e) => e.name === 'REDIS_PASSWORD')?.valueFrom?.secretKeyRef?.name;
    if (ref) return ref;
  }
  return undefined;
}

/** The claim the Redis Deployment mounts (the chart's, or an existingClaim). */
export function redisClaimOf(d: V1Deployment): string | undefined {
  return d.spec?.template.spec?.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim?.claimName;
}

/** The replica counts status compares: the StatefulSet's spec and status. */
export function statefulSetSummary(sts: V1StatefulSet): NonNullable<ReleaseObjects['statefulSet']> {
  return {
    name: sts.metadata?.name ?? '',
    replicas: sts.spec?.replicas ?? 0,
    readyReplicas: sts.status?.readyReplicas ?? 0,
    currentReplicas: sts.status?.currentReplicas ?? sts.status?.replicas ?? 0,
  };
}

/** Redis as status judges it: its pod Ready, its PVC, its Secret there. */
export function redisView(
  dep: V1Deployment,
  pods: readonly V1Pod[],
  secretPresent: boolean,
  pvc: V1PersistentVolumeClaim | undefined,
): RedisView {
  return {
    podReady: pods.some((p) => podView(p).ready),
    pvc: pvc && pvcView(pvc),
    pvcExpected: redisClaimOf(dep) !== undefined,
    secretPresent,
    secretName: redisSecretOf(dep) ?? '',
  };
}

/** Reads the release's objects; every call runs in parallel and names itself in errors. */
export async function readReleaseObjects(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<ReleaseObjects> {
  const { core, server, metadataOnly } = await kubeApis(kube);
  const where = `in namespace ${namespace}`;
  const read = await releaseReader(kube, namespace, release);

  const [stsList, pods, services, slices, cluster, deployments, redisPods] = await Promise.all([
    read.statefulSets(),
    read.roomPods(),
    read.podServices(),
    read.podEndpointSlices(),
    readBudgetObjects(kube),
    read.redisDeployments(),
    read.redisPods(),
  ]);

  const sts: V1StatefulSet | undefined = stsList.items[0];
  const dep = deployments.items[0];
  // Names come from the live Deployment, so an existingSecret or existingClaim is found too.
  const readOrMissing = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (e) {
      const err = toKubeError(e, `get ${what} ${where}`, server);
      if (err.httpCode === 404) return undefined;
      throw err;
    }
  };
  const secretName = dep ? redisSecretOf(dep) : undefined;
  const claim = dep ? redisClaimOf(dep) : undefined;
  const [secret, pvc] = await Promise.all([
    secretName
      ? readOrMissing(`secret ${secretName}`, () =>
          core.readNamespacedSecret({ namespace, name: secretName }, metadataOnly.get),
        )
      : undefined,
    claim
      ? readOrMissing(`persistentvolumeclaim ${claim}`, () =>
          core.readNamespacedPersistentVolumeClaim({ namespace, name: claim }),
        )
      : undefined,
  ]);
  const redis = dep && redisView(dep, redisPods.items, secret !== undefined, pvc);

  return {
    statefulSet: sts && statefulSetSummary(sts),
    pods: pods.items.map(podView),
    services: services.items.map(serviceView),
    endpoints: slices.items.flatMap(endpointViews),
    redis,
    cluster,
    template: sts?.spec?.template,
  };
}
