import type { EndpointsInput } from '../core/endpoints.js';
import type { PodView } from '../core/model.js';
import { MARK_SAFE_TO_EVICT_ANNOTATION, SAFE_TO_EVICT_ANNOTATION } from '../core/rooms.js';
import { kubeApis } from './api.js';
import { FIELD_MANAGER } from './apply.js';
import type { ResolvedKube } from './config.js';
import { endpointsInput } from './endpoint-objects.js';
import { toKubeError } from './errors.js';
import { noStatefulSet, releaseReader, unlessForbidden } from './release-reader.js';
import { nodeView, podView } from './views.js';

/** What allocate and deallocate read: the endpoints' four lists, and the StatefulSet's say on safe-to-evict. */
export interface RoomObjects {
  input: Omit<EndpointsInput, 'addressTypes'>;
  /** The chart's value: write safe-to-evict "false" on allocated rooms. */
  markSafeToEvict: boolean;
  /** The pod template sets safe-to-evict itself: never written nor removed by us. */
  templateSetsSafeToEvict: boolean;
}

/**
 * The StatefulSet, its pods (those `podSelector` also matches, when given),
 * its per-pod Services and the nodes: four lists, as `endpoints` makes.
 */
export async function readRoomObjects(
  kube: ResolvedKube,
  namespace: string,
  release: string,
  podSelector?: string,
): Promise<RoomObjects> {
  const read = await releaseReader(kube, namespace, release);
  const [sts, pods, services, nodes] = await Promise.all([
    read.statefulSets(),
    read.roomPods(podSelector),
    read.podServices(),
    unlessForbidden(read.nodes()),
  ]);
  const input = endpointsInput(namespace, sts.items, pods.items, services.items, nodes?.items.map(nodeView));
  const set = sts.items[0];
  if (!input || !set) throw noStatefulSet(release, namespace);
  return {
    input,
    markSafeToEvict: set.metadata?.annotations?.[MARK_SAFE_TO_EVICT_ANNOTATION] !== 'false',
    templateSetsSafeToEvict: Boolean(set.spec?.template.metadata?.annotations?.[SAFE_TO_EVICT_ANNOTATION]),
  };
}

/** The release's StatefulSet name and its room pods: what a drain reads each round. */
export async function readRoomPods(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<{ workload: string; pods: PodView[] }> {
  const read = await releaseReader(kube, namespace, release);
  const [set, pods] = await Promise.all([read.requireStatefulSet(), read.roomPods()]);
  return { workload: set.metadata.name, pods: pods.items.map(podView) };
}

/** How a conditional write of a pod's marks ended. */
export type MarkOutcome = { kind: 'written'; pod: PodView } | { kind: 'conflict' } | { kind: 'gone' };

/**
 * A JSON merge patch of the pod's labels and annotations (null removes a
 * key) that carries the resourceVersion it was read at: the API server
 * refuses it with 409 when the pod changed since, so two writers never both
 * win (an allocation is taken once). fieldManager kubectl-expose-pods.
 */
export async function markPod(
  kube: ResolvedKube,
  namespace: string,
  pod: { name: string; resourceVersion: string },
  marks: { labels: Record<string, string | null>; annotations: Record<string, string | null> },
): Promise<MarkOutcome> {
  const { k8s, core, server } = await kubeApis(kube);
  try {
    const written = await core.patchNamespacedPod(
      {
        name: pod.name,
        namespace,
        fieldManager: FIELD_MANAGER,
        body: { metadata: { resourceVersion: pod.resourceVersion, ...marks } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    return { kind: 'written', pod: podView(written) };
  } catch (e) {
    const err = toKubeError(e, `label pod ${pod.name} in namespace ${namespace}`, server);
    if (err.httpCode === 409) return { kind: 'conflict' };
    if (err.httpCode === 404) return { kind: 'gone' };
    throw err;
  }
}
