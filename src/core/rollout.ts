/**
 * A rollout that never restarts a room in use. The StatefulSet runs with
 * updateStrategy OnDelete, so after its pod template changes nothing restarts
 * by itself: a pod moves to the new revision only when it is deleted. These
 * pure rules decide which rooms are replaced, in which batches, and when a
 * rollout is done; ops/rollout.ts reads the rooms and deletes each chosen pod
 * on the condition that it is still the pod (UID) and the state
 * (resourceVersion) that was read, so a room allocated a moment earlier is
 * never deleted.
 */
import { byOrdinal, type PodView, type StatefulSetView } from './model.js';

/** Agones' default for a Fleet's rolling update, and ours. */
export const DEFAULT_MAX_UNAVAILABLE = '25%';

/** --max-unavailable: a count of rooms, or a percentage of the replicas. */
export type MaxUnavailable = { count: number } | { percent: number };

/** Parses --max-unavailable ("3", "25%"); a sentence saying what is wrong otherwise. */
export function parseMaxUnavailable(text: string): MaxUnavailable | string {
  const t = text.trim();
  const pct = /^(\d+)%$/.exec(t);
  if (pct) {
    const percent = Number(pct[1]);
    if (percent >= 1 && percent <= 100) return { percent };
  } else if (/^\d+$/.test(t) && Number(t) >= 1) {
    return { count: Number(t) };
  }
  return `--max-unavailable ${text}: use a count of rooms (1 or more) or a percentage of the replicas (1% to 100%), for example 25%`;
}

/**
 * How many rooms one batch replaces: a count as given, a percentage of the
 * replicas rounded down (as Kubernetes rounds maxUnavailable); never less
 * than 1, so a rollout always moves.
 */
export function batchSize(max: MaxUnavailable, replicas: number): number {
  const n = 'count' in max ? max.count : Math.floor((replicas * max.percent) / 100);
  return Math.max(1, n);
}

/** The StatefulSet as a rollout sees it. */
export interface RolloutSet {
  workload: string;
  replicas: number;
  /** status.updateRevision: the revision new pods are made from. */
  updateRevision?: string;
  /** The controller has seen the newest spec (status.observedGeneration >= metadata.generation). */
  observed: boolean;
  /** spec.updateStrategy.type. */
  strategy: string;
  /** spec.podManagementPolicy: under OrderedReady the controller recreates no pod above one that is not Ready. */
  podManagementPolicy?: string;
}

/** The rollout's view of a StatefulSet. */
export function rolloutSetOf(sts: StatefulSetView): RolloutSet {
  return {
    workload: sts.name,
    replicas: sts.replicas,
    updateRevision: sts.updateRevision,
    observed: sts.observed ?? false,
    strategy: sts.updateStrategy ?? 'RollingUpdate',
    podManagementPolicy: sts.podManagementPolicy,
  };
}

/** A room on an older revision than the StatefulSet's: it runs the old build. */
export function isOutdated(pod: Pick<PodView, 'revision'>, updateRevision: string | undefined): boolean {
  return pod.revision !== undefined && updateRevision !== undefined && pod.revision !== updateRevision;
}

/** What a rollout does next, given the rooms as they are now. */
export interface RolloutStep {
  /** Delete these now, each on the condition of its UID and resourceVersion. */
  replace: PodView[];
  /** Free rooms on an older revision left for a later batch. */
  pending: string[];
  /** Rooms in use on an older revision: kept until their match ends. */
  inUseOutdated: string[];
  /** Cordoned rooms (not in use) on an older revision: the operator holds them; kept until uncordoned. */
  cordonedOutdated: string[];
  /** Ordinals below the replicas without a Ready pod (missing, starting, terminating), rooms in use left out. */
  unavailable: string[];
  /** Rooms Ready on the update revision. */
  updated: number;
  /** The controller has not caught up with the new spec yet: nothing is decided. */
  waitingForController: boolean;
  /**
   * Under OrderedReady, a room in use that is not Ready: the controller would
   * recreate no room above it, so none above it is replaced while it stays so.
   */
  blockedBy?: string;
}

/**
 * Which rooms in use a rollout may replace (--delete-in-use): every one
 * (true), or only those a confirmation named, so a room allocated after the
 * question keeps its match; none when false or absent.
 */
export type InUseReplaced = boolean | ReadonlySet<string>;

/** Whether the room `name`, in use, may be replaced. */
export function replacesInUse(included: InUseReplaced | undefined, name: string): boolean {
  return typeof included === 'boolean' ? included : (included?.has(name) ?? false);
}

/**
 * The next step of a rollout. Batches of `batch` (--max-unavailable): Ready
 * Free outdated rooms are replaced while fewer than `batch` rooms below the
 * replicas are unavailable (missing, starting, terminating), so a batch is
 * Ready before the next one starts, and at most `batch` rooms are down at
 * once; a room on an older revision that is not Ready serves nobody, so it is
 * replaced at once. Rooms in use are never replaced unless `includeInUse`
 * (--delete-in-use) names them. A Cordoned room (cordoned, not in use) is the
 * operator's: never replaced, and waited for by nobody. Rooms at or above the replicas are the scale-down's, not
 * the rollout's. Lowest ordinals first: allocate hands out the lowest Free
 * ordinal on the new revision, so they come back first.
 */
export function rolloutStep(
  set: RolloutSet,
  pods: readonly PodView[],
  opts: { batch: number; includeInUse?: InUseReplaced },
): RolloutStep {
  const step: RolloutStep = {
    replace: [],
    pending: [],
    inUseOutdated: [],
    cordonedOutdated: [],
    unavailable: [],
    updated: 0,
    waitingForController: !set.observed || set.updateRevision === undefined,
  };
  const live = byOrdinal(pods, set.workload);
  const candidates: PodView[] = [];
  for (let n = 0; n < set.replicas; n++) {
    const p = live.get(n);
    const name = `${set.workload}-${n}`;
    if (!p || p.terminating) {
      step.unavailable.push(name);
      continue;
    }
    const outdated = isOutdated(p, set.updateRevision);
    const spared = p.mark?.allocated === true && !replacesInUse(opts.includeInUse, name);
    if (outdated && spared) step.inUseOutdated.push(name);
    if (outdated && p.mark?.cordoned && !p.mark.allocated) {
      step.cordonedOutdated.push(name);
      continue;
    }
    if (!p.ready) {
      // A room in use that is not Ready is its match's story, not the rollout's; under
      // OrderedReady it also stops the controller recreating any room above it.
      if (spared) {
        if (set.podManagementPolicy === 'OrderedReady') step.blockedBy ??= name;
        continue;
      }
      if (outdated && !step.waitingForController) step.replace.push(p);
      else step.unavailable.push(name);
      continue;
    }
    if (!outdated) step.updated++;
    else if (!spared && step.blockedBy === undefined) candidates.push(p);
    else if (!spared) step.pending.push(name);
  }
  const blocked = step.pending;
  if (step.waitingForController) {
    step.pending = [...candidates.map((p) => p.name), ...blocked];
    return step;
  }
  // At most `batch` rooms unavailable at once (Kubernetes' maxUnavailable): one that stays
  // unavailable (a lost node, a room that does not start) slows the rollout, never stops it
  // unless the budget is one room.
  const room = Math.max(0, opts.batch - step.unavailable.length - step.replace.length);
  step.replace.push(...candidates.slice(0, room));
  step.pending = [...candidates.slice(room).map((p) => p.name), ...blocked];
  return step;
}

/** The rollout is over for the command: nothing left to replace or to wait for (rooms in use too, with `waitInUse`). */
export function rolloutDone(step: RolloutStep, waitInUse: boolean): boolean {
  return (
    !step.waitingForController &&
    !step.replace.length &&
    !step.pending.length &&
    !step.unavailable.length &&
    (!waitInUse || !step.inUseOutdated.length)
  );
}

/** How far a rollout has come, for a progress line and the command's result. */
export interface RolloutProgress {
  revision?: string;
  updated: number;
  total: number;
  /** Rooms being replaced now (deleted, or starting on the new revision). */
  replacing: string[];
  /** Free rooms still to replace. */
  pending: number;
  /** Rooms in use kept on an older revision. */
  inUseOutdated: string[];
  /** Cordoned rooms kept on an older revision (uncordon to update them). */
  cordonedOutdated: string[];
  /** Nothing is replaced: the change only waits for its rooms (a scale, a first install). */
  waitOnly?: boolean;
}

/** The progress a step shows. */
export function rolloutProgress(set: RolloutSet, step: RolloutStep): RolloutProgress {
  return {
    revision: set.updateRevision,
    updated: step.updated,
    total: set.replicas,
    replacing: [...step.replace.map((p) => p.name), ...step.unavailable],
    pending: step.pending.length,
    inUseOutdated: step.inUseOutdated,
    cordonedOutdated: step.cordonedOutdated,
  };
}

/** "rooms on revision rooms-5d9c: 7/10 · replacing rooms-3, rooms-4 · 3 in use on older revisions". */
export function rolloutLine(p: RolloutProgress): string {
  // A wait alone reads as the wait on helm does (core/progress.ts progressLine).
  if (p.waitOnly)
    return [
      `pods ready ${p.updated}/${p.total}`,
      ...(p.replacing.length ? [`waiting for ${listed(p.replacing)}`] : []),
    ].join(' · ');
  const parts = [`rooms on revision ${p.revision ?? '(new)'}: ${p.updated}/${p.total}`];
  if (p.replacing.length) parts.push(`replacing ${listed(p.replacing)}`);
  if (p.pending) parts.push(`${p.pending} Free to replace`);
  if (p.inUseOutdated.length) parts.push(`${p.inUseOutdated.length} in use on older revisions`);
  if (p.cordonedOutdated.length) parts.push(`${p.cordonedOutdated.length} cordoned kept`);
  return parts.join(' · ');
}

/** What a rollout would do now, for its plan: every room it replaces and every room in use it spares. */
export interface RolloutPlanView {
  revision?: string;
  strategy: string;
  total: number;
  updated: number;
  /** Rooms it replaces (Free ones on an older revision; those in use too with includeInUse). */
  replace: string[];
  /** Rooms in use on an older revision that keep their build until their match ends. */
  inUse: string[];
  /** Cordoned rooms on an older revision, kept on it until uncordoned. */
  cordoned: string[];
  /** The controller has not caught up with the StatefulSet's newest spec yet. */
  waitingForController: boolean;
}

/** The whole of a rollout from the rooms now, as its plan shows it (batches aside). */
export function rolloutPlanOf(
  set: RolloutSet,
  pods: readonly PodView[],
  opts: { includeInUse?: InUseReplaced } = {},
): RolloutPlanView {
  const step = rolloutStep(set, pods, { batch: Number.POSITIVE_INFINITY, includeInUse: opts.includeInUse });
  return {
    revision: set.updateRevision,
    strategy: set.strategy,
    total: set.replicas,
    updated: step.updated,
    replace: [...step.replace.map((p) => p.name), ...step.pending],
    inUse: step.inUseOutdated,
    cordoned: step.cordonedOutdated,
    waitingForController: step.waitingForController,
  };
}

/** "1 cordoned room kept on its revision: uncordon it to update (rooms-4)"; undefined when none. */
export function cordonedKeptLine(cordoned: readonly string[]): string | undefined {
  if (!cordoned.length) return undefined;
  const one = cordoned.length === 1;
  return `${cordoned.length} cordoned room${one ? '' : 's'} kept on ${one ? 'its' : 'their'} revision: uncordon ${one ? 'it' : 'them'} to update (${listed(cordoned)})`;
}

/** "a, b, c, d, e and 3 more": the first `max` names, then how many more. */
export function listed(names: readonly string[], max = 5): string {
  return `${names.slice(0, max).join(', ')}${names.length > max ? ` and ${names.length - max} more` : ''}`;
}
