import type { TolerationsInput } from '../core/tolerations.js';
import type { ResolvedKube } from './config.js';
import { releaseReader } from './release-reader.js';

/** The StatefulSet's template tolerations and its pods' live ones (admission defaults filled in): two lists. */
export async function readTolerationObjects(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<Omit<TolerationsInput, 'graceSeconds'> & { replicas?: number }> {
  const read = await releaseReader(kube, namespace, release);
  const [set, pods] = await Promise.all([read.requireStatefulSet(), read.roomPods()]);
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
