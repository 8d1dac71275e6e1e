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
  const one = async (o: KubernetesObject): Promise<void> => {
    await serverDryRunObject(kube, o);
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

/**
 * One object's server-side apply with dryRun=All (as serverDryRun): the object
 * as the API server would store it, defaults and admission included, nothing persisted.
 */
export async function serverDryRunObject(kube: ResolvedKube, o: KubernetesObject): Promise<KubernetesObject> {
  const { k8s, server, objects: api } = await kubeApis(kube);
  const what = `${o.kind ?? 'object'}/${o.metadata?.name ?? '?'}`;
  try {
    return await api.patch(o, undefined, 'All', FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply);
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

/** JSON with sorted keys and without null or undefined members: two objects the server defaulted alike compare equal. */
export function canonicalJson(v: unknown): string {
  const norm = (x: unknown): unknown => {
    if (x instanceof Date) return x.toISOString();
    if (Array.isArray(x)) return x.map(norm);
    if (x && typeof x === 'object')
      return Object.fromEntries(
        Object.entries(x as Record<string, unknown>)
          .filter(([, y]) => y !== null && y !== undefined)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([k, y]) => [k, norm(y)]),
      );
    return x;
  };
  return JSON.stringify(norm(v));
}
