import type { KubernetesObject } from '@kubernetes/client-node';

import { ExitCode } from '../errors.js';
import { kubeApis } from './api.js';
import type { ResolvedKube } from './config.js';
import { KubeApiError, parseStatusBody, toKubeError } from './errors.js';

/** Every write this plugin makes names itself. */
export const FIELD_MANAGER = 'kubectl-expose-pods';

/** Objects Helm creates only as hooks (the test pod); a dry run of the release leaves them out. */
function isHook(o: KubernetesObject): boolean {
  return Boolean(o.metadata?.annotations?.['helm.sh/hook']);
}

/**
 * Server-side apply of every object with dryRun=All: the API server runs
 * defaulting, validation and admission (a nodePort already taken, a quota, a
 * policy) and persists nothing. Content-Type application/apply-patch+yaml,
 * fieldManager kubectl-expose-pods, force so that fields Helm owns do not conflict.
 * Returns how many objects the server accepted.
 */
export async function serverDryRun(kube: ResolvedKube, objects: KubernetesObject[]): Promise<number> {
  const { k8s, server, objects: api } = await kubeApis(kube);
  let accepted = 0;
  for (const o of objects.filter((x) => !isHook(x))) {
    const what = `${o.kind ?? 'object'}/${o.metadata?.name ?? '?'}`;
    try {
      await api.patch(o, undefined, 'All', FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply);
      accepted++;
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code === 422 || code === 400) {
        const status = parseStatusBody((e as { body?: unknown }).body);
        throw new KubeApiError(
          `the API server rejected ${what}: ${status.message ?? `HTTP ${code}`}`,
          code,
          status.reason,
          ExitCode.INVALID_VALUES,
          'Nothing was changed. Fix the value behind it (for a nodePort already allocated: another expose.nodePortBase, or null).',
        );
      }
      throw toKubeError(e, `apply ${what} (server dry run)`, server);
    }
  }
  return accepted;
}

/** Whether a namespace exists; a 403 counts as "exists" (the real install will tell). */
export async function namespaceExists(kube: ResolvedKube, name: string): Promise<boolean> {
  const { core, server } = await kubeApis(kube);
  try {
    await core.readNamespace({ name });
    return true;
  } catch (e) {
    const err = toKubeError(e, `get namespace ${name}`, server);
    if (err.httpCode === 404) return false;
    if (err.httpCode === 403) return true;
    throw err;
  }
}
