/**
 * What a change to a release does, worked out before anything is written:
 * the values that change, what happens to pods and per-pod Services (from the
 * release's manifest now and the one the change renders), and the pre-flight
 * checks against the cluster (nodePorts, pod slots). Pure: the mutation path
 * in ops/ feeds it plain objects.
 */
import { ordinalOf, type NodeView, type PodView, type ServiceView } from './model.js';

/** One rendered object of a Helm manifest, as parsed YAML. */
export interface ManifestObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  [key: string]: unknown;
}

/** The parts of a manifest a change plan looks at. */
export interface ManifestView {
  statefulSet?: { name: string; replicas: number; template: unknown; claimTemplates: string[] };
  /** Deployments (the chart's Redis), by name, with their pod template. */
  deployments: { name: string; template: unknown }[];
  /** Per-pod and other Services, with the nodePorts the manifest fixes (not those Kubernetes assigns). */
  services: { name: string; type: string; nodePorts: number[] }[];
  /** PersistentVolumeClaims the manifest itself creates (Redis). */
  pvcs: string[];
}

/** Reads a manifest's objects into the view a plan needs. */
export function manifestView(objects: ManifestObject[]): ManifestView {
  const view: ManifestView = { deployments: [], services: [], pvcs: [] };
  for (const o of objects) {
    const name = o.metadata?.name ?? '';
    const spec = (o.spec ?? {}) as {
      replicas?: number;
      template?: unknown;
      type?: string;
      ports?: { nodePort?: number | null }[];
      volumeClaimTemplates?: { metadata?: { name?: string } }[];
    };
    if (o.kind === 'StatefulSet') {
      view.statefulSet = {
        name,
        replicas: spec.replicas ?? 1,
        template: spec.template,
        claimTemplates: (spec.volumeClaimTemplates ?? []).map((t) => t.metadata?.name ?? '').filter(Boolean),
      };
    } else if (o.kind === 'Deployment') {
      view.deployments.push({ name, template: spec.template });
    } else if (o.kind === 'Service') {
      view.services.push({
        name,
        type: spec.type ?? 'ClusterIP',
        nodePorts: (spec.ports ?? [])
          .map((p) => p.nodePort)
          .filter((p): p is number => typeof p === 'number'),
      });
    } else if (o.kind === 'PersistentVolumeClaim') {
      view.pvcs.push(name);
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
  /** Pods that stay but restart, because the pod template changed (a rolling update). */
  restartPods: string[];
  /** Deployments (Redis) whose pods restart. */
  restartDeployments: string[];
  addServices: string[];
  removeServices: string[];
  /** Services that stay but whose fixed nodePort changes: clients holding the old address lose it. */
  movedNodePorts: { service: string; from: number[]; to: number[] }[];
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
): ReleaseChangePlan {
  const plan: ReleaseChangePlan = {
    values,
    removePods: [],
    removeReadyPods: [],
    restartPods: [],
    restartDeployments: [],
    addServices: [],
    removeServices: [],
    movedNodePorts: [],
    noop: false,
  };
  const sts = after.statefulSet;
  const old = before?.statefulSet;
  if (sts) {
    const live = new Map<number, PodView>();
    for (const p of pods) {
      const n = ordinalOf(p.name, sts.name);
      if (n !== undefined && !p.terminating) live.set(n, p);
    }
    if (old && old.replicas !== sts.replicas) plan.replicas = { from: old.replicas, to: sts.replicas };
    const removed = [...live.keys()].filter((n) => n >= sts.replicas).sort((x, y) => y - x);
    plan.removePods = removed.map((n) => `${sts.name}-${n}`);
    plan.removeReadyPods = removed.filter((n) => live.get(n)?.ready).map((n) => `${sts.name}-${n}`);
    if (old && !same(old.template, sts.template)) {
      plan.restartPods = [...live.keys()]
        .filter((n) => n < sts.replicas)
        .sort((x, y) => y - x)
        .map((n) => `${sts.name}-${n}`);
    }
  }
  const oldDeployments = new Map((before?.deployments ?? []).map((d) => [d.name, d]));
  for (const d of after.deployments) {
    const prev = oldDeployments.get(d.name);
    if (prev && !same(prev.template, d.template)) plan.restartDeployments.push(d.name);
  }
  const oldServices = new Map((before?.services ?? []).map((s) => [s.name, s]));
  const newServices = new Set(after.services.map((s) => s.name));
  for (const s of after.services) {
    const prev = oldServices.get(s.name);
    if (!prev) plan.addServices.push(s.name);
    else if (prev.nodePorts.length && !same(prev.nodePorts, s.nodePorts))
      plan.movedNodePorts.push({ service: s.name, from: prev.nodePorts, to: s.nodePorts });
  }
  plan.removeServices = [...oldServices.keys()].filter((n) => !newServices.has(n));
  plan.noop =
    before !== undefined &&
    !values.length &&
    !plan.replicas &&
    !plan.removePods.length &&
    !plan.restartPods.length &&
    !plan.restartDeployments.length &&
    !plan.addServices.length &&
    !plan.removeServices.length &&
    !plan.movedNodePorts.length;
  return plan;
}

/** Why a plan needs the user's yes: each a phrase ("removes 3 Ready pod(s)"); empty when it needs none. */
export function disruptions(plan: ReleaseChangePlan): string[] {
  const out: string[] = [];
  if (plan.removeReadyPods.length) out.push(`removes ${plan.removeReadyPods.length} Ready pod(s)`);
  if (plan.restartPods.length) out.push(`restarts ${plan.restartPods.length} pod(s)`);
  if (plan.restartDeployments.length) out.push(`restarts ${plan.restartDeployments.join(', ')}`);
  if (plan.movedNodePorts.length) out.push(`moves the nodePort of ${plan.movedNodePorts.length} Service(s)`);
  return out;
}

/** The default --service-node-port-range; the API server's own flag cannot be read from outside. */
export const DEFAULT_NODE_PORT_RANGE = { first: 30000, last: 32767 } as const;

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

/** How full the cluster-wide NodePort range is: every Service of every release and owner counts. */
export interface NodePortBudget {
  range: { first: number; last: number };
  total: number;
  /** nodePorts and LoadBalancer healthCheckNodePorts in the range (both come from it). */
  used: number;
  free: number;
  usedPercent: number;
  /** The largest run of consecutive free ports: where the biggest fixed block still fits. */
  largestFreeBlock: { first: number; size: number } | null;
}

/** The share of the range at which `status` warns. */
export const NODE_PORT_WARN_PERCENT = 80;

export function nodePortBudget(
  services: readonly ServiceView[],
  range: { first: number; last: number } = DEFAULT_NODE_PORT_RANGE,
): NodePortBudget {
  const taken = new Set<number>();
  for (const s of services) {
    for (const p of s.ports) if (p.nodePort) taken.add(p.nodePort);
    if (s.healthCheckNodePort) taken.add(s.healthCheckNodePort);
  }
  const used = [...taken].filter((p) => p >= range.first && p <= range.last).length;
  const total = range.last - range.first + 1;
  let best: { first: number; size: number } | null = null;
  let start = range.first;
  for (let p = range.first; p <= range.last + 1; p++) {
    if (p <= range.last && !taken.has(p)) continue;
    const size = p - start;
    if (size > 0 && (!best || size > best.size)) best = { first: start, size };
    start = p + 1;
  }
  return {
    range,
    total,
    used,
    free: total - used,
    usedPercent: Math.round((used / total) * 100),
    largestFreeBlock: best,
  };
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
  const holders = new Map<number, ServiceView>();
  for (const s of allServices) {
    if (isOurs(s, release, namespace)) continue;
    for (const p of s.ports) if (p.nodePort) holders.set(p.nodePort, s);
  }
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

/** A node as the capacity check sees it: schedulable, how many pods it may hold, how many it holds. */
export interface NodeSlots {
  name: string;
  schedulable: boolean;
  allocatablePods?: number;
  boundPods: number;
}

/** Slots per node: allocatable pods minus the pods bound there, for Ready, uncordoned nodes. */
export function nodeSlots(nodes: NodeView[], boundPerNode: Map<string, number>): NodeSlots[] {
  return nodes.map((n) => ({
    name: n.name,
    schedulable: n.ready && !n.unschedulable,
    allocatablePods: n.allocatablePods,
    boundPods: boundPerNode.get(n.name) ?? 0,
  }));
}

/**
 * The new pods of a change must fit: free pod slots on schedulable nodes, and
 * with room.onePerNode one node per replica. Empty when they fit (or nothing is added).
 */
export function capacityProblems(
  newPods: number,
  replicas: number,
  onePerNode: boolean,
  slots: NodeSlots[],
): string[] {
  const problems: string[] = [];
  const schedulable = slots.filter((s) => s.schedulable);
  if (onePerNode && replicas > schedulable.length) {
    problems.push(
      `room.onePerNode allows one pod per node, and ${schedulable.length} node(s) are Ready and schedulable: ${replicas} replicas cannot all be scheduled`,
    );
  }
  if (newPods > 0 && schedulable.every((s) => s.allocatablePods !== undefined)) {
    const free = schedulable.reduce((sum, s) => sum + Math.max(0, (s.allocatablePods ?? 0) - s.boundPods), 0);
    if (newPods > free) {
      problems.push(
        `${newPods} new pod(s) need a slot, and the ${schedulable.length} Ready, schedulable node(s) have ${free} free (allocatable pods minus pods bound): ${newPods - free} would stay Pending`,
      );
    }
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
 * The claims the chart itself made, by name: those the StatefulSet's
 * volumeClaimTemplates create (`<template>-<statefulset>-<n>`) and the PVCs the
 * manifest lists (Redis). A claim that only shares the release's instance label
 * (a user's existingClaim, one labelled by Argo CD) is never among them. With
 * no manifest (the release is gone), the chart's own name label must be on the claim too.
 */
export function chartMadeClaims(claims: ClaimView[], view: ManifestView | undefined): string[] {
  if (view) {
    const sts = view.statefulSet;
    const patterns = (sts?.claimTemplates ?? []).map(
      (t) => new RegExp(`^${escapeRe(t)}-${escapeRe(sts?.name ?? '')}-(0|[1-9]\\d*)$`),
    );
    const listed = new Set(view.pvcs);
    return claims
      .filter((c) => listed.has(c.name) || patterns.some((re) => re.test(c.name)))
      .map((c) => c.name)
      .sort();
  }
  return claims
    .filter((c) => {
      if (c.labels['app.kubernetes.io/name'] !== 'expose-pods') return false;
      const component = c.labels['app.kubernetes.io/component'];
      return component === 'redis' || (component === 'room' && /-(0|[1-9]\d*)$/.test(c.name));
    })
    .map((c) => c.name)
    .sort();
}
