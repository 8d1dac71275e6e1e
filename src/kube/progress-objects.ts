import type { PodView } from '../core/model.js';
import { kubeApis, releaseSelector } from './api.js';
import type { ResolvedKube } from './config.js';
import { podView } from './views.js';

export interface ProgressObjects {
  workload: string;
  replicas: number;
  pods: PodView[];
  /** undefined when the release has no Redis Deployment. */
  redisPods?: PodView[];
}

/** Four lists per poll (StatefulSet, its pods, Redis Deployment and pods); undefined until the StatefulSet exists. */
export async function readProgressObjects(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<ProgressObjects | undefined> {
  const { core, apps } = await kubeApis(kube);
  const sel = (component: string) => releaseSelector(release, component);
  const [sts, pods, deployments, redisPods] = await Promise.all([
    apps.listNamespacedStatefulSet({ namespace, labelSelector: sel('room') }),
    core.listNamespacedPod({ namespace, labelSelector: sel('room') }),
    apps.listNamespacedDeployment({ namespace, labelSelector: sel('redis') }),
    core.listNamespacedPod({ namespace, labelSelector: sel('redis') }),
  ]);
  const set = sts.items[0];
  if (!set?.metadata?.name) return undefined;
  return {
    workload: set.metadata.name,
    replicas: set.spec?.replicas ?? 0,
    pods: pods.items.map(podView),
    redisPods: deployments.items.length ? redisPods.items.map(podView) : undefined,
  };
}
