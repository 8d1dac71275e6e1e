import type { PodView } from '../core/model.js';
import { kubeApis, releaseSelector } from './api.js';
import { readBudgetObjects, type BudgetObjects } from './budget-objects.js';
import { releaseReader } from './release-reader.js';
import type { ResolvedKube } from './config.js';
import { toKubeError } from './errors.js';
import { podView } from './views.js';

/** What a change to a release is checked against before anything is written. */
export interface ChangeObjects extends BudgetObjects {
  /** The release's room pods now. */
  pods: PodView[];
}

/** The release's pods, and the cluster-wide lists the budgets need (kube/budget-objects.ts). */
export async function readChangeObjects(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<ChangeObjects> {
  const read = await releaseReader(kube, namespace, release);
  const [pods, budget] = await Promise.all([read.roomPods(), readBudgetObjects(kube)]);
  return { pods: pods.items.map(podView), ...budget };
}

/** A Service Helm made for this release (its meta.helm.sh annotations say so). */
export interface ReleaseService {
  name: string;
  uid: string;
}

/**
 * The Services in the namespace that Helm created for this release, by the
 * chart's instance label and Helm's own release annotations (both must match,
 * so a user's Service that only shares the label is never listed).
 */
export async function listReleaseServices(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<ReleaseService[]> {
  const { core, call } = await kubeApis(kube);
  const list = await call(
    `list services in namespace ${namespace}`,
    core.listNamespacedService({ namespace, labelSelector: releaseSelector(release) }),
  );
  return list.items
    .filter(
      (s) =>
        s.metadata?.annotations?.['meta.helm.sh/release-name'] === release &&
        s.metadata.annotations['meta.helm.sh/release-namespace'] === namespace &&
        s.metadata.labels?.['app.kubernetes.io/managed-by'] === 'Helm',
    )
    .map((s) => ({ name: s.metadata?.name ?? '', uid: s.metadata?.uid ?? '' }));
}

/** Deletes a Service only if it is still the one we listed (UID precondition); NotFound is success. */
export async function deleteServiceExactly(
  kube: ResolvedKube,
  namespace: string,
  s: ReleaseService,
): Promise<void> {
  const { core, server } = await kubeApis(kube);
  try {
    await core.deleteNamespacedService({
      name: s.name,
      namespace,
      body: { preconditions: { uid: s.uid } },
    });
  } catch (e) {
    const err = toKubeError(e, `delete service ${s.name} in namespace ${namespace}`, server);
    // Gone, or replaced by another object of that name since we listed it: not ours to delete.
    if (err.httpCode !== 404 && err.httpCode !== 409) throw err;
  }
}
