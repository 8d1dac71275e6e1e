import type { KubernetesObject } from '@kubernetes/client-node';

import { ExitCode } from '../errors.js';
import { kubeApis } from './api.js';
import type { ResolvedKube } from './config.js';
import { KubeApiError, parseStatusBody, toKubeError } from './errors.js';

/** How many dry-run requests are in flight at once. */
const DRY_RUN_PARALLEL = 8;

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
  const one = async (o: KubernetesObject): Promise<void> => {
    const what = `${o.kind ?? 'object'}/${o.metadata?.name ?? '?'}`;
    try {
      await api.patch(o, undefined, 'All', FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply);
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
  };
  // A few at a time: a release of hundreds of Services is checked in a fraction of the
  // sequential time, without flooding the API server. The first failure, in order, is reported.
  const todo = objects.filter((x) => !isHook(x));
  const outcomes: (Error | undefined)[] = new Array<Error | undefined>(todo.length);
  // The first alone: it fills client-node's API discovery cache, which the others then share.
  let next = 1;
  const first = todo[0];
  if (first)
    await one(first).catch((e: unknown) => (outcomes[0] = e instanceof Error ? e : new Error(String(e))));
  const worker = async () => {
    for (let i = next++; i < todo.length; i = next++) {
      const o = todo[i];
      if (o)
        await one(o).catch((e: unknown) => (outcomes[i] = e instanceof Error ? e : new Error(String(e))));
    }
  };
  await Promise.all(Array.from({ length: Math.min(DRY_RUN_PARALLEL, todo.length) }, worker));
  const failed = outcomes.find((e) => e !== undefined);
  if (failed) throw failed;
  return todo.length;
}
