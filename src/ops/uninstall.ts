import { toGoDuration } from '../core/duration.js';
import { ExitCode, ExposePodsError, UsageError } from '../errors.js';
import { uninstallArgs } from '../helm/args.js';
import { detectHelm, helmOrThrow } from '../helm/helm.js';
import { findRelease } from '../helm/release.js';
import { loadKube, type KubeFlags } from '../kube/config.js';
import { deleteReleaseData, listReleaseData, type ReleaseData } from '../kube/data.js';

export interface UninstallRequest {
  release: string;
  kube: KubeFlags;
  helmBinary?: string;
  deleteData: boolean;
  timeout: string;
  /** Asks the user to confirm deleting data; resolves false to stop with nothing changed. */
  confirm: (data: ReleaseData, namespace: string) => Promise<boolean>;
}

export interface UninstallResult {
  release: string;
  namespace: string;
  /** False when the release was already gone and only data was deleted (a re-run). */
  uninstalled: boolean;
  kept: ReleaseData;
  deleted: ReleaseData;
}

const none = (): ReleaseData => ({ pvcs: [], secrets: [] });

/**
 * helm uninstall, keeping PVCs and the Secret unless --delete-data is confirmed.
 * The confirmation comes before anything changes. When the release is already
 * gone, --delete-data still removes its leftover data, so a re-run converges.
 */
export async function runUninstall(req: UninstallRequest): Promise<UninstallResult> {
  const timeout = toGoDuration(req.timeout);
  if (!timeout)
    throw new UsageError(`--timeout ${req.timeout} is not a duration; use a value such as 90s or 5m`);
  const kube = await loadKube(req.kube);
  const helm = await detectHelm(req.helmBinary);
  const ns = kube.namespace;
  const target = { namespace: ns, kubeconfig: req.kube.kubeconfig, context: req.kube.context };

  let exists = true;
  try {
    await findRelease(helm, req.release, target);
  } catch (e) {
    if (!(e instanceof ExposePodsError && e.exitCode === ExitCode.NOT_FOUND)) throw e;
    exists = false;
  }
  const data = await listReleaseData(kube, ns, req.release);
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
  if (req.deleteData && hasData && !(await req.confirm(data, ns))) {
    throw new ExposePodsError('nothing was changed: deleting the data was not confirmed', ExitCode.USAGE);
  }

  if (exists) await helmOrThrow(helm, 'uninstall', uninstallArgs(req.release, target, timeout));
  if (req.deleteData) {
    await deleteReleaseData(kube, ns, data);
    return { release: req.release, namespace: ns, uninstalled: exists, kept: none(), deleted: data };
  }
  return { release: req.release, namespace: ns, uninstalled: exists, kept: data, deleted: none() };
}
