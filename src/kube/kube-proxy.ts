import { parseKubeProxyConfig, type KubeProxyView } from '../core/nodeport-scope.js';
import type { ResolvedKube } from './config.js';
import { kubeApis } from './api.js';

/** Where clusters publish kube-proxy's configuration: kubeadm's ConfigMap, then EKS's. */
const PUBLISHED = [
  { name: 'kube-proxy', key: 'config.conf' },
  { name: 'kube-proxy-config', key: 'config' },
] as const;

/**
 * kube-proxy's configuration, where the cluster publishes it in kube-system;
 * undefined when it does not (GKE, k3s, most managed clusters), when RBAC
 * forbids reading it, or on any error: it only ever adds a warning, so it
 * never fails a command. At most two GETs, one when kubeadm's is there.
 */
export async function readKubeProxyConfig(kube: ResolvedKube): Promise<KubeProxyView | undefined> {
  const { core } = await kubeApis(kube);
  for (const { name, key } of PUBLISHED) {
    try {
      const cm = await core.readNamespacedConfigMap({ name, namespace: 'kube-system' });
      const text = cm.data?.[key];
      return text === undefined ? undefined : parseKubeProxyConfig(`kube-system/${name}`, text);
    } catch (e) {
      // 404: try the next place; 403 or anything else: the next one would fare no better.
      if ((e as { code?: number }).code !== 404) return undefined;
    }
  }
  return undefined;
}
