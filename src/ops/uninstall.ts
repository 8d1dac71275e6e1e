import { requireTimeout } from '../core/duration.js';
import { manifestView } from '../core/release-change.js';
import { ExitCode, ExposePodsError } from '../errors.js';
import { uninstallArgs } from '../helm/args.js';
import { helmOrThrow } from '../helm/helm.js';
import { getManifest } from '../helm/release.js';
import type { KubeFlags } from '../kube/config.js';
import { deleteReleaseData, listReleaseData, type ReleaseData } from '../kube/data.js';
import { describeCluster, parseManifest, removeOrphanedServices, withReleaseChange } from './mutation.js';

export interface UninstallRequest {
  release: string;
  kube: KubeFlags;
  helmBinary?: string;
  deleteData: boolean;
  timeout: string;
  /** Asks the user to confirm deleting data, naming the cluster; resolves false to stop with nothing changed. */
  confirm: (data: ReleaseData, namespace: string, cluster: string) => Promise<boolean>;
  warn: (message: string) => void;
}

export interface UninstallResult {
  release: string;
  namespace: string;
  /** False when the release was already gone and only data was deleted (a re-run). */
  uninstalled: boolean;
  kept: ReleaseData;
  deleted: ReleaseData;
  /** Services of the release that a failed upgrade had left outside its manifest, now deleted. */
  orphanedServices: string[];
}

const none = (): ReleaseData => ({ pvcs: [], secrets: [] });

/**
 * helm uninstall, keeping PVCs and the Secret unless --delete-data is confirmed.
 * The confirmation comes before anything changes. When the release is already
 * gone, --delete-data still removes its leftover data, so a re-run converges.
 */
export async function runUninstall(req: UninstallRequest): Promise<UninstallResult> {
  const { go: timeout, ms: timeoutMs } = requireTimeout('--timeout', req.timeout);
  return withReleaseChange(
    {
      release: req.release,
      kube: req.kube,
      helmBinary: req.helmBinary,
      operation: `uninstall${req.deleteData ? ' --delete-data' : ''}`,
      allowMissing: true,
      orphanWaitMs: timeoutMs,
      warn: req.warn,
    },
    async (session) => {
      const { cluster, exists } = session;
      const { kube, helm, target, namespace: ns } = cluster;
      const manifest = exists
        ? manifestView(parseManifest(await getManifest(helm, req.release, target)))
        : undefined;
      const data = await listReleaseData(kube, ns, req.release, manifest);
      const hasData = data.pvcs.length + data.secrets.length > 0;
      if (!exists && !(req.deleteData && hasData)) {
        const leftover = hasData
          ? `It left ${data.pvcs.length} PVC(s) and ${data.secrets.length} Secret(s) behind; add --delete-data to remove them.`
          : `List the releases there with: helm list -n ${ns}`;
        throw new ExposePodsError(
          `release ${req.release} not found in namespace ${ns}`,
          ExitCode.NOT_FOUND,
          leftover,
        );
      }
      if (req.deleteData && hasData && !(await req.confirm(data, ns, describeCluster(cluster)))) {
        throw new ExposePodsError(
          'nothing was changed: deleting the data was not confirmed',
          ExitCode.NOT_CONFIRMED,
        );
      }

      if (exists)
        await helmOrThrow(helm, 'uninstall', uninstallArgs(req.release, target, timeout), {
          signal: session.signal,
        });
      // Services a failed upgrade left outside the last manifest: helm uninstall does not see them.
      const orphans = await removeOrphanedServices(cluster, req.release, []);
      const base = { release: req.release, namespace: ns, uninstalled: exists, orphanedServices: orphans };
      if (req.deleteData) {
        await deleteReleaseData(kube, ns, data);
        return { ...base, kept: none(), deleted: data };
      }
      return { ...base, kept: data, deleted: none() };
    },
  );
}
