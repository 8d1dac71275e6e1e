import { gunzipSync } from 'node:zlib';

import { coalesceValues } from '../core/chart-values.js';
import type { HelmReleaseView } from '../core/status.js';
import { requireSecretDriver } from '../core/release.js';
import { ExitCode, ExposePodsError } from '../errors.js';
import { kubeApis, metadataItems } from './api.js';
import type { ResolvedKube } from './config.js';
import { KubeApiError } from './errors.js';

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
  /** The values the user supplied, as `helm get values` prints them: what a later upgrade reuses. */
  userValues: Record<string, unknown>;
  /** The objects the revision lists, as `helm get manifest` prints them. */
  manifest: string;
}

interface ReleasePayload {
  chart?: { metadata?: { name?: string; version?: string; appVersion?: string }; values?: unknown };
  config?: unknown;
  manifest?: string;
}

/**
 * The most a release may decompress to. Helm's own are far smaller (a release
 * Secret holds at most 1 MiB); anyone who may create a Secret could otherwise
 * make every `list -A` inflate gigabytes.
 */
export const MAX_RELEASE_BYTES = 32 * 1024 * 1024;

/** How many release Secrets are read at once. */
const READ_CONCURRENCY = 8;

/** A release that could not be read, and why; the command warns and goes on. */
export interface UnreadableRelease {
  namespace: string;
  name: string;
  reason: string;
}

/** Release Secrets as a metadata-only list names them: which release, which revision, its status. */
interface ReleaseSecretMeta {
  secret: string;
  namespace: string;
  name: string;
  revision: number;
  status: string;
}

/** The newest revision of each release among Helm's release Secrets (names and labels only). */
export function newestRevisions(
  items: { metadata?: { name?: string; namespace?: string; labels?: Record<string, string> } }[],
): ReleaseSecretMeta[] {
  const newest = new Map<string, ReleaseSecretMeta>();
  for (const s of items) {
    const labels = s.metadata?.labels ?? {};
    const revision = Number(labels.version);
    if (labels.owner !== 'helm' || !labels.name || !Number.isInteger(revision)) continue;
    const m = {
      secret: s.metadata?.name ?? '',
      namespace: s.metadata?.namespace ?? '',
      name: labels.name,
      revision,
      status: labels.status ?? 'unknown',
    };
    const key = `${m.namespace}/${m.name}`;
    const seen = newest.get(key);
    if (!seen || m.revision > seen.revision) newest.set(key, m);
  }
  return [...newest.values()];
}

/**
 * Helm's releases (release Secrets labelled owner=helm) in one namespace, or
 * in all, as `helm list` sees them: one metadata-only list (names and labels,
 * never the releases), then a GET of each release's newest revision only,
 * decoded within MAX_RELEASE_BYTES. A release that cannot be read is left out
 * and reported to `onUnreadable`.
 */
export async function listHelmReleases(
  kube: ResolvedKube,
  namespace?: string,
  onUnreadable: (r: UnreadableRelease) => void = () => undefined,
): Promise<HelmReleaseRecord[]> {
  requireSecretDriver();
  const metas = newestRevisions(await listReleaseSecrets(kube, namespace, 'owner=helm'));
  const out: (HelmReleaseRecord | undefined)[] = [];
  for (let i = 0; i < metas.length; i += READ_CONCURRENCY) {
    out.push(
      ...(await Promise.all(
        metas.slice(i, i + READ_CONCURRENCY).map((m) => readRevision(kube, m, onUnreadable)),
      )),
    );
  }
  return out.filter((r): r is HelmReleaseRecord => r !== undefined);
}

/**
 * One release, as `helm status` would find it: its newest revision, read as
 * listHelmReleases reads each. Undefined when it has no release Secret here.
 * An unreadable one is an error that says why.
 */
export async function readHelmRelease(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<HelmReleaseRecord | undefined> {
  requireSecretDriver();
  const [meta] = newestRevisions(await listReleaseSecrets(kube, namespace, `owner=helm,name=${release}`));
  if (!meta) return undefined;
  let why = '';
  const record = await readRevision(kube, meta, (u) => (why = u.reason));
  if (!record)
    throw new ExposePodsError(
      `release ${release} in namespace ${namespace}: its revision ${meta.revision} cannot be read (${why})`,
      ExitCode.ERROR,
      `Check it with: helm status ${release} -n ${namespace}`,
    );
  return record;
}

/** One revision of a release, by number (helm's Secret sh.helm.release.v1.NAME.vN); undefined when it is gone or unreadable. */
export async function readHelmRevision(
  kube: ResolvedKube,
  namespace: string,
  release: string,
  revision: number,
): Promise<HelmReleaseRecord | undefined> {
  requireSecretDriver();
  const secret = `sh.helm.release.v1.${release}.v${revision}`;
  return readRevision(kube, { secret, namespace, name: release, revision, status: '' }, () => undefined);
}

async function listReleaseSecrets(kube: ResolvedKube, namespace: string | undefined, labelSelector: string) {
  const { core, call, metadataOnly } = await kubeApis(kube);
  const list = namespace
    ? await call(
        `list secrets in namespace ${namespace}`,
        core.listNamespacedSecret({ namespace, labelSelector }, metadataOnly.list),
      )
    : await call(
        'list secrets in all namespaces',
        core.listSecretForAllNamespaces({ labelSelector }, metadataOnly.list),
      );
  return metadataItems(list);
}

async function readRevision(
  kube: ResolvedKube,
  m: ReleaseSecretMeta,
  onUnreadable: (r: UnreadableRelease) => void,
): Promise<HelmReleaseRecord | undefined> {
  const { core, call } = await kubeApis(kube);
  const secret = await call(
    `get secrets ${m.secret} in namespace ${m.namespace}`,
    core.readNamespacedSecret({ name: m.secret, namespace: m.namespace }),
  ).catch((e: unknown) => {
    // Deleted between the list and the read (an uninstall, helm's history limit): not a release now.
    if (e instanceof KubeApiError && e.httpCode === 404) return undefined;
    throw e;
  });
  if (!secret) return undefined;
  const decoded = decodeRelease(secret.data?.release);
  if ('problem' in decoded) {
    onUnreadable({ namespace: m.namespace, name: m.name, reason: decoded.problem });
    return undefined;
  }
  const payload = decoded.payload;
  return {
    name: m.name,
    namespace: m.namespace,
    revision: m.revision,
    status: m.status,
    chart: payload.chart?.metadata?.name ?? '',
    chartVersion: payload.chart?.metadata?.version ?? '',
    appVersion: payload.chart?.metadata?.appVersion ?? '',
    values: coalesceValues(payload.chart?.values, payload.config),
    userValues: isObject(payload.config) ? payload.config : {},
    manifest: payload.manifest ?? '',
  };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The release's newest revision and its status, from the names and labels of its release Secrets alone. */
export async function newestRevision(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<{ revision: number; status: string } | undefined> {
  const [meta] = newestRevisions(await listReleaseSecrets(kube, namespace, `owner=helm,name=${release}`));
  return meta && { revision: meta.revision, status: meta.status };
}

/**
 * A release Secret's payload: base64 (the Secret's encoding) of base64 of
 * gzip of JSON, inflated to at most `limit` bytes; or why it cannot be read.
 */
export function decodeRelease(
  data: string | undefined,
  limit = MAX_RELEASE_BYTES,
): { payload: ReleasePayload } | { problem: string } {
  if (!data) return { problem: 'it has no release data' };
  let json: Buffer;
  try {
    const inner = Buffer.from(Buffer.from(data, 'base64').toString('utf8'), 'base64');
    json = inner[0] === 0x1f && inner[1] === 0x8b ? gunzipSync(inner, { maxOutputLength: limit }) : inner;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE'
      ? { problem: `it inflates to more than ${limit / 1024 / 1024} MiB` }
      : { problem: `it is not gzip: ${(e as Error).message}` };
  }
  if (json.length > limit) return { problem: `it is more than ${limit / 1024 / 1024} MiB` };
  try {
    return { payload: JSON.parse(json.toString('utf8')) as ReleasePayload };
  } catch {
    return { problem: 'it is not JSON' };
  }
}

/** The namespaces' names: one list request. */
export async function listNamespaceNames(kube: ResolvedKube): Promise<string[]> {
  const { core, call } = await kubeApis(kube);
  const list = await call('list namespaces', core.listNamespace());
  return list.items.map((n) => n.metadata?.name ?? '').filter(Boolean);
}

/** The release as `status` and `list` show it: its chart as name-version, as `helm list` prints it. */
export function releaseViewOf(r: HelmReleaseRecord): HelmReleaseView {
  return {
    name: r.name,
    namespace: r.namespace,
    revision: r.revision,
    status: r.status,
    chart: `${r.chart}-${r.chartVersion}`,
    appVersion: r.appVersion,
  };
}
