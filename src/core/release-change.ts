/**
 * What a change to a release does, worked out before anything is written:
 * the values that change, what happens to pods and per-pod Services (from the
 * release's manifest now and the one the change renders), and the pre-flight
 * checks against the cluster (nodePorts, pod slots). Pure: the mutation path
 * in ops/ feeds it plain objects.
 */
import {
  DEFAULT_NODE_PORT_RANGE,
  leftOutPhrase,
  nodePortHolders,
  type BudgetDelta,
  type PodSlotBudget,
} from './budget.js';
import { inUsePhrase } from './rooms.js';
import { byOrdinal, ordinalOf, type PodView, type ServiceView } from './model.js';
import { CHART_NAME } from './release.js';
import { ExitCode, ExposePodsError } from '../errors.js';

/** One rendered object of a Helm manifest, as parsed YAML. */
export interface ManifestObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  [key: string]: unknown;
}

/** The parts of a manifest a change plan looks at. */
export interface ManifestView {
  statefulSet?: {
    name: string;
    replicas: number;
    template: unknown;
    claimTemplates: string[];
    podManagementPolicy: string;
    /** spec.updateStrategy.type: OnDelete (rooms are replaced by the rollout, never in use) or RollingUpdate (the controller restarts them all). */
    updateStrategy: string;
  };
  /** Deployments (the chart's Redis), by name, with their pod template. */
  deployments: { name: string; template: unknown }[];
  /**
   * Per-pod and other Services, with the nodePorts the manifest fixes (not those
   * Kubernetes assigns), how many ports it has, whether it takes a ClusterIP
   * (not headless), and whether it takes a health-check nodePort (LoadBalancer with Local).
   */
  services: {
    name: string;
    type: string;
    nodePorts: number[];
    portCount: number;
    takesClusterIP: boolean;
    healthCheck: boolean;
  }[];
  /** PersistentVolumeClaims the manifest itself creates (Redis). */
  pvcs: string[];
  /** Secrets the manifest itself creates (the Redis password, unless redis.auth.existingSecret). */
  secrets: string[];
}

/** Reads a manifest's objects into the view a plan needs. */
export function manifestView(objects: ManifestObject[]): ManifestView {
  const view: ManifestView = { deployments: [], services: [], pvcs: [], secrets: [] };
  for (const o of objects) {
    const name = o.metadata?.name ?? '';
    const spec = (o.spec ?? {}) as {
      replicas?: number;
      template?: unknown;
      podManagementPolicy?: string;
      updateStrategy?: { type?: string };
      type?: string;
      clusterIP?: string;
      externalTrafficPolicy?: string;
      allocateLoadBalancerNodePorts?: boolean;
      ports?: { nodePort?: number | null }[];
      volumeClaimTemplates?: { metadata?: { name?: string } }[];
    };
    if (o.kind === 'StatefulSet') {
      view.statefulSet = {
        name,
        replicas: spec.replicas ?? 1,
        template: spec.template,
        claimTemplates: (spec.volumeClaimTemplates ?? []).map((t) => t.metadata?.name ?? '').filter(Boolean),
        podManagementPolicy: spec.podManagementPolicy ?? 'OrderedReady',
        updateStrategy: spec.updateStrategy?.type ?? 'RollingUpdate',
      };
    } else if (o.kind === 'Deployment') {
      view.deployments.push({ name, template: spec.template });
    } else if (o.kind === 'Service') {
      const type = spec.type ?? 'ClusterIP';
      view.services.push({
        name,
        type,
        nodePorts: (spec.ports ?? [])
          .map((p) => p.nodePort)
          .filter((p): p is number => typeof p === 'number'),
        portCount: (spec.ports ?? []).length,
        takesClusterIP: type !== 'ExternalName' && spec.clusterIP !== 'None',
        healthCheck: type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local',
      });
    } else if (o.kind === 'PersistentVolumeClaim') {
      view.pvcs.push(name);
    } else if (o.kind === 'Secret') {
      view.secrets.push(name);
    }
  }
  return view;
}

/** One value that a change sets, changes or removes, by its dotted path. */
export interface ValueChange {
  path: string;
  from?: unknown;
  to?: unknown;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function flatten(v: unknown, prefix: string, out: Map<string, unknown>): void {
  if (isObject(v) && Object.keys(v).length) {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out.set(prefix, v);
  }
}

/** The user-supplied values that differ between two releases, sorted by path. */
export function diffValues(before: Record<string, unknown>, after: Record<string, unknown>): ValueChange[] {
  const a = new Map<string, unknown>();
  const b = new Map<string, unknown>();
  flatten(before, '', a);
  flatten(after, '', b);
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  const changes: ValueChange[] = [];
  for (const p of paths) {
    const from = a.get(p);
    const to = b.get(p);
    if (JSON.stringify(from) === JSON.stringify(to)) continue;
    changes.push({ path: p, ...(a.has(p) ? { from } : {}), ...(b.has(p) ? { to } : {}) });
  }
  return changes;
}

/** What a change does to the release's pods and Services. */
export interface ReleaseChangePlan {
  values: ValueChange[];
  replicas?: { from: number; to: number };
  /** Pods the StatefulSet removes (highest ordinal first), and which of them are Ready now. */
  removePods: string[];
  removeReadyPods: string[];
  /** Of removePods, the rooms in use (Allocated): the change waits for them to be freed, or removes them when told to. */
  removeInUse: string[];
  /**
   * Pods that stay but restart on the new pod template: under RollingUpdate
   * every one (the controller's rolling update); under OnDelete the Free ones,
   * which the rollout replaces (and those in use too with --delete-in-use).
   */
  restartPods: string[];
  /** Of restartPods, the rooms in use (Allocated): a restart ends their matches, so the change needs --delete-in-use. */
  restartInUse: string[];
  /** Under OnDelete, the rooms in use that keep their build until their match ends (deallocate replaces each then). */
  keepInUse: string[];
  /** The StatefulSet's update strategy after the change, when the pod template changes. */
  updateStrategy?: string;
  /**
   * The live StatefulSet's update strategy and the one the change writes, when
   * they differ (`kubectl patch` set it outside Helm, or the values change it).
   * helm writes the new one in the same write as the pod template, so the
   * controller never rolls the new template under the old strategy.
   */
  strategyChange?: { from: string; to: string };
  /** Deployments (Redis) whose pods restart. */
  restartDeployments: string[];
  addServices: string[];
  removeServices: string[];
  /**
   * Of removeServices, those of rooms in use that stay (expose.count lowered below
   * an Allocated room's ordinal): the match loses its address. Refused unless --delete-in-use.
   */
  removeServicesInUse: string[];
  /** Services that stay but whose fixed nodePort changes: clients holding the old address lose it. */
  movedNodePorts: { service: string; from: number[]; to: number[] }[];
  /** A large step under OrderedReady: how many pods start one after another, and how long that takes. */
  orderedStart?: OrderedStart;
  /** Nothing in the values or the manifest changes. */
  noop: boolean;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The plan of a change, from the manifest the release has now (undefined for
 * a first install), the one the change renders, and the live pods.
 */
export function planReleaseChange(
  before: ManifestView | undefined,
  after: ManifestView,
  values: ValueChange[],
  pods: PodView[],
  opts: {
    deleteInUse?: boolean;
    /**
     * The live StatefulSet's pod template differs from the one the change
     * applies (the server's dry run of it), whatever the release's manifests
     * say: a failed revision that never reached the cluster, or an edit outside Helm.
     */
    liveTemplateChanged?: boolean;
    /**
     * The live StatefulSet's update revision and strategy: a change to
     * RollingUpdate makes the controller restart every pod not on that
     * revision, rooms in use left there by an earlier rollout included.
     */
    live?: { updateRevision?: string; strategy?: string };
  } = {},
): ReleaseChangePlan {
  const plan: ReleaseChangePlan = {
    values,
    removePods: [],
    removeReadyPods: [],
    removeInUse: [],
    restartPods: [],
    restartInUse: [],
    keepInUse: [],
    restartDeployments: [],
    addServices: [],
    removeServices: [],
    removeServicesInUse: [],
    movedNodePorts: [],
    noop: false,
  };
  const sts = after.statefulSet;
  const old = before?.statefulSet;
  const live = sts
    ? byOrdinal(
        pods.filter((p) => !p.terminating),
        sts.name,
      )
    : new Map<number, PodView>();
  if (sts) {
    if (old && old.replicas !== sts.replicas) plan.replicas = { from: old.replicas, to: sts.replicas };
    Object.assign(plan, removalPlan(sts, live));
    // The cluster decides when it was asked (the server's dry run); the release's manifests otherwise.
    if (old && (opts.liveTemplateChanged ?? !same(old.template, sts.template)))
      Object.assign(plan, templatePlan(sts, live, opts.deleteInUse ?? false));
    else if (sts.updateStrategy !== 'OnDelete' && opts.live?.updateRevision)
      Object.assign(plan, outdatedUnderRolling(sts, live, opts.live.updateRevision));
    if (opts.live?.strategy && opts.live.strategy !== sts.updateStrategy)
      plan.strategyChange = { from: opts.live.strategy, to: sts.updateStrategy };
  }
  const oldDeployments = new Map((before?.deployments ?? []).map((d) => [d.name, d]));
  for (const d of after.deployments) {
    const prev = oldDeployments.get(d.name);
    if (prev && !same(prev.template, d.template)) plan.restartDeployments.push(d.name);
  }
  Object.assign(plan, servicePlan(before, after));
  if (sts) plan.removeServicesInUse = servicesOfRoomsInUse(plan.removeServices, sts, live);
  if (sts) plan.orderedStart = orderedStart(sts.podManagementPolicy, sts.replicas - live.size, pods);
  plan.noop =
    before !== undefined &&
    !values.length &&
    !plan.replicas &&
    !plan.strategyChange &&
    !plan.removePods.length &&
    !plan.restartPods.length &&
    !plan.keepInUse.length &&
    !plan.restartDeployments.length &&
    !plan.addServices.length &&
    !plan.removeServices.length &&
    !plan.movedNodePorts.length;
  return plan;
}

/**
 * A change that renames the StatefulSet (fullnameOverride, nameOverride)
 * makes helm delete the live one, and with it every room, in use or not:
 * exit 9 while it has rooms, unless `deleteInUse` (then a disruption to confirm).
 */
export function renameProblem(
  live: { name: string } | undefined,
  after: ManifestView,
  rooms: readonly PodView[],
  release: string,
  namespace: string,
  deleteInUse: boolean,
): ExposePodsError | undefined {
  const renamed = after.statefulSet?.name;
  const present = rooms.filter((p) => !p.terminating);
  if (!live || !renamed || renamed === live.name || !present.length || deleteInUse) return undefined;
  const inUse = present.filter((p) => p.mark?.allocated).length;
  return new ExposePodsError(
    `this change renames the StatefulSet ${live.name} -> ${renamed}: helm would delete it and its ${present.length} room(s)${inUse ? `, ${inUse} of them in use` : ''}, with no way back for their matches; nothing was changed`,
    ExitCode.CONFLICT,
    `Keep the name (drop fullnameOverride/nameOverride, or set them back), or add --delete-in-use to delete every room with the StatefulSet after a confirmation (kubectl expose-pods install ${release} -n ${namespace} ... --delete-in-use).`,
  );
}

/** The Services a change adds, removes, and whose fixed nodePorts move. */
function servicePlan(
  before: ManifestView | undefined,
  after: ManifestView,
): Pick<ReleaseChangePlan, 'addServices' | 'removeServices' | 'movedNodePorts'> {
  const out: Pick<ReleaseChangePlan, 'addServices' | 'removeServices' | 'movedNodePorts'> = {
    addServices: [],
    removeServices: [],
    movedNodePorts: [],
  };
  const oldServices = new Map((before?.services ?? []).map((s) => [s.name, s]));
  const newServices = new Set(after.services.map((s) => s.name));
  for (const s of after.services) {
    const prev = oldServices.get(s.name);
    if (!prev) out.addServices.push(s.name);
    else if (prev.nodePorts.length && !same(prev.nodePorts, s.nodePorts))
      out.movedNodePorts.push({ service: s.name, from: prev.nodePorts, to: s.nodePorts });
  }
  out.removeServices = [...oldServices.keys()].filter((n) => !newServices.has(n));
  return out;
}

/**
 * The per-pod Services removed from rooms in use that the StatefulSet keeps
 * (a room removed with its Service is the drain's: waited for, or --delete-in-use).
 */
export function servicesOfRoomsInUse(
  removed: readonly string[],
  sts: { name: string; replicas: number },
  live: ReadonlyMap<number, PodView>,
): string[] {
  return removed.filter((s) => {
    const n = ordinalOf(s, sts.name);
    return n !== undefined && n < sts.replicas && live.get(n)?.mark?.allocated === true;
  });
}

/** The pods a lower replica count removes (highest ordinal first), which of them are Ready, and which in use. */
function removalPlan(
  sts: NonNullable<ManifestView['statefulSet']>,
  live: ReadonlyMap<number, PodView>,
): Pick<ReleaseChangePlan, 'removePods' | 'removeReadyPods' | 'removeInUse'> {
  const removed = [...live.keys()].filter((n) => n >= sts.replicas).sort((x, y) => y - x);
  const name = (n: number) => `${sts.name}-${n}`;
  return {
    removePods: removed.map(name),
    removeReadyPods: removed.filter((n) => live.get(n)?.ready).map(name),
    removeInUse: removed.filter((n) => live.get(n)?.mark?.allocated).map(name),
  };
}

/**
 * A new pod template: under RollingUpdate the controller restarts every room
 * kept, highest ordinal first; under OnDelete the rollout replaces the Free
 * ones, lowest first, and spares those in use (unless `deleteInUse`).
 */
function templatePlan(
  sts: NonNullable<ManifestView['statefulSet']>,
  live: ReadonlyMap<number, PodView>,
  deleteInUse: boolean,
): Pick<ReleaseChangePlan, 'updateStrategy' | 'restartPods' | 'restartInUse' | 'keepInUse'> {
  const kept = [...live.keys()].filter((n) => n < sts.replicas).sort((x, y) => y - x);
  const inUse = (n: number) => live.get(n)?.mark?.allocated === true;
  const name = (n: number) => `${sts.name}-${n}`;
  const onDelete = sts.updateStrategy === 'OnDelete';
  const spares = onDelete && !deleteInUse;
  const restarted = spares ? kept.filter((n) => !inUse(n)) : kept;
  return {
    updateStrategy: sts.updateStrategy,
    restartPods: (onDelete ? [...restarted].reverse() : restarted).map(name),
    restartInUse: restarted.filter(inUse).map(name),
    keepInUse: spares ? kept.filter(inUse).map(name) : [],
  };
}

/**
 * The same template under RollingUpdate: the controller still restarts every
 * room not on its update revision (rooms in use an earlier OnDelete rollout
 * left on their build), highest ordinal first. Empty when every room is on it.
 */
function outdatedUnderRolling(
  sts: NonNullable<ManifestView['statefulSet']>,
  live: ReadonlyMap<number, PodView>,
  updateRevision: string,
): Partial<ReleaseChangePlan> {
  const kept = [...live.entries()]
    .filter(([n, p]) => n < sts.replicas && p.revision !== undefined && p.revision !== updateRevision)
    .sort(([x], [y]) => y - x);
  if (!kept.length) return {};
  return {
    updateStrategy: sts.updateStrategy,
    restartPods: kept.map(([, p]) => p.name),
    restartInUse: kept.filter(([, p]) => p.mark?.allocated).map(([, p]) => p.name),
    keepInUse: [],
  };
}

/** From this many new pods, a plan under OrderedReady says how long they take to start. */
export const ORDERED_START_NOTE_PODS = 50;

/**
 * Seconds between two pods under OrderedReady on a control plane where a pod is
 * Ready the moment it is bound (bench/RESULTS.md: 1000 rooms in 227 s): the floor
 * any cluster adds to its pods' own start time.
 */
export const ORDERED_START_FLOOR_SECONDS = 0.23;

export interface OrderedStart {
  pods: number;
  /** Median creation-to-Ready time of the release's Ready pods; undefined when none is known. */
  perPodSeconds?: number;
  /** The least it can take: pods x the control plane's own pace. */
  floorSeconds: number;
  /** pods x (perPodSeconds + the floor), when perPodSeconds is known. */
  estimateSeconds?: number;
}

/** The start of `newPods` under the StatefulSet's policy; undefined for Parallel or a small step. */
export function orderedStart(
  policy: string,
  newPods: number,
  pods: readonly PodView[],
): OrderedStart | undefined {
  if (policy !== 'OrderedReady' || newPods < ORDERED_START_NOTE_PODS) return undefined;
  const times = pods
    .map((p) => p.readySeconds)
    .filter((t): t is number => t !== undefined)
    .sort((a, b) => a - b);
  const perPodSeconds = times.length ? times[Math.floor(times.length / 2)] : undefined;
  const floorSeconds = Math.round(newPods * ORDERED_START_FLOOR_SECONDS);
  return {
    pods: newPods,
    perPodSeconds,
    floorSeconds,
    ...(perPodSeconds !== undefined && {
      estimateSeconds: Math.round(newPods * (perPodSeconds + ORDERED_START_FLOOR_SECONDS)),
    }),
  };
}

/** "deletes the Service of 1 room(s) in use (Allocated): web-3": what their matches lose. */
export function serviceInUsePhrase(services: readonly string[]): string {
  return inUsePhrase(services, 'removes the Service of');
}

/**
 * Why a plan needs the user's yes: each a phrase ("removes 3 Ready pod(s)"); empty when it needs none.
 * With `deleteInUse`, the rooms in use it removes are named (without it, the change waits for them).
 */
export function disruptions(plan: ReleaseChangePlan, deleteInUse = false): string[] {
  const out: string[] = [];
  if (plan.removeReadyPods.length) out.push(`removes ${plan.removeReadyPods.length} Ready pod(s)`);
  if (deleteInUse && plan.removeInUse.length) out.push(inUsePhrase(plan.removeInUse));
  if (deleteInUse && plan.removeServicesInUse.length) out.push(serviceInUsePhrase(plan.removeServicesInUse));
  if (plan.restartPods.length)
    out.push(
      plan.updateStrategy === 'OnDelete'
        ? `replaces ${plan.restartPods.length} room(s) on the new pod template`
        : `restarts ${plan.restartPods.length} pod(s)`,
    );
  if (deleteInUse && plan.restartInUse.length) out.push(inUsePhrase(plan.restartInUse, 'restarts'));
  if (plan.restartDeployments.length) out.push(`restarts ${plan.restartDeployments.join(', ')}`);
  if (plan.movedNodePorts.length) out.push(`moves the nodePort of ${plan.movedNodePorts.length} Service(s)`);
  return out;
}

/**
 * The first base from which `size` consecutive nodePorts are free in the range,
 * given the ports taken; undefined when no such block exists.
 */
export function freeNodePortBlock(
  size: number,
  taken: Set<number>,
  range: { first: number; last: number } = DEFAULT_NODE_PORT_RANGE,
): number | undefined {
  let run = 0;
  for (let p = range.first; p <= range.last; p++) {
    run = taken.has(p) ? 0 : run + 1;
    if (run >= size) return p - size + 1;
  }
  return undefined;
}

/** A Service of another release or owner is "theirs"; this release's own may be re-applied. */
function isOurs(s: ServiceView, release: string, namespace: string): boolean {
  return s.namespace === namespace && s.release === release;
}

/**
 * Every fixed nodePort the rendered Services want must be free of Services
 * that are not this release's. Each problem names the holder, and the first
 * free block of the right size is suggested once.
 */
export function nodePortProblems(
  after: ManifestView,
  allServices: ServiceView[],
  release: string,
  namespace: string,
): string[] {
  const holders = nodePortHolders(allServices, (s) => isOurs(s, release, namespace));
  const problems: string[] = [];
  let wanted = 0;
  for (const s of after.services) {
    for (const port of s.nodePorts) {
      wanted++;
      const h = holders.get(port);
      if (h) problems.push(`nodePort ${port} (for ${s.name}) is taken by Service ${h.namespace}/${h.name}`);
    }
  }
  if (problems.length) {
    const base = freeNodePortBlock(wanted, new Set(holders.keys()));
    problems.push(
      base === undefined
        ? `no block of ${wanted} free nodePorts is left in ${DEFAULT_NODE_PORT_RANGE.first}-${DEFAULT_NODE_PORT_RANGE.last}; set expose.nodePortBase=null to let Kubernetes assign them`
        : `the first free block of ${wanted} nodePorts starts at ${base}: add --node-port-base ${base} (or --set expose.nodePortBase=${base})`,
    );
  }
  const auto = after.services.filter((s) => s.type !== 'ClusterIP' && !s.nodePorts.length).length;
  const free = DEFAULT_NODE_PORT_RANGE.last - DEFAULT_NODE_PORT_RANGE.first + 1 - holders.size - wanted;
  if (auto > free) {
    problems.push(
      `${auto} Service(s) need a nodePort assigned, and only ${Math.max(0, free)} are free in ${DEFAULT_NODE_PORT_RANGE.first}-${DEFAULT_NODE_PORT_RANGE.last}`,
    );
  }
  return problems;
}

/** nodePorts a rendered Service takes: one per port (NodePort, LoadBalancer), and one for a Local health check. */
function nodePortCount(s: ManifestView['services'][number]): number {
  if (s.type !== 'NodePort' && s.type !== 'LoadBalancer') return 0;
  return s.portCount + (s.healthCheck ? 1 : 0);
}

/**
 * What a change takes from (or gives back to) the cluster's budgets, from the
 * manifest before (undefined for a first install) and after, and the room pods
 * that exist now. A dual-stack Service takes a ClusterIP in each family; the
 * count is per family, as the budget is.
 */
export function budgetDelta(
  before: ManifestView | undefined,
  after: ManifestView,
  livePods: number,
): BudgetDelta {
  const sum = (v: ManifestView | undefined, f: (s: ManifestView['services'][number]) => number) =>
    (v?.services ?? []).reduce((n, s) => n + f(s), 0);
  const newDeployments = after.deployments.filter(
    (d) => !(before?.deployments ?? []).some((b) => b.name === d.name),
  ).length;
  return {
    nodePorts: sum(after, nodePortCount) - sum(before, nodePortCount),
    clusterIPs:
      sum(after, (s) => (s.takesClusterIP ? 1 : 0)) - sum(before, (s) => (s.takesClusterIP ? 1 : 0)),
    podSlots: (after.statefulSet?.replicas ?? 0) - livePods + newDeployments,
  };
}

/**
 * The new pods of a change must fit: free pod slots on the nodes the rooms may
 * use (core/budget.ts), and with room.onePerNode one such node per replica.
 * Empty when they fit (or nothing is added).
 */
export function capacityProblems(
  newPods: number,
  replicas: number,
  onePerNode: boolean,
  slots: PodSlotBudget,
): string[] {
  const problems: string[] = [];
  const left = leftOutPhrase(slots);
  if (onePerNode && replicas > slots.nodes) {
    problems.push(
      `room.onePerNode allows one pod per node, and ${slots.nodes} node(s) can take rooms${left}: ${replicas} replicas cannot all be scheduled`,
    );
  }
  if (!slots.unreported && newPods > slots.free) {
    problems.push(
      `${newPods} new pod(s) need a slot, and the ${slots.nodes} node(s) that can take rooms have ${slots.free} free (allocatable pods minus pods bound)${left}: ${newPods - slots.free} would stay Pending`,
    );
  }
  return problems;
}

/** A claim as listed: its name and labels. */
export interface ClaimView {
  name: string;
  labels: Record<string, string>;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The ordinal of a StatefulSet's claim, `<template>-<statefulset>-<n>` for one
 * of its volumeClaimTemplates; undefined for any other name (a user's
 * `backup-<statefulset>-1` is not one unless `backup` is a template).
 */
export function claimOrdinal(
  claim: string,
  templates: readonly string[],
  statefulSet: string,
): number | undefined {
  for (const t of templates) {
    const m = new RegExp(`^${escapeRe(t)}-${escapeRe(statefulSet)}-(0|[1-9]\\d*)$`).exec(claim);
    if (m) return Number(m[1]);
  }
  return undefined;
}

/**
 * The claims the chart itself made, by name: those the StatefulSet's
 * volumeClaimTemplates create (`<template>-<statefulset>-<n>`) and the PVCs the
 * manifest lists (Redis). A claim that only shares the release's instance label
 * (a user's existingClaim, one labelled by Argo CD) is never among them. With
 * no manifest (the release is gone), the chart's own name label must be on the claim too.
 */
export function chartMadeClaims(claims: ClaimView[], view: ManifestView | undefined): string[] {
  if (view) {
    const sts = view.statefulSet;
    const listed = new Set(view.pvcs);
    return claims
      .filter(
        (c) =>
          listed.has(c.name) ||
          (sts !== undefined && claimOrdinal(c.name, sts.claimTemplates, sts.name) !== undefined),
      )
      .map((c) => c.name)
      .sort();
  }
  return claims
    .filter((c) => {
      if (c.labels['app.kubernetes.io/name'] !== CHART_NAME) return false;
      const component = c.labels['app.kubernetes.io/component'];
      return component === 'redis' || (component === 'room' && /-(0|[1-9]\d*)$/.test(c.name));
    })
    .map((c) => c.name)
    .sort();
}

/** A Secret as listed (metadata only): its name, labels and annotations. */
export interface SecretMetaView {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/**
 * The Secrets the chart itself made, by name: those the release's manifest
 * lists. A user's redis.auth.existingSecret is never among them, whatever its
 * labels. With no manifest (the release is gone), only a Secret that Helm
 * created for this release in this namespace (its meta.helm.sh annotations)
 * and that carries the chart's Redis labels.
 */
export function chartMadeSecrets(
  secrets: SecretMetaView[],
  release: string,
  namespace: string,
  view: ManifestView | undefined,
): string[] {
  const listed = new Set(view?.secrets);
  return secrets
    .filter((s) =>
      view
        ? listed.has(s.name)
        : s.labels['app.kubernetes.io/name'] === CHART_NAME &&
          s.labels['app.kubernetes.io/component'] === 'redis' &&
          s.annotations['meta.helm.sh/release-name'] === release &&
          s.annotations['meta.helm.sh/release-namespace'] === namespace,
    )
    .map((s) => s.name)
    .sort();
}

/** An object's ownership, as Helm checks it before it takes an existing object into a release. */
export interface LiveOwnership {
  kind: string;
  name: string;
  namespace: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/**
 * Whether Helm would refuse to create `o` because it exists outside the
 * release (its "exists and cannot be imported into the current release:
 * invalid ownership metadata"): it may adopt only an object labelled
 * app.kubernetes.io/managed-by=Helm and annotated with this release's name and
 * namespace. Undefined when Helm would take it.
 */
export function ownedElsewhere(
  o: LiveOwnership,
  release: string,
): { kind: string; name: string; namespace: string; owner: string } | undefined {
  const a = o.annotations ?? {};
  if (
    o.labels?.['app.kubernetes.io/managed-by'] === 'Helm' &&
    a['meta.helm.sh/release-name'] === release &&
    a['meta.helm.sh/release-namespace'] === o.namespace
  )
    return undefined;
  const current = a['meta.helm.sh/release-name'];
  return {
    kind: o.kind,
    name: o.name,
    namespace: o.namespace,
    owner: current ? `release ${current}` : 'not managed by Helm',
  };
}

/** The objects in `after` that `before` does not list (by kind and name): what a change creates. */
export function createdObjects(before: ManifestObject[], after: ManifestObject[]): ManifestObject[] {
  const key = (o: ManifestObject) => `${o.kind ?? ''}/${o.metadata?.name ?? ''}`;
  const had = new Set(before.map(key));
  return after.filter((o) => !had.has(key(o)));
}

/**
 * Exit 9 naming an object a change would create that exists outside the
 * release, its owner, and the two ways out: delete it, or let the release adopt it.
 */
export function inTheWayError(
  o: { kind: string; name: string; namespace: string; owner: string },
  release: string,
): ExposePodsError {
  const kind = o.kind.toLowerCase();
  const ref = `${kind} ${o.name} -n ${o.namespace}`;
  return new ExposePodsError(
    `an object this change would create already exists and is not part of release ${release}: ${kind}/${o.name} (${o.owner}); nothing was changed`,
    ExitCode.CONFLICT,
    `Delete it if nothing needs it (kubectl delete ${ref}), or let the release adopt it: kubectl annotate ${ref} --overwrite meta.helm.sh/release-name=${release} meta.helm.sh/release-namespace=${o.namespace} && kubectl label ${ref} --overwrite app.kubernetes.io/managed-by=Helm`,
  );
}
