import { placementOf } from '../core/placement.js';
import {
  assessStatus,
  workloadOf,
  type HelmReleaseView,
  type ReleaseValues,
  type StatusReport,
  type StatusSnapshot,
} from '../core/status.js';
import { releaseValuesOf } from '../core/chart-values.js';
import { CHART_NAME } from '../core/release.js';
import { ExitCode, ExposePodsError } from '../errors.js';
import { loadKube, type KubeFlags } from '../kube/config.js';
import { readHelmRelease, releaseViewOf } from '../kube/helm-releases.js';
import { readAutoscaler, readReleaseObjects, type ReleaseObjects } from '../kube/reader.js';

export interface StatusRequest {
  release: string;
  kube: KubeFlags;
}

export interface StatusResult {
  report: StatusReport;
  /** The collision check was skipped: RBAC does not allow listing Services in all namespaces. */
  collisionsUnchecked: boolean;
}

/**
 * Reads the release (its newest revision in Helm's release Secrets, as `list`
 * does: no helm process, so one sign-in) and the cluster, and judges its health.
 */
export async function releaseStatus(req: StatusRequest): Promise<StatusResult> {
  const kube = await loadKube(req.kube);
  const ns = kube.namespace;
  const [record, objects] = await Promise.all([
    readHelmRelease(kube, ns, req.release),
    readReleaseObjects(kube, ns, req.release),
  ]);
  // helm uninstall --keep-history leaves its last revision as uninstalled: helm list does not show it either.
  if (!record || record.status === 'uninstalled')
    throw new ExposePodsError(
      `release ${req.release} not found in namespace ${ns}`,
      ExitCode.NOT_FOUND,
      `List the releases there with: kubectl expose-pods list -n ${ns}`,
    );
  if (record.chart !== CHART_NAME)
    throw new ExposePodsError(
      `release ${req.release} in namespace ${ns} is chart ${record.chart}-${record.chartVersion}, not expose-pods; refusing to touch it`,
      ExitCode.CONFLICT,
      'Choose another release name.',
    );
  const report = assessStatus(statusSnapshot(releaseViewOf(record), releaseValuesOf(record.values), objects));
  const autoscaler = await readAutoscaler(kube, ns, req.release);
  if (autoscaler !== undefined) report.autoscaler = autoscaler;
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
