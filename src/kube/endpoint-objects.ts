import type { EndpointsInput } from '../core/endpoints.js';
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
  const set = sts.items[0];
  if (!set?.metadata?.name) {
    throw new ExposePodsError(
      `release ${release} has no StatefulSet in namespace ${namespace}`,
      ExitCode.NOT_FOUND,
      `Is it installed there? Check with: kubectl expose-pods status ${release} -n ${namespace}`,
    );
  }
  return {
    namespace,
    workload: set.metadata.name,
    headless: set.spec?.serviceName ?? set.metadata.name,
    replicas: set.spec?.replicas ?? 0,
    pods: pods.items.map(podView),
    services: services.items.map(serviceView),
    nodes,
  };
}
