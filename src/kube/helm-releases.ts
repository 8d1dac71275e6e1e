import { gunzipSync } from 'node:zlib';

import { coalesceValues } from '../core/chart-values.js';
import { kubeApis } from './api.js';
import type { ResolvedKube } from './config.js';

/** A Helm release as its newest release Secret records it. */
export interface HelmReleaseRecord {
  name: string;
  namespace: string;
  revision: number;
  /** deployed, failed, pending-upgrade, ... */
  status: string;
  /** The chart's name (expose-pods for ours). */
  chart: string;
  chartVersion: string;
  appVersion: string;
  /** The computed values: the user's over the chart's defaults, as `helm get values --all` prints them. */
  values: Record<string, unknown>;
}

interface ReleasePayload {
  chart?: { metadata?: { name?: string; version?: string; appVersion?: string }; values?: unknown };
  config?: unknown;
}

/**
 * Helm's release Secrets (type helm.sh/release.v1, labelled owner=helm) in one
 * namespace, or in all: one list request. Only the newest revision of each
 * release is decoded (base64, then gzip, then JSON) to read its chart.
 */
export async function listHelmReleases(kube: ResolvedKube, namespace?: string): Promise<HelmReleaseRecord[]> {
  const { core, call } = await kubeApis(kube);
  const labelSelector = 'owner=helm';
  const list = namespace
    ? await call(
        `list secrets in namespace ${namespace}`,
        core.listNamespacedSecret({ namespace, labelSelector }),
      )
    : await call('list secrets in all namespaces', core.listSecretForAllNamespaces({ labelSelector }));
  const newest = new Map<string, (typeof list.items)[number]>();
  for (const s of list.items) {
    const labels = s.metadata?.labels ?? {};
    if (s.type !== 'helm.sh/release.v1' || !labels.name) continue;
    const key = `${s.metadata?.namespace ?? ''}/${labels.name}`;
    const seen = newest.get(key);
    if (!seen || Number(labels.version) > Number(seen.metadata?.labels?.version)) newest.set(key, s);
  }
  return [...newest.values()].map((s) => {
    const labels = s.metadata?.labels ?? {};
    const payload = decodeRelease(s.data?.release);
    return {
      name: labels.name ?? '',
      namespace: s.metadata?.namespace ?? '',
      revision: Number(labels.version),
      status: labels.status ?? 'unknown',
      chart: payload?.chart?.metadata?.name ?? '',
      chartVersion: payload?.chart?.metadata?.version ?? '',
      appVersion: payload?.chart?.metadata?.appVersion ?? '',
      values: coalesceValues(payload?.chart?.values, payload?.config),
    };
  });
}

/** A release Secret's payload: base64 (the Secret's encoding) of base64 of gzip of JSON; undefined when unreadable. */
function decodeRelease(data: string | undefined): ReleasePayload | undefined {
  if (!data) return undefined;
  try {
    const inner = Buffer.from(Buffer.from(data, 'base64').toString('utf8'), 'base64');
    const json = inner[0] === 0x1f && inner[1] === 0x8b ? gunzipSync(inner) : inner;
    return JSON.parse(json.toString('utf8')) as ReleasePayload;
  } catch {
    return undefined;
  }
}

/** The namespaces' names: one list request. */
export async function listNamespaceNames(kube: ResolvedKube): Promise<string[]> {
  const { core, call } = await kubeApis(kube);
  const list = await call('list namespaces', core.listNamespace());
  return list.items.map((n) => n.metadata?.name ?? '').filter(Boolean);
}
