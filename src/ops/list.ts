import { releaseValuesOf } from '../core/chart-values.js';
import { placementOf } from '../core/placement.js';
import { CHART_NAME } from '../core/release.js';
import { assessStatus, workloadOf, type StatusReport } from '../core/status.js';
import { readBudgetObjects, type BudgetObjects } from '../kube/budget-objects.js';
import { kubeApis } from '../kube/api.js';
import { loadKube, type KubeFlags, type ResolvedKube } from '../kube/config.js';
import { listHelmReleases, type HelmReleaseRecord } from '../kube/helm-releases.js';
import { ofRelease, readNamespaceRooms, type NamespaceRooms } from '../kube/namespace-rooms.js';
import { redisSecretOf, redisView } from '../kube/release-objects.js';
import { endpointViews, podView, serviceView } from '../kube/views.js';

export interface ListRequest {
  kube: KubeFlags;
  /** Every namespace (-A); otherwise the one of -n or the context. */
  allNamespaces: boolean;
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
  /** Its per-pod Services. */
  services: number;
  /** The lowest and highest nodePort its Services hold; null when they hold none. */
  nodePorts: { first: number; last: number } | null;
  /** Redis: ready, not ready, or off. */
  redis: 'ready' | 'not ready' | 'off';
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

/** One release's status, from its namespace's objects and the cluster's, with no helm process. */
function statusOf(
  r: HelmReleaseRecord,
  rooms: NamespaceRooms,
  cluster: BudgetObjects,
  secretPresent: (name: string) => boolean,
): StatusReport {
  const sets = ofRelease(rooms.statefulSets, r.name, 'room');
  const sts = sets[0];
  const pods = ofRelease(rooms.pods, r.name, 'room').map(podView);
  const services = ofRelease(rooms.services, r.name, 'pod-service').map(serviceView);
  const values = releaseValuesOf(r.values);
  const dep = ofRelease(rooms.deployments, r.name, 'redis')[0];
  const claimName = dep?.spec?.template.spec?.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim
    ?.claimName;
  return assessStatus({
    release: {
      name: r.name,
      namespace: r.namespace,
      revision: r.revision,
      status: r.status,
      chart: `${r.chart}-${r.chartVersion}`,
      appVersion: r.appVersion,
    },
    values,
    workload: workloadOf(
      sts?.metadata?.name,
      [...pods, ...services].map((o) => o.name),
      r.name,
    ),
    statefulSet: sts && {
      replicas: sts.spec?.replicas ?? 0,
      readyReplicas: sts.status?.readyReplicas ?? 0,
      currentReplicas: sts.status?.currentReplicas ?? sts.status?.replicas ?? 0,
    },
    pods,
    services,
    endpoints: ofRelease(rooms.endpointSlices, r.name, 'pod-service').flatMap(endpointViews),
    nodes: cluster.nodes,
    allServices: cluster.allServices,
    boundPerNode: cluster.boundPerNode,
    serviceIPs: cluster.serviceIPs,
    placement: placementOf(sts?.spec?.template),
    redis:
      dep &&
      redisView(
        dep,
        ofRelease(rooms.pods, r.name, 'redis'),
        secretPresent(redisSecretOf(dep) ?? ''),
        rooms.claims.find((c) => c.metadata?.name === claimName),
      ),
    redisExpected: values.redisEnabled,
  });
}

/** A Secret the chart did not make (existingSecret): one GET, only for the releases that name one. */
async function otherSecrets(
  kube: ResolvedKube,
  rooms: NamespaceRooms,
  names: string[],
): Promise<Set<string>> {
  const { core } = await kubeApis(kube);
  const found = new Set<string>();
  await Promise.all(
    names
      .filter((n) => n && !rooms.secretNames.has(n))
      .map(async (name) => {
        try {
          await core.readNamespacedSecret({ namespace: rooms.namespace, name });
          found.add(name);
        } catch {
          // Missing or unreadable: status calls it missing too.
        }
      }),
  );
  return found;
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
 * that has a release, whatever the number of rooms; no helm process.
 */
export async function listReleases(req: ListRequest): Promise<ListReport> {
  const kube = await loadKube(req.kube);
  const namespace = req.allNamespaces ? undefined : kube.namespace;
  const releases = (await listHelmReleases(kube, namespace)).filter((r) => r.chart === CHART_NAME);
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
      const wanted = ofRelease(rooms.deployments, r.name, 'redis').map((d) => redisSecretOf(d) ?? '');
      const others = await otherSecrets(kube, rooms, wanted);
      const report = statusOf(r, rooms, cluster, (n) => rooms.secretNames.has(n) || others.has(n));
      return listed(report, ofRelease(rooms.services, r.name, 'pod-service').length);
    }),
  );
  rows.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  return { schemaVersion: 1, namespace: namespace ?? null, releases: rows };
}
