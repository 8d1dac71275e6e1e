import type { ResolvedKube } from './config.js';
import { toKubeError } from './errors.js';

/** What a release leaves behind on uninstall: the chart's PVCs (rooms and Redis) and its Redis Secret. */
export interface ReleaseData {
  pvcs: string[];
  secrets: string[];
}

const selector = (release: string) => `app.kubernetes.io/instance=${release}`;

async function clients(kube: ResolvedKube) {
  const k8s = await import('@kubernetes/client-node');
  return { core: kube.kc.makeApiClient(k8s.CoreV1Api), server: kube.kc.getCurrentCluster()?.server };
}

/**
 * Finds the release's data by the chart's labels. Claims and Secrets the user
 * brought (existingClaim, existingSecret) carry no such label and are never listed.
 */
export async function listReleaseData(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<ReleaseData> {
  const { core, server } = await clients(kube);
  try {
    const [pvcs, secrets] = await Promise.all([
      core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector: selector(release) }),
      core.listNamespacedSecret({
        namespace,
        labelSelector: `${selector(release)},app.kubernetes.io/component=redis`,
      }),
    ]);
    return {
      pvcs: pvcs.items
        .map((p) => p.metadata?.name ?? '')
        .filter(Boolean)
        .sort(),
      secrets: secrets.items
        .map((s) => s.metadata?.name ?? '')
        .filter(Boolean)
        .sort(),
    };
  } catch (e) {
    throw toKubeError(e, `list persistentvolumeclaims and secrets in namespace ${namespace}`, server);
  }
}

/** Deletes the listed data; NotFound counts as deleted, so a re-run converges. */
export async function deleteReleaseData(
  kube: ResolvedKube,
  namespace: string,
  data: ReleaseData,
): Promise<void> {
  const { core, server } = await clients(kube);
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
