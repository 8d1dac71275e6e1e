import type { V1Pod, V1Service, V1StatefulSet } from '@kubernetes/client-node';

import type { EndpointsInput } from '../core/endpoints.js';
import type { NodeView } from '../core/model.js';
import { ExitCode, ExposePodsError } from '../errors.js';
import type { ResolvedKube } from './config.js';
import { kubeApis, releaseSelector } from './api.js';
import { toKubeError } from './errors.js';
import { nodeView, podView, serviceView } from './views.js';

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
  const { core, apps, server, call } = await kubeApis(kube);
  const sel = (component: string) => releaseSelector(release, component);
  const where = `in namespace ${namespace}`;

  const [sts, pods, services, nodes] = await Promise.all([
    call(
      `list statefulsets ${where}`,
      apps.listNamespacedStatefulSet({ namespace, labelSelector: sel('room') }),
    ),
    call(`list pods ${where}`, core.listNamespacedPod({ namespace, labelSelector: sel('room') })),
    call(
      `list services ${where}`,
      core.listNamespacedService({ namespace, labelSelector: sel('pod-service') }),
    ),
    core.listNode().then(
      (l) => l.items.map(nodeView),
      (e: unknown) => {
        const err = toKubeError(e, 'list nodes', server);
        if (err.httpCode === 403) return undefined;
        throw err;
      },
    ),
  ]);
  const input = endpointsInput(namespace, sts.items, pods.items, services.items, nodes);
  if (!input) throw noStatefulSet(release, namespace);
  return input;
}

/** The release has no StatefulSet here: not installed, or another namespace. */
export function noStatefulSet(release: string, namespace: string): ExposePodsError {
  return new ExposePodsError(
    `release ${release} has no StatefulSet in namespace ${namespace}`,
    ExitCode.NOT_FOUND,
    `Is it installed there? Check with: kubectl expose-pods status ${release} -n ${namespace}`,
  );
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
