import { existsSync } from 'node:fs';

import type { KubeConfig } from '@kubernetes/client-node';

import { UsageError } from '../errors.js';

/** kubectl's standard flags, as the user gave them. */
export interface KubeFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

export interface ResolvedKube {
  kc: KubeConfig;
  /** The context in use; undefined when no kubeconfig exists at all. */
  context?: string;
  /** --namespace, else the context's namespace, else "default". */
  namespace: string;
}

/**
 * Builds the KubeConfig the way kubectl does: --kubeconfig, else $KUBECONFIG
 * (several files merged), else ~/.kube/config; then --context, checked before
 * any request so a typo names the contexts that do exist.
 */
export async function loadKube(flags: KubeFlags): Promise<ResolvedKube> {
  // client-node is heavy; only commands that need a cluster pay for it.
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  if (flags.kubeconfig) {
    if (!existsSync(flags.kubeconfig)) {
      throw new UsageError(`--kubeconfig ${flags.kubeconfig}: no such file`);
    }
    try {
      kc.loadFromFile(flags.kubeconfig);
    } catch (e) {
      throw new UsageError(`--kubeconfig ${flags.kubeconfig} is not a valid kubeconfig: ${(e as Error).message}`);
    }
  } else {
    try {
      kc.loadFromDefault();
    } catch (e) {
      throw new UsageError(`cannot read the kubeconfig: ${(e as Error).message}`, 'Check $KUBECONFIG and ~/.kube/config.');
    }
  }
  const names = kc.getContexts().map((c) => c.name);
  if (flags.context) {
    if (!names.includes(flags.context)) {
      const available = names.length ? names.join(', ') : 'none';
      throw new UsageError(`context ${flags.context} not found in kubeconfig (available: ${available})`);
    }
    kc.setCurrentContext(flags.context);
  }
  const current = kc.getContextObject(kc.getCurrentContext());
  return {
    kc,
    context: current?.name,
    namespace: flags.namespace ?? current?.namespace ?? 'default',
  };
}
