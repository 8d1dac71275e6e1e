import {
  byOrdinal,
  type EndpointView,
  type NodeView,
  type PodView,
  type RedisView,
  type ServiceView,
} from './model.js';
import {
  BUDGET_WARN_PERCENT,
  clusterBudget,
  nodePortHolders,
  nodePortsOf,
  type CidrUsage,
  type NodePortBudget,
  type PodSlotBudget,
  type ServiceCIDRView,
  type Usage,
} from './budget.js';
import { DEFAULT_ADDRESS_TYPES, resolveEndpointRows, type Endpoint } from './endpoints.js';
import type { Placement } from './placement.js';
import { CHART_NAME } from './release.js';
import { countRooms, shortAge, type RoomCounts, type RoomState } from './rooms.js';
import { isOutdated, rolloutPlanOf, type RolloutSet } from './rollout.js';
import { plannedNodePort } from './scale.js';

/** What Helm says about the release. */
export interface HelmReleaseView {
  name: string;
  namespace: string;
  revision: number;
  status: string;
  chart: string;
  appVersion: string;
}

/** The values that decide what the release should look like (from `helm get values --all`). */
export interface ReleaseValues {
  replicas: number;
  exposeCount: number;
  nodePortBase?: number;
  /** expose.nodePorts, which overrides the base when set. */
  nodePorts?: number[];
  redisEnabled: boolean;
}

export interface StatusSnapshot {
  release: HelmReleaseView;
  values: ReleaseValues;
  /** The StatefulSet's name (also the pod and per-pod Service prefix). */
  workload: string;
  statefulSet?: {
    replicas: number;
    readyReplicas: number;
    currentReplicas: number;
    updateRevision?: string;
    observed?: boolean;
    updateStrategy?: string;
  };
  pods: PodView[];
  /** The release's own per-pod Services. */
  services: ServiceView[];
  endpoints: EndpointView[];
  nodes: NodeView[];
  /** Every Service in the cluster; undefined when RBAC forbids listing them: no collision check and no NodePort budget. */
  allServices?: ServiceView[];
  /** Pods holding a slot on each node, in every namespace; undefined when RBAC forbids listing them. */
  boundPerNode?: ReadonlyMap<string, number>;
  /** The ServiceCIDRs and allocated IPs, or why they are unknown. */
  serviceIPs?: { cidrs: ServiceCIDRView[]; addresses: string[] } | { unknown: string };
  /** Where the rooms may be scheduled (the StatefulSet's template). */
  placement?: Placement;
  redis?: RedisView;
  /** The release enables Redis, so its absence is a problem. */
  redisExpected: boolean;
  /** Now, in ms since the epoch: the age of allocations. Default Date.now() at the call. */
  now?: number;
}

export interface OrdinalStatus {
  ordinal: number;
  pod: string;
  phase: string;
  ready: boolean;
  node: string;
  service: string;
  serviceExists: boolean;
  endpointReady: boolean;
  nodePort?: number;
  /** Free, Allocated, Draining or Cordoned (rooms in use, core/rooms.ts); null for a Service with no pod (no room). */
  state: RoomState | null;
}

export interface Problem {
  kind:
    | 'ReleaseNotDeployed'
    | 'WorkloadMissing'
    | 'PodNotReady'
    | 'PodWithoutService'
    | 'ServiceWithoutPod'
    | 'NodeWithoutAddress'
    | 'NodePortCollision'
    | 'LBHealthCheckFails'
    | 'ReplicasDrift'
    | 'RedisNotReady'
    | 'RedisPvcNotBound'
    | 'RedisSecretMissing'
    | 'StaleAllocation'
    | 'RolloutStalled';
  message: string;
  /** The room it is about, for the kinds that are per ordinal: what the grouped view summarises by range. */
  ordinal?: number;
  /** PodNotReady: why (the pod's reason, or its phase). */
  reason?: string;
}

export interface StatusReport {
  schemaVersion: 1;
  release: HelmReleaseView;
  replicas: { desired: number; current: number; ready: number; inRelease: number };
  ordinals: OrdinalStatus[];
  /** Rooms per state: free counts only rooms a match could be given now. */
  rooms: RoomCounts;
  redis?: { ready: boolean; pvc: string; secret: boolean };
  problems: Problem[];
  /** Expected conditions worth knowing, which do not make the release unhealthy. */
  notes: string[];
  /** The cluster-wide ceilings, with what this release holds of each. */
  budget: StatusBudget;
  /** The rooms by the StatefulSet's revisions; absent without a StatefulSet. */
  rollout?: RolloutStatus;
  /** The release's autoscaler, from its Lease: null when none runs; absent when the Lease may not be read. */
  autoscaler?: AutoscalerStatus | null;
  healthy: boolean;
}

/** An autoscaler as its Lease shows it (kubectl expose-pods autoscale). Part of the -o json schema. */
export interface AutoscalerStatus {
  /** Renewed within its duration, by this machine's clock: a holder that died lapses within 30 s. */
  active: boolean;
  /** Who runs it: kubectl-expose-pods/host/pid/token. */
  holder: string;
  /** Its settings; null when the Lease carries none readable. */
  policy: { buffer: string; min: number; max: number; scaleDownDelaySeconds: number; lead?: boolean } | null;
  /** ISO 8601, or null. */
  since: string | null;
  renewedAt: string | null;
}

/** The autoscaler from its Lease's fields, judged at `now` (ms): active while renewed within its duration. */
export function autoscalerStatusOf(
  lease: { holder?: string; policy?: string; acquired?: Date; renewed?: Date; durationSeconds?: number },
  now: number,
): AutoscalerStatus {
  let policy: AutoscalerStatus['policy'] = null;
  try {
    const p = JSON.parse(lease.policy ?? '') as AutoscalerStatus['policy'];
    if (p && typeof p.buffer === 'string' && typeof p.max === 'number') policy = p;
  } catch {
    // An older or foreign annotation: the settings are unknown.
  }
  const renewed = lease.renewed?.getTime();
  return {
    active: renewed !== undefined && now - renewed <= (lease.durationSeconds ?? 30) * 1000,
    holder: lease.holder ?? 'unknown',
    policy,
    since: lease.acquired?.toISOString() ?? null,
    renewedAt: lease.renewed?.toISOString() ?? null,
  };
}

/** Where a rollout stands: rooms on the update revision, and those still on older ones. Part of the -o json schema. */
export interface RolloutStatus {
  strategy: string;
  /** status.updateRevision: the revision new rooms are made from. */
  revision: string | null;
  /** Rooms Ready on the update revision, of the replicas. */
  updated: number;
  total: number;
  /** Free rooms on an older revision: the rollout replaces them; allocate skips them. */
  outdatedFree: string[];
  /** Rooms in use on an older revision: kept until their match ends. */
  inUseOutdated: string[];
  /** Cordoned rooms on an older revision: kept on it until uncordoned. */
  cordonedOutdated: string[];
  /** A room is being replaced or started now. */
  inProgress: boolean;
}

/**
 * The budgets every release in the cluster shares, each with `release`, what
 * this release holds of it. A part is missing (or unknown) when it cannot be read.
 */
export interface StatusBudget {
  nodePorts?: NodePortBudget & { release: number };
  clusterIPs:
    (Usage & { family: 'IPv4' | 'IPv6'; cidrs: CidrUsage[]; release: number }) | { unknown: string };
  podSlots?: PodSlotBudget & { release: number };
}

/** The address types `endpoints` can hand out by default: a node with none of them serves no room. */
const USABLE_ADDRESS = new Set<string>(DEFAULT_ADDRESS_TYPES);

/**
 * The StatefulSet's name, which prefixes the pods and per-pod Services. When
 * the StatefulSet is gone, the name its pods or Services still carry, and
 * failing those the chart's own rule (the release name, suffixed with the
 * chart's unless it already contains it), so that rows never read "-0".
 */
export function workloadOf(
  statefulSet: string | undefined,
  names: readonly string[],
  release: string,
): string {
  if (statefulSet) return statefulSet;
  for (const n of names) {
    const m = /^(.+)-(0|[1-9]\d*)$/.exec(n);
    if (m?.[1]) return m[1];
  }
  return release.includes(CHART_NAME) ? release : `${release}-${CHART_NAME}`;
}

/** Judges a release from a snapshot of the cluster: pure, so every rule is table-tested. */
export function assessStatus(s: StatusSnapshot): StatusReport {
  const desired = s.statefulSet?.replicas ?? 0;
  const rooms = assessOrdinals(s, desired);
  const rows = endpointRows(s, desired);
  const redis = assessRedis(s);
  const problems = [
    ...releaseProblems(s, desired),
    ...rooms.problems,
    ...staleAllocations(s, rows),
    ...collisionProblems(s),
    ...loadBalancerProblems(s, rooms.services, desired),
    ...redis.problems,
  ];
  const rollout = rolloutStatus(s);
  if (rollout?.strategy === 'OnDelete' && rollout.outdatedFree.length && !rollout.inProgress)
    problems.push({
      kind: 'RolloutStalled',
      message: `${rollout.outdatedFree.length} Free room(s) run an older revision than the StatefulSet's (${rollout.revision ?? '?'}) and take no match, with nothing replacing them: run kubectl expose-pods rollout ${s.release.name} -n ${s.release.namespace}`,
    });
  const budget = statusBudget(s);
  return {
    schemaVersion: 1,
    release: s.release,
    replicas: {
      desired,
      current: s.statefulSet?.currentReplicas ?? 0,
      ready: s.statefulSet?.readyReplicas ?? 0,
      inRelease: s.values.replicas,
    },
    ordinals: rooms.ordinals.map((o) => ({ ...o, state: rows[o.ordinal]?.state ?? null })),
    rooms: countRooms(rows),
    redis: redis.report,
    problems,
    notes: [...rooms.notes, ...budgetNotes(budget)],
    budget,
    ...(rollout ? { rollout } : {}),
    healthy: problems.length === 0,
  };
}

/** The rooms by revision, from the StatefulSet and its pods (core/rollout.ts decides what is outdated). */
function rolloutStatus(s: StatusSnapshot): RolloutStatus | undefined {
  const sts = s.statefulSet;
  if (!sts) return undefined;
  const set: RolloutSet = {
    workload: s.workload,
    replicas: sts.replicas,
    updateRevision: sts.updateRevision,
    observed: sts.observed ?? true,
    strategy: sts.updateStrategy ?? 'RollingUpdate',
  };
  const plan = rolloutPlanOf(set, s.pods);
  const live = byOrdinal(s.pods, s.workload);
  const starting = [...live.entries()].some(
    ([n, p]) => n < sts.replicas && (p.terminating || (!p.ready && !isOutdated(p, sts.updateRevision))),
  );
  return {
    strategy: set.strategy,
    revision: sts.updateRevision ?? null,
    updated: plan.updated,
    total: sts.replicas,
    outdatedFree: plan.replace,
    inUseOutdated: plan.inUse,
    cordonedOutdated: plan.cordoned,
    inProgress: starting || live.size < sts.replicas || plan.waitingForController,
  };
}

/** The rooms as `endpoints` resolves them, by the same rule: their states and whether a match could be given each. */
function endpointRows(s: StatusSnapshot, desired: number): Endpoint[] {
  return resolveEndpointRows({
    namespace: s.release.namespace,
    workload: s.workload,
    headless: s.workload,
    replicas: desired,
    updateRevision: s.statefulSet?.updateRevision,
    pods: s.pods,
    services: s.services,
    nodes: s.nodes,
    addressTypes: DEFAULT_ADDRESS_TYPES,
  });
}

/**
 * Allocated rooms whose container restarted since they were allocated: the
 * process that had the match is gone, the mark is not, so the room is taken
 * for good (and cannot be evicted) until someone frees it.
 */
function staleAllocations(s: StatusSnapshot, rows: readonly Endpoint[]): Problem[] {
  const now = s.now ?? Date.now();
  const ns = s.release.namespace;
  return rows
    .filter((r) => r.allocation?.stale)
    .map((r) => {
      const at = r.allocation?.allocatedAt;
      const age = at ? shortAge(now - new Date(at).getTime()) : undefined;
      return {
        kind: 'StaleAllocation' as const,
        message: `room ${r.pod} is Allocated${age ? ` for ${age}` : ''}, but its container restarted since, so its match is gone: free it with kubectl expose-pods deallocate ${s.release.name} ${r.pod} -n ${ns}`,
        ordinal: r.ordinal,
      };
    });
}

/** The release as Helm and its StatefulSet see it: not deployed, StatefulSet gone, replicas changed outside Helm. */
function releaseProblems(s: StatusSnapshot, desired: number): Problem[] {
  const problems: Problem[] = [];
  if (s.release.status !== 'deployed') {
    problems.push({
      kind: 'ReleaseNotDeployed',
      message: `Helm release ${s.release.name} is ${s.release.status}, not deployed`,
    });
  }
  if (!s.statefulSet) {
    problems.push({
      kind: 'WorkloadMissing',
      message: `the release's StatefulSet is missing (deleted outside Helm?); run kubectl expose-pods install again`,
    });
  }
  if (s.statefulSet && desired !== s.values.replicas) {
    problems.push({
      kind: 'ReplicasDrift',
      message: `StatefulSet ${s.workload} has ${desired} replicas but the release says ${s.values.replicas} (changed outside Helm: kubectl scale or an HPA); the next helm upgrade sets it back to ${s.values.replicas}`,
    });
  }
  return problems;
}

/** What assessOrdinals finds: the rows (their STATE comes from the endpoint rows), problems, notes, Services by ordinal. */
interface OrdinalsAssessment {
  ordinals: Omit<OrdinalStatus, 'state'>[];
  problems: Problem[];
  notes: string[];
  services: Map<number, ServiceView>;
}

/**
 * One row per ordinal (pod, node, Service, endpoint), and what is wrong with
 * each room: a pod not ready, a pod without a Service, a Service without a pod
 * (a note when expose.count reserves it on purpose), a node without an address.
 */
function assessOrdinals(s: StatusSnapshot, desired: number): OrdinalsAssessment {
  const wl = s.workload;
  const problems: Problem[] = [];
  const notes: string[] = [];
  const pods = byOrdinal(s.pods, wl);
  const services = byOrdinal(
    s.services.filter((svc) => svc.selectsPod),
    wl,
  );
  const readyEndpoint = new Set(
    s.endpoints.filter((e) => e.ready && e.addresses.length > 0).map((e) => e.service),
  );
  const nodes = new Map(s.nodes.map((n) => [n.name, n]));
  const span = Math.max(
    desired,
    s.values.exposeCount,
    ...[...pods.keys(), ...services.keys()].map((n) => n + 1),
  );
  const ordinals: Omit<OrdinalStatus, 'state'>[] = [];
  const nodesWithoutAddress = new Set<string>();
  for (let n = 0; n < span; n++) {
    const pod = pods.get(n);
    const svc = services.get(n);
    const podName = `${wl}-${n}`;
    ordinals.push({
      ordinal: n,
      pod: podName,
      phase: pod ? (pod.terminating ? 'Terminating' : pod.phase) : '-',
      ready: pod?.ready ?? false,
      node: pod?.nodeName ?? '-',
      service: svc?.name ?? '-',
      serviceExists: svc !== undefined,
      endpointReady: svc ? readyEndpoint.has(svc.name) : false,
      nodePort: svc?.ports[0]?.nodePort,
    });
    if (pod && !pod.ready) {
      const reason = pod.reason ?? pod.phase;
      problems.push({
        kind: 'PodNotReady',
        message: `pod ${podName} is not ready (${reason})`,
        ordinal: n,
        reason,
      });
    }
    if (pod && !svc) {
      problems.push({
        kind: 'PodWithoutService',
        message: `pod ${podName} has no per-pod Service, so clients cannot reach it from outside (kubectl scale or an HPA adds pods, never Services)`,
        ordinal: n,
      });
    }
    if (svc && !pod && n >= desired) {
      if (s.statefulSet && n < s.values.exposeCount && desired === s.values.replicas) {
        // Configured on purpose: expose.count above room.replicas reserves ports for scaling up.
        notes.push(
          `Service ${svc.name} has no pod yet (expose.count ${s.values.exposeCount} > room.replicas ${s.values.replicas}): connection refused until you scale up`,
        );
      } else {
        problems.push({
          kind: 'ServiceWithoutPod',
          message: `Service ${svc.name} has no pod behind it: clients get connection refused`,
          ordinal: n,
        });
      }
    }
    const node = pod?.nodeName ? nodes.get(pod.nodeName) : undefined;
    if (node && !node.addresses.some((a) => USABLE_ADDRESS.has(a.type))) nodesWithoutAddress.add(node.name);
  }
  for (const name of nodesWithoutAddress) {
    problems.push({
      kind: 'NodeWithoutAddress',
      message: `node ${name} hosts rooms but has no ExternalIP, ExternalDNS, InternalIP or InternalDNS address`,
    });
  }
  return { ordinals, problems, notes, services };
}

/** A nodePort the release expects but another Service holds: ours could not be created. */
function collisionProblems(s: StatusSnapshot): Problem[] {
  if (s.values.nodePortBase === undefined && !s.values.nodePorts?.length) return [];
  // Every holder counts here, the release's own included: only ordinal n's own Service may hold its port.
  const holders = nodePortHolders(s.allServices ?? [], () => false);
  const problems: Problem[] = [];
  for (let n = 0; n < s.values.exposeCount; n++) {
    // The port the chart gives ordinal n: the same rule scale's plan uses.
    const port = plannedNodePort(n, s.values);
    const holder = port === null ? undefined : holders.get(port);
    if (port === null || !holder) continue;
    if (holder.namespace === s.release.namespace && holder.name === `${s.workload}-${n}`) continue;
    problems.push({
      kind: 'NodePortCollision',
      message: `nodePort ${port} (ordinal ${n}) is taken by Service ${holder.namespace}/${holder.name}${holder.release ? ` of release ${holder.release}` : ''}`,
      ordinal: n,
    });
  }
  return problems;
}

/** Redis, when the release enables it: its pod, PVC and Secret. */
function assessRedis(s: StatusSnapshot): { report?: StatusReport['redis']; problems: Problem[] } {
  if (!s.redisExpected) return { problems: [] };
  if (!s.redis)
    return { problems: [{ kind: 'RedisNotReady', message: "the release's Redis Deployment is missing" }] };
  const r = s.redis;
  const problems: Problem[] = [];
  if (!r.podReady) problems.push({ kind: 'RedisNotReady', message: 'the Redis pod is not ready' });
  if (r.pvcExpected && r.pvc?.phase !== 'Bound') {
    problems.push({
      kind: 'RedisPvcNotBound',
      message: `the Redis PVC is ${r.pvc?.phase ?? 'missing'}, not Bound`,
    });
  }
  if (!r.secretPresent) {
    problems.push({
      kind: 'RedisSecretMissing',
      message: `the Redis Secret ${r.secretName} is missing: Redis cannot start`,
    });
  }
  return {
    report: {
      ready: r.podReady,
      pvc: r.pvc?.phase ?? (r.pvcExpected ? 'Missing' : 'none'),
      secret: r.secretPresent,
    },
    problems,
  };
}

/** The cluster's budgets, and what this release holds of each. */
function statusBudget(s: StatusSnapshot): StatusBudget {
  const b = clusterBudget(
    {
      nodes: s.nodes,
      allServices: s.allServices,
      boundPerNode: s.boundPerNode,
      serviceIPs: s.serviceIPs ?? { unknown: 'not read' },
    },
    s.placement,
  );
  const ours = (s.allServices ?? s.services).filter(
    (v) => v.namespace === s.release.namespace && v.release === s.release.name,
  );
  const family = 'unknown' in b.clusterIPs ? undefined : b.clusterIPs.family;
  return {
    ...(b.nodePorts && {
      nodePorts: { ...b.nodePorts, release: s.services.reduce((n, v) => n + nodePortsOf(v).length, 0) },
    }),
    clusterIPs:
      'unknown' in b.clusterIPs
        ? b.clusterIPs
        : {
            ...b.clusterIPs,
            release: ours
              .flatMap((v) => v.clusterIPs ?? [])
              .filter((ip) => (family === 'IPv6' ? ip.includes(':') : !ip.includes(':'))).length,
          },
    ...(b.podSlots && {
      podSlots: { ...b.podSlots, release: s.pods.filter((p) => p.nodeName && !p.terminating).length },
    }),
  };
}

/** A note for each budget used BUDGET_WARN_PERCENT or more. */
function budgetNotes(b: StatusBudget): string[] {
  const notes: string[] = [];
  const n = b.nodePorts;
  if (n && n.usedPercent >= BUDGET_WARN_PERCENT) {
    notes.push(
      `the NodePort range ${n.range.first}-${n.range.last} is ${n.usedPercent}% used (${n.used} of ${n.total}, by every Service in the cluster): ${n.free} left, the largest block ${n.largestFreeBlock?.size ?? 0}. Each per-pod NodePort Service takes one; LoadBalancer rooms with Local take a second (the health check).`,
    );
  }
  const c = b.clusterIPs;
  if (!('unknown' in c) && c.usedPercent >= BUDGET_WARN_PERCENT) {
    notes.push(
      `the Service ${c.family} range (${c.cidrs.map((x) => x.cidr).join(', ')}) is ${c.usedPercent}% used (${c.used} of ${c.total} ClusterIPs): ${c.free} left. Every per-pod Service takes one; a cluster admin can add a ServiceCIDR.`,
    );
  }
  const p = b.podSlots;
  if (p && p.usedPercent >= BUDGET_WARN_PERCENT) {
    notes.push(
      `the ${p.nodes} node(s) the rooms can use have ${p.usedPercent}% of their pod slots taken (${p.used} of ${p.total}): ${p.free} left for new rooms.`,
    );
  }
  return notes;
}

/**
 * A LoadBalancer with externalTrafficPolicy Local sends traffic only to nodes
 * that pass its health check, and kube-proxy passes it (healthCheckNodePort,
 * /healthz) only on a node with a ready endpoint of the Service. A room that
 * should be serving but has no ready endpoint on a Ready node gets nothing from
 * its load balancer: every node fails the check (the local data plane shows it).
 */
function loadBalancerProblems(
  s: StatusSnapshot,
  svcByOrdinal: Map<number, ServiceView>,
  desired: number,
): Problem[] {
  const readyNodes = new Set(s.nodes.filter((n) => n.ready).map((n) => n.name));
  const healthy = new Set(
    s.endpoints
      .filter((e) => e.ready && e.addresses.length > 0 && e.nodeName && readyNodes.has(e.nodeName))
      .map((e) => e.service),
  );
  const out: Problem[] = [];
  for (const [n, svc] of svcByOrdinal) {
    if (n >= desired || svc.type !== 'LoadBalancer' || svc.externalTrafficPolicy !== 'Local') continue;
    if (healthy.has(svc.name)) continue;
    out.push({
      kind: 'LBHealthCheckFails',
      message: `Service ${svc.name} is a LoadBalancer with externalTrafficPolicy Local and no ready pod on a Ready node: its health check${svc.healthCheckNodePort ? ` (nodePort ${svc.healthCheckNodePort}, /healthz)` : ''} fails on every node, so the load balancer sends this room nothing`,
      ordinal: n,
    });
  }
  return out;
}
