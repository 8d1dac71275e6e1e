import type { V1Taint } from '@kubernetes/client-node';

import { OUT_OF_SERVICE_TAINT, type RecoverNode, type RecoverPod } from '../core/recover.js';
import { kubeApis } from './api.js';
import type { ResolvedKube } from './config.js';
import { toKubeError } from './errors.js';
import { releaseReader } from './release-reader.js';
import { podView } from './views.js';

/** The release's StatefulSet pods and every node with its Ready condition: three lists. */
export async function readRecoverObjects(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<{ workload: string; pods: RecoverPod[]; nodes: RecoverNode[] }> {
  const read = await releaseReader(kube, namespace, release);
  const [set, pods, nodes] = await Promise.all([read.requireStatefulSet(), read.roomPods(), read.nodes()]);
  return {
    workload: set.metadata.name,
    pods: pods.items.map((p) => {
      const v = podView(p);
      return {
        name: v.name,
        uid: p.metadata?.uid,
        nodeName: v.nodeName,
        ready: v.ready,
        terminating: v.terminating,
      };
    }),
    nodes: nodes.items.map((n) => {
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
      const status = ready?.status;
      return {
        name: n.metadata?.name ?? '',
        ready: status === 'True' || status === 'False' ? status : 'Unknown',
        since: ready?.lastTransitionTime ? new Date(ready.lastTransitionTime).getTime() : undefined,
        outOfService: (n.spec?.taints ?? []).some((t) => t.key === OUT_OF_SERVICE_TAINT.key),
      };
    }),
  };
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
