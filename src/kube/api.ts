import type { ResolvedKube } from './config.js';
import { toKubeError } from './errors.js';

/**
 * The typed API clients for one KubeConfig, loaded lazily (client-node is
 * heavy), and `call`, which turns any failure into a KubeApiError that says
 * what we were doing ("list pods in namespace game").
 */
export async function kubeApis(kube: ResolvedKube) {
  const k8s = await import('@kubernetes/client-node');
  const server = kube.kc.getCurrentCluster()?.server;
  return {
    k8s,
    server,
    core: kube.kc.makeApiClient(k8s.CoreV1Api),
    apps: kube.kc.makeApiClient(k8s.AppsV1Api),
    discovery: kube.kc.makeApiClient(k8s.DiscoveryV1Api),
    call: <T>(action: string, request: Promise<T>): Promise<T> =>
      request.catch((e: unknown) => {
        throw toKubeError(e, action, server);
      }),
  };
}

/** The chart's label selector for a release, optionally one component (room, pod-service, redis). */
export function releaseSelector(release: string, component?: string): string {
  return `app.kubernetes.io/instance=${release}${component ? `,app.kubernetes.io/component=${component}` : ''}`;
}
