import type { V1Pod, V1Service, V1StatefulSet } from '@kubernetes/client-node';

import type { EndpointsInput } from '../core/endpoints.js';
import type { NodeView, PodView, ServiceView } from '../core/model.js';
import {
  DRAINING_LABEL,
  MARK_SAFE_TO_EVICT_ANNOTATION,
  SAFE_TO_EVICT_ANNOTATION,
  STATE_LABEL,
} from '../core/rooms.js';
import { kubeApis, metadataNames, releaseSelector } from './api.js';
import { FIELD_MANAGER } from './apply.js';
import type { ResolvedKube } from './config.js';
import { endpointsInput } from './endpoint-objects.js';
import { toKubeError } from './errors.js';
import { noStatefulSet, releaseReader, unlessForbidden } from './release-reader.js';
import { nodeView, podView, serviceView } from './views.js';

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
  const objects = roomObjectsOf(namespace, sts.items, pods.items, services.items, nodes?.items.map(nodeView));
  if (!objects) throw noStatefulSet(release, namespace);
  return objects;
}

/** What allocate needs, from the listed (or watched) objects; undefined without the StatefulSet. */
export function roomObjectsOf(
  namespace: string,
  statefulSets: V1StatefulSet[],
  pods: V1Pod[],
  services: V1Service[],
  nodes: NodeView[] | undefined,
): RoomObjects | undefined {
  const input = endpointsInput(namespace, statefulSets, pods, services, nodes);
  const set = statefulSets[0];
  if (!input || !set) return undefined;
  return {
    input,
    markSafeToEvict: set.metadata?.annotations?.[MARK_SAFE_TO_EVICT_ANNOTATION] !== 'false',
    templateSetsSafeToEvict: Boolean(set.spec?.template.metadata?.annotations?.[SAFE_TO_EVICT_ANNOTATION]),
  };
}

/** The label selector of rooms neither allocated nor draining: what allocate may take. */
export const UNMARKED_ROOMS = `!${STATE_LABEL},!${DRAINING_LABEL}`;

/** The release's StatefulSet alone, as RoomObjects with no pods, Services or nodes yet. */
export async function readRoomSet(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<RoomObjects> {
  const read = await releaseReader(kube, namespace, release);
  const objects = roomObjectsOf(namespace, (await read.statefulSets()).items, [], [], []);
  if (!objects) throw noStatefulSet(release, namespace);
  return objects;
}

/**
 * What one allocation reads first: the StatefulSet, and the names of the
 * room pods that carry no mark (the API server leaves out the others), also
 * matching `selector`, as metadata only: a few hundred bytes a room, whatever
 * their specs. The caller then reads whole only the pods it tries (readPod).
 */
export async function readUnmarkedRooms(
  kube: ResolvedKube,
  namespace: string,
  release: string,
  selector?: string,
): Promise<{ objects: RoomObjects; names: string[] }> {
  const { core, call, metadataOnly } = await kubeApis(kube);
  const read = await releaseReader(kube, namespace, release);
  const labelSelector = `${releaseSelector(release, 'room')},${UNMARKED_ROOMS}${selector ? `,${selector}` : ''}`;
  const [sts, pods] = await Promise.all([
    read.statefulSets(),
    call(
      `list pods in namespace ${namespace}`,
      core.listNamespacedPod({ namespace, labelSelector }, metadataOnly.list),
    ),
  ]);
  const objects = roomObjectsOf(namespace, sts.items, [], [], []);
  if (!objects) throw noStatefulSet(release, namespace);
  return { objects, names: metadataNames(pods) };
}

/** One pod, whole, or undefined when it is gone. */
export async function readPod(
  kube: ResolvedKube,
  namespace: string,
  name: string,
): Promise<PodView | undefined> {
  const { core, server } = await kubeApis(kube);
  try {
    return podView(await core.readNamespacedPod({ name, namespace }));
  } catch (e) {
    const err = toKubeError(e, `get pod ${name} in namespace ${namespace}`, server);
    if (err.httpCode === 404) return undefined;
    throw err;
  }
}

/**
 * The per-pod Service and the node of one room, by name: two GETs. A missing
 * one is left out (the room is then not allocatable); nodes are undefined when
 * RBAC forbids reading them, as for a list.
 */
export async function roomEndpointOf(
  kube: ResolvedKube,
  namespace: string,
  service: string,
  node: string,
): Promise<{ services: ServiceView[]; nodes: NodeView[] | undefined }> {
  const { core, server } = await kubeApis(kube);
  const orMissing = async <T>(action: string, request: Promise<T>): Promise<T | undefined | 'forbidden'> => {
    try {
      return await request;
    } catch (e) {
      const err = toKubeError(e, action, server);
      if (err.httpCode === 404) return undefined;
      if (err.httpCode === 403) return 'forbidden';
      throw err;
    }
  };
  const [svc, n] = await Promise.all([
    orMissing(
      `get service ${service} in namespace ${namespace}`,
      core.readNamespacedService({ name: service, namespace }),
    ),
    orMissing(`get node ${node}`, core.readNode({ name: node })),
  ]);
  if (svc === 'forbidden')
    throw toKubeError({ code: 403, body: '' }, `get service ${service} in namespace ${namespace}`, server);
  return {
    services: svc ? [serviceView(svc)] : [],
    nodes: n === 'forbidden' ? undefined : n ? [nodeView(n)] : [],
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
