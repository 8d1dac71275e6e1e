/**
 * Every write to the cluster's objects that is not Helm's: conditional where a
 * race is possible (a UID or resourceVersion precondition), and converging
 * where the object is already gone. Each write makes the reads kept for the
 * command run stale, and kube/api.ts forgets them.
 */
import type { V1Taint } from '@kubernetes/client-node';
import type { PodView } from '../core/model.js';
import { OUT_OF_SERVICE_TAINT } from '../core/recover.js';
import { kubeApis } from './api.js';
import { FIELD_MANAGER } from './apply.js';
import type { ResolvedKube } from './config.js';
import { toKubeError } from './errors.js';
import type { ReleaseData, ReleaseService } from './reader.js';
import { podView } from './views.js';

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

/** Deletes a Service only if it is still the one we listed (UID precondition); NotFound is success. */
export async function deleteServiceExactly(
  kube: ResolvedKube,
  namespace: string,
  s: ReleaseService,
): Promise<void> {
  const { core, server } = await kubeApis(kube);
  try {
    await core.deleteNamespacedService({
      name: s.name,
      namespace,
      body: { preconditions: { uid: s.uid } },
    });
  } catch (e) {
    const err = toKubeError(e, `delete service ${s.name} in namespace ${namespace}`, server);
    // Gone, or replaced by another object of that name since we listed it: not ours to delete.
    if (err.httpCode !== 404 && err.httpCode !== 409) throw err;
  }
}

/**
 * DELETE with gracePeriodSeconds 0: the API server removes the pod without
 * waiting for its kubelet. The UID precondition makes sure it is the pod that
 * was confirmed, never a replacement of the same name. Returns false when
 * that pod is already gone or replaced (404 or 409).
 */
export async function forceDeletePod(
  kube: ResolvedKube,
  namespace: string,
  name: string,
  uid?: string,
): Promise<boolean> {
  const { core, server } = await kubeApis(kube);
  try {
    await core.deleteNamespacedPod({
      name,
      namespace,
      gracePeriodSeconds: 0,
      body: { gracePeriodSeconds: 0, ...(uid ? { preconditions: { uid } } : {}) },
    });
    return true;
  } catch (e) {
    const err = toKubeError(e, `delete pod ${name} in namespace ${namespace}`, server);
    if (err.httpCode !== 404 && err.httpCode !== 409) throw err;
    return false;
  }
}

/**
 * Adds node.kubernetes.io/out-of-service=nodeshutdown:NoExecute, only to a node that is still not Ready (non-graceful node
 * shutdown): the pod GC deletes the node's pods and volumes are detached. A JSON
 * merge patch of the whole taint list, guarded by the node's resourceVersion.
 */
export async function taintOutOfService(kube: ResolvedKube, node: string): Promise<boolean> {
  const { k8s, core, server } = await kubeApis(kube);
  const action = `taint node ${node}`;
  try {
    const current = await core.readNode({ name: node });
    // It came back since the user confirmed: tainting it now would evict healthy pods.
    if (current.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return false;
    const taints: V1Taint[] = current.spec?.taints ?? [];
    if (taints.some((t) => t.key === OUT_OF_SERVICE_TAINT.key)) return false;
    await core.patchNode(
      {
        name: node,
        body: {
          metadata: { resourceVersion: current.metadata?.resourceVersion },
          spec: { taints: [...taints, { ...OUT_OF_SERVICE_TAINT }] },
        },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    return true;
  } catch (e) {
    throw toKubeError(e, action, server);
  }
}

/** How a conditional write of a pod's marks ended. */
export type MarkOutcome = { kind: 'written'; pod: PodView } | { kind: 'conflict' } | { kind: 'gone' };

/**
 * A JSON merge patch of the pod's labels and annotations (null removes a
 * key) that carries the resourceVersion it was read at: the API server
 * refuses it with 409 when the pod changed since, so two writers never both
 * win (an allocation is taken once). fieldManager kubectl-expose-pods. The
 * pod as written is settled by `endOnRestart` (its StatefulSet's).
 */
export async function markPod(
  kube: ResolvedKube,
  namespace: string,
  pod: { name: string; resourceVersion: string },
  marks: { labels: Record<string, string | null>; annotations: Record<string, string | null> },
  endOnRestart: boolean,
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
    return { kind: 'written', pod: podView(written, endOnRestart) };
  } catch (e) {
    const err = toKubeError(e, `label pod ${pod.name} in namespace ${namespace}`, server);
    if (err.httpCode === 409) return { kind: 'conflict' };
    if (err.httpCode === 404) return { kind: 'gone' };
    throw err;
  }
}

/** Deletes the listed data; NotFound counts as deleted, so a re-run converges. */
export async function deleteReleaseData(
  kube: ResolvedKube,
  namespace: string,
  data: ReleaseData,
): Promise<void> {
  const { core, server } = await kubeApis(kube);
  const ignoreNotFound = (action: string) => (e: unknown) => {
    const err = toKubeError(e, action, server);
    if (err.httpCode !== 404) throw err;
  };
  for (const name of data.pvcs) {
    await core
      .deleteNamespacedPersistentVolumeClaim({ namespace, name })
      .then(
        () => undefined,
        ignoreNotFound(`delete persistentvolumeclaim ${name} in namespace ${namespace}`),
      );
  }
  for (const name of data.secrets) {
    await core
      .deleteNamespacedSecret({ namespace, name })
      .then(() => undefined, ignoreNotFound(`delete secret ${name} in namespace ${namespace}`));
  }
}

/** How a conditional delete of a pod ended. */
export type DeleteOutcome = 'deleted' | 'conflict' | 'gone';

/**
 * Deletes a room's pod only if it is still the pod (UID) and the state
 * (resourceVersion) that was read: the API server refuses it with 409 when
 * the pod changed since, so a room allocated a moment earlier is never
 * deleted. The StatefulSet makes it again, from its update revision, with the
 * same name (and so the same per-pod Service and nodePort). The pod's own
 * grace period applies.
 */
export async function deletePodExactly(
  kube: ResolvedKube,
  namespace: string,
  pod: { name: string; uid: string; resourceVersion: string },
): Promise<DeleteOutcome> {
  const { core, server } = await kubeApis(kube);
  try {
    await core.deleteNamespacedPod({
      name: pod.name,
      namespace,
      body: { preconditions: { uid: pod.uid, resourceVersion: pod.resourceVersion } },
    });
    return 'deleted';
  } catch (e) {
    const err = toKubeError(e, `delete pod ${pod.name} in namespace ${namespace}`, server);
    if (err.httpCode === 409) return 'conflict';
    if (err.httpCode === 404) return 'gone';
    throw err;
  }
}
