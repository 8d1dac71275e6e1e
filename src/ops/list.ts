import type { RoomCounts } from '../core/rooms.js';
import { releaseValuesOf } from '../core/chart-values.js';
import { CHART_NAME } from '../core/release.js';
import { assessStatus, type RolloutStatus, type StatusReport } from '../core/status.js';
import { readBudgetObjects } from '../kube/reader.js';
import { loadKube, type KubeFlags } from '../kube/config.js';
import { listHelmReleases, releaseViewOf } from '../kube/helm-releases.js';
import { readNamespaceRooms, releaseObjectsOf } from '../kube/reader.js';
import { statusSnapshot } from './status.js';

export interface ListRequest {
  kube: KubeFlags;
  /** Every namespace (-A); otherwise the one of -n or the context. */
  allNamespaces: boolean;
  /** Told about each release that could not be read (left out of the list). */
  warn?: (message: string) => void;
}

/** One release of the chart, as `list` shows it. */
export interface ListedRelease {
  namespace: string;
  name: string;
  revision: number;
  /** Helm's status: deployed, failed, pending-upgrade, ... */
  status: string;
  chart: string;
  replicas: { desired: number; ready: number };
  /** Its rooms per state, as status counts them. */
  rooms: RoomCounts;
  /** Its per-pod Services. */
  services: number;
  /** The lowest and highest nodePort its Services hold; null when they hold none. */
  nodePorts: { first: number; last: number } | null;
  /** Redis: ready, not ready, or off. */
  redis: 'ready' | 'not ready' | 'off';
  /** The rooms by revision (absent without a StatefulSet), as status shows them. */
  rollout?: RolloutStatus;
  /** The same verdict as `status`. */
  healthy: boolean;
  /** What makes it degraded: each kind of problem once, with its count (status has the detail). */
  problems: string[];
}

export interface ListReport {
  schemaVersion: 1;
  /** The namespace listed, or null for all. */
  namespace: string | null;
  releases: ListedRelease[];
}

/** Each kind of problem once, with how many: "ServiceWithoutPod (3)". */
function problemKinds(report: StatusReport): string[] {
  const counts = new Map<string, number>();
  for (const p of report.problems) counts.set(p.kind, (counts.get(p.kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => (n > 1 ? `${kind} (${n})` : kind));
}

/** What `list` shows of one release's status. */
function listed(report: StatusReport, services: number): ListedRelease {
  const ports = report.ordinals.map((o) => o.nodePort).filter((p): p is number => p !== undefined);
  return {
    namespace: report.release.namespace,
    name: report.release.name,
    revision: report.release.revision,
    status: report.release.status,
    chart: report.release.chart,
    replicas: { desired: report.replicas.desired, ready: report.replicas.ready },
    rooms: report.rooms,
    ...(report.rollout ? { rollout: report.rollout } : {}),
    services,
    nodePorts: ports.length ? { first: Math.min(...ports), last: Math.max(...ports) } : null,
    redis: report.redis ? (report.redis.ready ? 'ready' : 'not ready') : 'off',
    healthy: report.healthy,
    problems: problemKinds(report),
  };
}

/**
 * list: every release of this chart, in one namespace or all, each with the
 * verdict `status` gives it. Requests: one list of Helm's release Secrets,
 * the cluster-wide lists of the budgets once, and seven lists per namespace
 * that has a release, whatever the number of rooms; no helm process. Helm's
 * Secrets are listed as metadata, and only each release's newest revision is read.
 */
export async function listReleases(req: ListRequest): Promise<ListReport> {
  const kube = await loadKube(req.kube);
  const namespace = req.allNamespaces ? undefined : kube.namespace;
  const releases = (
    await listHelmReleases(kube, namespace, (u) =>
      req.warn?.(
        `skipped release ${u.name} in namespace ${u.namespace}: its newest revision cannot be read (${u.reason})`,
      ),
    )
  ).filter((r) => r.chart === CHART_NAME);
  const namespaces = [...new Set(releases.map((r) => r.namespace))].sort();
  const [cluster, ...perNamespace] = await Promise.all([
    readBudgetObjects(kube),
    ...namespaces.map((ns) => readNamespaceRooms(kube, ns)),
  ]);
  const roomsOf = new Map(perNamespace.map((rooms) => [rooms.namespace, rooms]));
  const rows = await Promise.all(
    releases.map(async (r) => {
      const rooms = roomsOf.get(r.namespace);
      if (!rooms) throw new Error(`no objects read for namespace ${r.namespace}`);
      const objects = await releaseObjectsOf(kube, rooms, r.name, cluster);
      const report = assessStatus(statusSnapshot(releaseViewOf(r), releaseValuesOf(r.values), objects));
      return listed(report, objects.services.length);
    }),
  );
  rows.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  return { schemaVersion: 1, namespace: namespace ?? null, releases: rows };
}
