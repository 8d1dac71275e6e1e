import { chartMadeClaims, chartMadeSecrets, type ManifestView } from '../core/release-change.js';
import { kubeApis, metadataItems, releaseSelector } from './api.js';
import type { ResolvedKube } from './config.js';
import { toKubeError } from './errors.js';

/** What a release leaves behind on uninstall: the chart's PVCs (rooms and Redis) and its Redis Secret. */
export interface ReleaseData {
  pvcs: string[];
  secrets: string[];
}

/**
 * Finds the release's data: claims by the instance label, kept only when the
 * chart made them (chartMadeClaims: by name from the release's manifest, or by
 * the chart's labels once the release is gone); the Redis Secret by name from
 * the manifest (chartMadeSecrets; once the release is gone, by Helm's
 * ownership annotations and the chart's labels). Claims and Secrets the user
 * brought are never listed, even when they carry the release's labels.
 */
export async function listReleaseData(
  kube: ResolvedKube,
  namespace: string,
  release: string,
  manifest?: ManifestView,
): Promise<ReleaseData> {
  const { core, server, metadataOnly } = await kubeApis(kube);
  try {
    const [pvcs, secrets] = await Promise.all([
      core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector: releaseSelector(release) }),
      core.listNamespacedSecret(
        { namespace, labelSelector: releaseSelector(release, 'redis') },
        metadataOnly.list,
      ),
    ]);
    return {
      pvcs: chartMadeClaims(
        pvcs.items.map((p) => ({ name: p.metadata?.name ?? '', labels: p.metadata?.labels ?? {} })),
        manifest,
      ),
      secrets: chartMadeSecrets(
        metadataItems(secrets).map((s) => ({
          name: s.metadata?.name ?? '',
          labels: s.metadata?.labels ?? {},
          annotations: s.metadata?.annotations ?? {},
        })),
        release,
        namespace,
        manifest,
      ),
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
