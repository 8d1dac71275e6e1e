/**
 * The rollout phase of a change: after the StatefulSet (updateStrategy
 * OnDelete) took a new pod template, the Free rooms on older revisions are
 * replaced in batches, each Ready before the next, and rooms in use keep
 * their build until their match ends. Every delete is conditioned on the
 * pod's UID and resourceVersion (kube/writes.ts deletePodExactly), so a room
 * allocated after it was read is never deleted. Also the wait for the rooms
 * of a scale-up: under OnDelete helm does not wait for the StatefulSet.
 */
import { pollUntil } from '../core/poll.js';
import {
  batchSize,
  listed,
  rolloutDone,
  rolloutLine,
  rolloutProgress,
  rolloutSetOf,
  rolloutStep,
  type InUseReplaced,
  type MaxUnavailable,
  type RolloutProgress,
  type RolloutStep,
} from '../core/rollout.js';
import type { PodView } from '../core/model.js';
import { ExitCode, ExposePodsError } from '../errors.js';
import { pollReads } from '../kube/api.js';
import type { ResolvedKube } from '../kube/config.js';
import { readRolloutObjects } from '../kube/reader.js';
import { deletePodExactly, type DeleteOutcome } from '../kube/writes.js';

/** How often a rollout reads the rooms again. */
const ROLLOUT_POLL_MS = 500;
/** Deletes of one batch in flight at once. */
const DELETE_PARALLEL = 16;

export interface RolloutOptions {
  maxUnavailable: MaxUnavailable;
  timeoutMs: number;
  /** Also wait for the rooms in use, replacing each once its match ends (--wait-in-use). */
  waitInUse?: boolean;
  /** Replace rooms in use too (--delete-in-use, confirmed): all of them, or those the confirmation named; their matches end. */
  includeInUse?: InUseReplaced;
  /** Replace nothing, only wait for the rooms to be Ready (a change that left the pod template as it was: a scale). */
  waitOnly?: boolean;
  signal?: AbortSignal;
  /** Each new state of the rollout. */
  onProgress?: (p: RolloutProgress) => void;
}

/** How a rollout ended for the command. */
export interface RolloutResult extends RolloutProgress {
  /** The rooms this command replaced. */
  replaced: string[];
}

/** Deletes each pod on the condition of its UID and resourceVersion, a few at a time. */
async function replacePods(
  kube: ResolvedKube,
  namespace: string,
  pods: readonly PodView[],
): Promise<DeleteOutcome[]> {
  const out: DeleteOutcome[] = new Array<DeleteOutcome>(pods.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < pods.length; i = next++) {
      const p = pods[i];
      if (!p) continue;
      // Without both preconditions a delete could cross an allocation: not ours to make.
      out[i] =
        p.uid && p.resourceVersion
          ? await deletePodExactly(kube, namespace, {
              name: p.name,
              uid: p.uid,
              resourceVersion: p.resourceVersion,
            })
          : 'conflict';
    }
  };
  await Promise.all(Array.from({ length: Math.min(DELETE_PARALLEL, pods.length) }, worker));
  return out;
}

/**
 * Replaces the release's Free rooms on older revisions until every room below
 * the replicas is Ready on the StatefulSet's update revision (rooms in use
 * excepted, unless `waitInUse`). On timeout: exit 15 when only rooms in use
 * are left, exit 10 otherwise; nothing is undone (run `rollout` to go on).
 */
export async function rolloutRooms(
  kube: ResolvedKube,
  namespace: string,
  release: string,
  opts: RolloutOptions,
): Promise<RolloutResult> {
  const reads = pollReads(kube);
  const replaced = new Set<string>();
  let last: { progress: RolloutProgress; step: RolloutStep } | undefined;
  let shown = '';
  const done = await pollUntil(
    async () => {
      reads.next();
      const { set: view, pods } = await readRolloutObjects(kube, namespace, release);
      const set = rolloutSetOf(view);
      const step = rolloutStep(set, pods, {
        batch: batchSize(opts.maxUnavailable, set.replicas),
        includeInUse: opts.includeInUse,
      });
      // Rooms left outdated by an earlier rollout are that rollout's to finish (`rollout`), not this change's.
      if (opts.waitOnly)
        Object.assign(step, { replace: [], pending: [], inUseOutdated: [], cordonedOutdated: [] });
      const outcomes = await replacePods(kube, namespace, step.replace);
      step.replace.forEach((p, i) => {
        if (outcomes[i] === 'deleted') replaced.add(p.name);
      });
      const progress: RolloutProgress = opts.waitOnly
        ? { ...rolloutProgress(set, step), updated: set.replicas - step.unavailable.length, waitOnly: true }
        : rolloutProgress(set, step);
      last = { progress, step };
      const line = rolloutLine(progress);
      if (line !== shown) opts.onProgress?.(progress);
      shown = line;
      return rolloutDone(step, opts.waitInUse ?? false) ? true : undefined;
    },
    { timeoutMs: opts.timeoutMs, intervalMs: ROLLOUT_POLL_MS, signal: opts.signal },
  );
  const result = (p: RolloutProgress): RolloutResult => ({ ...p, replaced: [...replaced].sort() });
  if (done && last) return result(last.progress);
  if (opts.waitOnly)
    throw new ExposePodsError(
      `the wait for the rooms timed out after ${Math.round(opts.timeoutMs / 1000)}s`,
      ExitCode.TIMEOUT,
      'Raise --timeout, or fix the cause.',
    );
  throw rolloutTimeout(release, namespace, last?.step, opts.timeoutMs);
}

/** "a, b, c and 2 more", naming at most ten. */
const names = (pods: readonly string[]) => listed(pods, 10);

/** Why a rollout did not finish in time: rooms in use still on older revisions (15), or rooms not Ready (10). */
function rolloutTimeout(
  release: string,
  namespace: string,
  step: RolloutStep | undefined,
  timeoutMs: number,
): ExposePodsError {
  const secs = Math.round(timeoutMs / 1000);
  const resume = `kubectl expose-pods rollout ${release} -n ${namespace}`;
  if (step && !step.unavailable.length && !step.pending.length && !step.replace.length)
    return new ExposePodsError(
      `the rollout timed out after ${secs}s: ${step.inUseOutdated.length} room(s) in use (Allocated) still run an older revision: ${names(step.inUseOutdated)}; nothing was undone`,
      ExitCode.ROOMS_IN_USE,
      `Each is replaced when its match ends (kubectl expose-pods deallocate replaces it); run ${resume} --wait-in-use to wait again.`,
    );
  const notReady = step?.unavailable ?? [];
  if (step?.blockedBy)
    return new ExposePodsError(
      `the rollout timed out after ${secs}s: room ${step.blockedBy} is in use and not Ready, and under podManagementPolicy OrderedReady the StatefulSet recreates no room above it, so ${step.pending.length} Free room(s) above it were left on the older revision; nothing was undone`,
      ExitCode.TIMEOUT,
      `When its match ends (kubectl expose-pods deallocate ${release} -n ${namespace} ${step.blockedBy}) or it is Ready again, run ${resume}.`,
    );
  return new ExposePodsError(
    `the rollout timed out after ${secs}s${notReady.length ? `: not Ready on the new revision: ${names(notReady)}` : ''}; nothing was undone`,
    ExitCode.TIMEOUT,
    `See why with: kubectl expose-pods status ${release} -n ${namespace}. A new build that does not start stops the rollout after one batch; fix it (or install the old one again) and run ${resume}.`,
  );
}
