import { placementOf } from '../core/placement.js';
import {
  assessStatus,
  workloadOf,
  type HelmReleaseView,
  type ReleaseValues,
  type StatusReport,
  type StatusSnapshot,
} from '../core/status.js';
import { detectHelm } from '../helm/helm.js';
import { findRelease, releaseValues } from '../helm/release.js';
import { loadKube, type KubeFlags } from '../kube/config.js';
import { readReleaseObjects, type ReleaseObjects } from '../kube/release-objects.js';

export interface StatusRequest {
  release: string;
  kube: KubeFlags;
  helmBinary?: string;
}

export interface StatusResult {
  report: StatusReport;
  /** The collision check was skipped: RBAC does not allow listing Services in all namespaces. */
  collisionsUnchecked: boolean;
}

/** Reads the release from Helm and the cluster, and judges its health. */
export async function releaseStatus(req: StatusRequest): Promise<StatusResult> {
  const kube = await loadKube(req.kube);
  const helm = await detectHelm(req.helmBinary);
  const target = { namespace: kube.namespace, kubeconfig: req.kube.kubeconfig, context: req.kube.context };
  const release = await findRelease(helm, req.release, target);
  const [values, objects] = await Promise.all([
    releaseValues(helm, req.release, target),
    readReleaseObjects(kube, kube.namespace, req.release),
  ]);
  const report = assessStatus(statusSnapshot(release, values, objects));
  return { report, collisionsUnchecked: objects.cluster.allServices === undefined };
}

/** What status judges, from the release (Helm's view and values) and its objects. */
export function statusSnapshot(
  release: HelmReleaseView,
  values: ReleaseValues,
  objects: ReleaseObjects,
): StatusSnapshot {
  return {
    release,
    values,
    workload: workloadOf(
      objects.statefulSet?.name,
      [...objects.pods, ...objects.services].map((o) => o.name),
      release.name,
    ),
    statefulSet: objects.statefulSet,
    pods: objects.pods,
    services: objects.services,
    endpoints: objects.endpoints,
    nodes: objects.cluster.nodes,
    allServices: objects.cluster.allServices,
    boundPerNode: objects.cluster.boundPerNode,
    serviceIPs: objects.cluster.serviceIPs,
    placement: placementOf(objects.template),
    redis: objects.redis,
    redisExpected: values.redisEnabled,
  };
}
