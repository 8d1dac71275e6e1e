import { ExitCode, ExposePodsError } from '../errors.js';
import { CHART_NAME } from '../core/release.js';
import type { HelmReleaseView } from '../core/status.js';
import { kubeArgs, listArgs, type KubeTarget } from './args.js';
import { helmOrThrow, type Helm } from './helm.js';

interface HelmListEntry {
  name: string;
  namespace: string;
  revision: string | number;
  status: string;
  chart: string;
  app_version: string;
}

/** NOT_FOUND: no release of that name in the namespace. */
export function releaseNotFound(release: string, namespace: string): ExposePodsError {
  return new ExposePodsError(
    `release ${release} not found in namespace ${namespace}`,
    ExitCode.NOT_FOUND,
    `List the releases there with: helm list -n ${namespace}`,
  );
}

/** CONFLICT: the release is another chart's (`chart` as helm list prints it, name-version). */
export function notOurChart(release: string, namespace: string, chart: string): ExposePodsError {
  return new ExposePodsError(
    `release ${release} in namespace ${namespace} is chart ${chart}, not expose-pods; refusing to touch it`,
    ExitCode.CONFLICT,
    'Choose another release name.',
  );
}

/** The release as `helm list` reports it; a missing release, or one of another chart, is a clear error. */
export async function findRelease(helm: Helm, release: string, target: KubeTarget): Promise<HelmReleaseView> {
  const out = await helmOrThrow(helm, 'list', listArgs(helm.version.major, release, target));
  const entry = (JSON.parse(out || '[]') as HelmListEntry[]).find((r) => r.name === release);
  if (!entry) throw releaseNotFound(release, target.namespace);
  if (!new RegExp(`^${CHART_NAME}-\\d`).test(entry.chart))
    throw notOurChart(release, target.namespace, entry.chart);
  return {
    name: entry.name,
    namespace: entry.namespace,
    revision: Number(entry.revision),
    status: entry.status,
    chart: entry.chart,
    appVersion: entry.app_version,
  };
}

/** `helm get values`: the values the user supplied (what a later upgrade must reuse), or all computed ones. */
export async function getValues(
  helm: Helm,
  release: string,
  target: KubeTarget,
  all: boolean,
): Promise<Record<string, unknown>> {
  const out = await helmOrThrow(helm, 'get values', [
    'get',
    'values',
    release,
    ...(all ? ['--all'] : []),
    '-o',
    'json',
    ...kubeArgs(target),
  ]);
  // A release installed without values prints null.
  const v = JSON.parse(out || 'null') as Record<string, unknown> | null;
  return v ?? {};
}

export interface HelmRevision {
  revision: number;
  status: string;
  description: string;
  /** When it was written, ms since the epoch (NaN if helm did not say). */
  updated: number;
}

/** The last revisions of the release, oldest first (`helm history`). */
export async function releaseHistory(
  helm: Helm,
  release: string,
  target: KubeTarget,
): Promise<HelmRevision[]> {
  const out = await helmOrThrow(helm, 'history', [
    'history',
    release,
    '--max',
    '20',
    '-o',
    'json',
    ...kubeArgs(target),
  ]);
  return (
    JSON.parse(out || '[]') as { revision: number; status: string; description?: string; updated?: string }[]
  ).map((r) => ({
    revision: r.revision,
    status: r.status,
    description: r.description ?? '',
    updated: Date.parse(r.updated ?? ''),
  }));
}

/** `helm get manifest`: the objects the release's last revision lists. */
export async function getManifest(helm: Helm, release: string, target: KubeTarget): Promise<string> {
  return helmOrThrow(helm, 'get manifest', ['get', 'manifest', release, ...kubeArgs(target)]);
}

/**
 * The revision an upgrade wrote, as helm reports it under the release's
 * status ("REVISION: 3", in Helm 3 and 4 alike); undefined when the output
 * does not say (the caller then reads it from the release's Secrets).
 */
export function upgradedRevision(output: string): number | undefined {
  const m = /^REVISION: (\d+)$/m.exec(output);
  return m ? Number(m[1]) : undefined;
}
