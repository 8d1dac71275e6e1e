import type { PodView } from '../core/model.js';
import type { ResolvedKube } from './config.js';
import { releaseReader } from './release-reader.js';
import { podView } from './views.js';

export interface ProgressObjects {
  workload: string;
  replicas: number;
  pods: PodView[];
  /** undefined when the release has no Redis Deployment. */
  redisPods?: PodView[];
}

/**
 * Four lists per poll (StatefulSet, its pods, Redis Deployment and pods);
 * undefined until the StatefulSet exists. A failed list is a KubeApiError that
 * names it, as every read of the release is.
 */
export async function readProgressObjects(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<ProgressObjects | undefined> {
  const read = await releaseReader(kube, namespace, release);
  const [set, pods, deployments, redisPods] = await Promise.all([
    read.statefulSet(),
    read.roomPods(),
    read.redisDeployments(),
    read.redisPods(),
  ]);
  if (!set?.metadata?.name) return undefined;
  return {
    workload: set.metadata.name,
    replicas: set.spec?.replicas ?? 0,
    pods: pods.items.map(podView),
    redisPods: deployments.items.length ? redisPods.items.map(podView) : undefined,
  };
}
