import type { PodView, ServiceView } from '../core/model.js';
import { kubeApis, releaseSelector } from './api.js';
import type { ResolvedKube } from './config.js';
import { noStatefulSet } from './endpoint-objects.js';
import { podView, serviceView } from './views.js';

/** The live side of a scale plan, by the chart's labels: four lists, whatever the replica count. */
export interface ScaleObjects {
  workload: string;
  liveReplicas: number;
  pods: PodView[];
  services: ServiceView[];
  pvcs: string[];
}

export async function readScaleObjects(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<ScaleObjects> {
  const { core, apps, call } = await kubeApis(kube);
  const where = `in namespace ${namespace}`;
  const [sts, pods, services, pvcs] = await Promise.all([
    call(
      `list statefulsets ${where}`,
      apps.listNamespacedStatefulSet({ namespace, labelSelector: releaseSelector(release, 'room') }),
    ),
    call(
      `list pods ${where}`,
      core.listNamespacedPod({ namespace, labelSelector: releaseSelector(release, 'room') }),
    ),
    call(
      `list services ${where}`,
      core.listNamespacedService({ namespace, labelSelector: releaseSelector(release, 'pod-service') }),
    ),
    call(
      `list persistentvolumeclaims ${where}`,
      core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector: releaseSelector(release) }),
    ),
  ]);
  const set = sts.items[0];
  if (!set?.metadata?.name) throw noStatefulSet(release, namespace);
  return {
    workload: set.metadata.name,
    liveReplicas: set.spec?.replicas ?? 0,
    pods: pods.items.map(podView),
    services: services.items.map(serviceView),
    pvcs: pvcs.items.map((p) => p.metadata?.name ?? '').filter(Boolean),
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
