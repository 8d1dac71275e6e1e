import type { BudgetChange } from './budget.js';
import { claimOrdinal, type OrderedStart } from './release-change.js';
import { inUsePhrase, removedByStatefulSet } from './rooms.js';
import { byOrdinal, type PodView, type PvcView, type ServiceView, type StatefulSetView } from './model.js';

/** What `scale` knows before it changes anything. */
export interface ScaleInput {
  release: string;
  namespace: string;
  /** The StatefulSet's name: pods are <workload>-<i>, Services too, PVCs data-<workload>-<i>. */
  workload: string;
  /** room.replicas in the release. */
  releaseReplicas: number;
  /** spec.replicas of the live StatefulSet (differs after kubectl scale or an HPA). */
  liveReplicas: number;
  target: number;
  /** expose.count when the user set it; undefined means it follows room.replicas. */
  pinnedCount?: number;
  /** Explicit expose.nodePorts, or undefined. */
  nodePorts?: number[];
  /** expose.nodePortBase, or undefined when Kubernetes assigns the ports. */
  nodePortBase?: number;
  pods: PodView[];
  /** The release's per-pod Services. */
  services: ServiceView[];
  /** PVC names of the release (by its instance label: a user's claim may carry it too). */
  pvcs: string[];
  /** The StatefulSet's volumeClaimTemplates: only <template>-<workload>-<i> are the StatefulSet's claims. */
  claimTemplates: string[];
}

/** The live side of a scale plan: ScaleInput's fields that are read from the cluster. */
export type ScaleObjects = Pick<
  ScaleInput,
  'workload' | 'liveReplicas' | 'pods' | 'services' | 'pvcs' | 'claimTemplates'
>;

/** The live side of a scale plan from the release's StatefulSet, pods, per-pod Services and claims. */
export function scaleObjectsOf(
  set: StatefulSetView,
  pods: PodView[],
  services: ServiceView[],
  claims: readonly PvcView[],
): ScaleObjects {
  return {
    workload: set.name,
    liveReplicas: set.replicas,
    pods,
    services,
    pvcs: claims.map((c) => c.name).filter(Boolean),
    claimTemplates: set.claimTemplates,
  };
}

export interface PlannedService {
  ordinal: number;
  name: string;
  /** The nodePort it gets: fixed by the values, or null when Kubernetes assigns it (or it is known only live). */
  nodePort: number | null;
}

/** The plan `scale` prints first, and the -o json "plan". */
export interface ScalePlan {
  release: string;
  namespace: string;
  /** The release's StatefulSet, which the scale changes. */
  statefulSet: string;
  from: { release: number; live: number };
  to: number;
  /** Ordinals of pods the StatefulSet will create, ascending (it creates them in order). */
  createPods: string[];
  /** Pods it will remove, from the highest ordinal down (as a StatefulSet does). */
  removePods: string[];
  /** Of removePods, those Ready now: clients connected to them are cut off. */
  removeReadyPods: string[];
  /** Of removePods, the rooms in use (Allocated): waited for, or removed with --delete-in-use. */
  removeInUse: string[];
  /**
   * Of removePods, those at or above the StatefulSet's live spec.replicas (lowered
   * by `kubectl scale` or an HPA): its controller is removing them already, whatever
   * this scale does, so they are neither waited for nor asked about; highest first.
   */
  removedByController: string[];
  /** Of removedByController, the rooms in use (Allocated): their matches end. */
  removedByControllerInUse: string[];
  addServices: PlannedService[];
  removeServices: PlannedService[];
  /** PVCs of removed ordinals: kept (reattached on a later scale up) unless --delete-data. */
  pvcsLeftBehind: string[];
  /** expose.count after the change. */
  exposeCount: number;
  /** Things worth knowing that do not stop it. */
  notes: string[];
  /** Nothing would change in the release or the cluster. */
  noop: boolean;
  /** The cluster-wide NodePorts, ClusterIPs and pod slots now and after, from the change path's preview. */
  budget?: BudgetChange;
  /** A large step under OrderedReady, from the change path's preview: how long the new pods take to start. */
  orderedStart?: OrderedStart;
}

const range = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

/** The nodePort of ordinal i as the chart assigns it, or null when Kubernetes picks it. */
export function plannedNodePort(
  i: number,
  input: Pick<ScaleInput, 'nodePorts' | 'nodePortBase'>,
): number | null {
  if (input.nodePorts?.length) return input.nodePorts[i] ?? null;
  return input.nodePortBase === undefined ? null : input.nodePortBase + i;
}

/** What a scale to `target` does, from the release and the live objects: pure, so every case is table-tested. */
export function planScale(input: ScaleInput): ScalePlan {
  const { workload, target } = input;
  const livePods = byOrdinal(input.pods, workload);
  const liveServices = byOrdinal(input.services, workload);
  const exposeCount = input.pinnedCount ?? target;
  const name = (i: number) => `${workload}-${i}`;

  const createPods = range(0, target)
    .filter((i) => !livePods.has(i))
    .map(name);
  const removed = [...livePods.keys()].filter((i) => i >= target).sort((a, b) => b - a);
  // Rooms the controller removes anyway are not this scale's to wait for or to ask about.
  const theirs = removed.filter((i) => removedByStatefulSet(i, input.liveReplicas));
  const mine = removed.filter((i) => !theirs.includes(i));
  const inUse = (i: number) => livePods.get(i)?.mark?.allocated === true;
  const removeReadyPods = mine.filter((i) => livePods.get(i)?.ready).map(name);

  const addServices = range(0, exposeCount)
    .filter((i) => !liveServices.has(i))
    .map((i) => ({ ordinal: i, name: name(i), nodePort: plannedNodePort(i, input) }));
  const removeServices = [...liveServices.keys()]
    .filter((i) => i >= exposeCount)
    .sort((a, b) => a - b)
    .map((i) => ({
      ordinal: i,
      name: name(i),
      nodePort: liveServices.get(i)?.ports[0]?.nodePort ?? null,
    }));

  // By name, as uninstall chooses them: a claim that only shares the instance label (a user's backup) is not ours.
  const pvcsLeftBehind = input.pvcs
    .filter((p) => (claimOrdinal(p, input.claimTemplates, workload) ?? -1) >= target)
    .sort();

  const notes: string[] = [];
  if (theirs.length)
    notes.push(controllerRemovalNote(input, theirs.map(name), theirs.filter(inUse).map(name)));
  if (input.liveReplicas !== input.releaseReplicas) {
    notes.push(
      `the StatefulSet runs ${input.liveReplicas} replicas but the release says ${input.releaseReplicas} (changed outside Helm, by kubectl scale or an HPA); this scale brings both to ${target}`,
    );
  }
  if (input.pinnedCount !== undefined && input.pinnedCount < target) {
    notes.push(
      `expose.count is pinned at ${input.pinnedCount}: ordinals ${input.pinnedCount}..${target - 1} get no Service (NoService); raise it with: kubectl expose-pods install ${input.release} -n ${input.namespace} --set expose.count=${target}`,
    );
  }
  if (input.pinnedCount !== undefined && input.pinnedCount > target) {
    notes.push(
      `expose.count is pinned at ${input.pinnedCount}: Services ${target}..${input.pinnedCount - 1} have no pod (NoPod)`,
    );
  }
  const noop =
    input.releaseReplicas === target &&
    input.liveReplicas === target &&
    !createPods.length &&
    !removed.length &&
    !addServices.length &&
    !removeServices.length;

  return {
    release: input.release,
    namespace: input.namespace,
    statefulSet: workload,
    from: { release: input.releaseReplicas, live: input.liveReplicas },
    to: target,
    createPods,
    removePods: removed.map(name),
    removeReadyPods,
    removeInUse: mine.filter(inUse).map(name),
    removedByController: theirs.map(name),
    removedByControllerInUse: theirs.filter(inUse).map(name),
    addServices,
    removeServices,
    pvcsLeftBehind,
    exposeCount,
    notes,
    noop,
  };
}

/** What the StatefulSet's controller is doing already, and what that costs the matches. */
function controllerRemovalNote(input: ScaleInput, pods: string[], inUse: string[]): string {
  const first = pods[pods.length - 1] ?? '';
  const span = pods.length > 1 ? `rooms ${first}..${pods[0] ?? ''}` : `room ${first}`;
  const matches = inUse.length
    ? `; rooms in use among them: ${inUse.join(', ')}: their matches end, whatever this scale does`
    : '; none of them is in use';
  return `the StatefulSet's controller is already removing ${span} (its replicas were set to ${input.liveReplicas} outside the release, by kubectl scale or an HPA)${matches}`;
}

/**
 * Why the scale must not run, from what only scale knows; each a sentence
 * naming what to change. The checks every change shares (nodePorts free
 * cluster-wide, pod slots, onePerNode) run in the change path (core/release-change.ts).
 */
export function preflight(input: ScaleInput, plan: ScalePlan): string[] {
  const problems: string[] = [];
  if (input.nodePorts?.length && plan.exposeCount > input.nodePorts.length) {
    problems.push(
      `expose.nodePorts lists ${input.nodePorts.length} ports, and ${plan.exposeCount} Services need one each; add ports to expose.nodePorts`,
    );
  }
  return problems;
}

/**
 * Why a scale needs the user's yes, each a phrase ("removes 3 Ready pod(s)"); empty when it needs none.
 * Rooms in use are a reason only with --delete-in-use: without it the scale waits for them.
 */
export function scaleDisruptions(
  plan: ScalePlan,
  deleteData: boolean,
  deleteInUse = false,
  /** Rooms replaced because the live pod template is not the release's newest (a failed revision). */
  replaced = 0,
): string[] {
  const out: string[] = [];
  if (replaced) out.push(`replaces ${replaced} room(s) on the release's newest pod template`);
  if (plan.removeReadyPods.length) out.push(`removes ${plan.removeReadyPods.length} Ready pod(s)`);
  if (deleteInUse && plan.removeInUse.length) out.push(inUsePhrase(plan.removeInUse));
  if (deleteData && plan.pvcsLeftBehind.length)
    out.push(`deletes ${plan.pvcsLeftBehind.length} PVC(s) and their data`);
  return out;
}
