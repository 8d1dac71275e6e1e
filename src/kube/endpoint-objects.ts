import type { V1Pod, V1Service, V1StatefulSet } from '@kubernetes/client-node';

import type { EndpointsInput } from '../core/endpoints.js';
import type { NodeView } from '../core/model.js';
import type { ResolvedKube } from './config.js';
import { readRoomObjects } from './room-marks.js';
import { podView, serviceView } from './views.js';

/**
 * The four lists `endpoints` needs, by the chart's labels, in parallel: the
 * StatefulSet, its pods, its per-pod Services, and the nodes. The request
 * count never grows with the replica count. A 403 on nodes leaves them unknown.
 */
export async function readEndpointObjects(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<Omit<EndpointsInput, 'addressTypes'>> {
  return (await readRoomObjects(kube, namespace, release)).input;
}

/** What resolveEndpointRows needs, from the listed objects; undefined without the StatefulSet. */
export function endpointsInput(
  namespace: string,
  statefulSets: V1StatefulSet[],
  pods: V1Pod[],
  services: V1Service[],
  nodes: NodeView[] | undefined,
): Omit<EndpointsInput, 'addressTypes'> | undefined {
  const set = statefulSets[0];
  if (!set?.metadata?.name) return undefined;
  return {
    namespace,
    workload: set.metadata.name,
    headless: set.spec?.serviceName ?? set.metadata.name,
    replicas: set.spec?.replicas ?? 0,
    pods: pods.map(podView),
    services: services.map(serviceView),
    nodes,
  };
}
