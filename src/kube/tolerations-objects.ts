import type { TolerationsInput } from '../core/tolerations.js';
import { kubeApis, releaseSelector } from './api.js';
import type { ResolvedKube } from './config.js';
import { noStatefulSet } from './endpoint-objects.js';

/** The StatefulSet's template tolerations and its pods' live ones (admission defaults filled in): two lists. */
export async function readTolerationObjects(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<Omit<TolerationsInput, 'graceSeconds'> & { replicas?: number }> {
  const { core, apps, call } = await kubeApis(kube);
  const where = `in namespace ${namespace}`;
  const labelSelector = releaseSelector(release, 'room');
  const [sts, pods] = await Promise.all([
    call(`list statefulsets ${where}`, apps.listNamespacedStatefulSet({ namespace, labelSelector })),
    call(`list pods ${where}`, core.listNamespacedPod({ namespace, labelSelector })),
  ]);
  const set = sts.items[0];
  if (!set?.metadata?.name) throw noStatefulSet(release, namespace);
  return {
    workload: set.metadata.name,
    replicas: set.spec?.replicas,
    template: set.spec?.template.spec?.tolerations,
    updateRevision: set.status?.updateRevision,
    pods: pods.items.map((p) => ({
      name: p.metadata?.name ?? '',
      nodeName: p.spec?.nodeName,
      tolerations: p.spec?.tolerations,
      revision: p.metadata?.labels?.['controller-revision-hash'],
    })),
  };
}
