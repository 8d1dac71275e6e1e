import type { PodView, ServiceView } from '../core/model.js';
import { kubeApis } from './api.js';
import type { ResolvedKube } from './config.js';
import { releaseReader } from './release-reader.js';
import { podView, serviceView } from './views.js';

/** The live side of a scale plan, by the chart's labels: four lists, whatever the replica count. */
export interface ScaleObjects {
  workload: string;
  liveReplicas: number;
  pods: PodView[];
  services: ServiceView[];
  pvcs: string[];
  /** The StatefulSet's volumeClaimTemplates: its claims are <template>-<workload>-<i>. */
  claimTemplates: string[];
}

export async function readScaleObjects(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<ScaleObjects> {
  const read = await releaseReader(kube, namespace, release);
  const [set, pods, services, pvcs] = await Promise.all([
    read.requireStatefulSet(),
    read.roomPods(),
    read.podServices(),
    read.claims(),
  ]);
  return {
    workload: set.metadata.name,
    liveReplicas: set.spec?.replicas ?? 0,
    pods: pods.items.map(podView),
    services: services.items.map(serviceView),
    pvcs: pvcs.items.map((p) => p.metadata?.name ?? '').filter(Boolean),
    claimTemplates: (set.spec?.volumeClaimTemplates ?? []).map((t) => t.metadata?.name ?? '').filter(Boolean),
  };
}

/** Sets spec.replicas through the scale subresource (as kubectl scale does); true when it had to change it. */
export async function setStatefulSetReplicas(
  kube: ResolvedKube,
  namespace: string,
  name: string,
  replicas: number,
): Promise<boolean> {
  const { apps, call } = await kubeApis(kube);
  const scale = await call(
    `get statefulsets/scale ${name} in namespace ${namespace}`,
    apps.readNamespacedStatefulSetScale({ name, namespace }),
  );
  if (scale.spec?.replicas === replicas) return false;
  await call(
    `update statefulsets/scale ${name} in namespace ${namespace}`,
    apps.replaceNamespacedStatefulSetScale({
      name,
      namespace,
      body: { ...scale, spec: { replicas } },
    }),
  );
  return true;
}
