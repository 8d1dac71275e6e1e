/**
 * The one path every change to a release goes through (install on an existing
 * release, scale, tolerations, uninstall): pinned cluster, lock, settled
 * release, merged values, plan and confirmation, pre-flight, upgrade with
 * progress, and clean-up on success, error, Ctrl-C and SIGTERM. Commands pass
 * their change; they never compose these steps themselves.
 */
import { parseAllDocuments } from 'yaml';

import { budgetChange, clusterBudget, type BudgetChange } from '../core/budget.js';
import { durationMs } from '../core/duration.js';
import { inUsePhrase } from '../core/rooms.js';
import { placementOf } from '../core/placement.js';
import { pollUntil } from '../core/poll.js';
import { redactValueChanges, writeOnlyPaths } from '../core/redact.js';
import {
  budgetDelta,
  capacityProblems,
  createdObjects,
  diffValues,
  disruptions,
  inTheWayError,
  manifestView,
  nodePortProblems,
  ownedElsewhere,
  planReleaseChange,
  type ManifestObject,
  type ManifestView,
  type ReleaseChangePlan,
} from '../core/release-change.js';
import type { InstallProgress } from '../core/progress.js';
import { ExitCode, ExposePodsError } from '../errors.js';
import { kubeArgs, rollbackArgs, upgradeArgs, type KubeTarget } from '../helm/args.js';
import { bundledChartDefaults, bundledChartPath } from '../helm/chart.js';
import { detectHelm, helmOrThrow, ignoredHelmEnv, stopRunningHelm, type Helm } from '../helm/helm.js';
import {
  getManifest,
  notOurChart,
  releaseHistory,
  releaseNotFound,
  upgradedRevision,
  type HelmRevision,
} from '../helm/release.js';
import { CHART_NAME } from '../core/release.js';
import { newestRevision, readHelmRelease, type HelmReleaseRecord } from '../kube/helm-releases.js';
import { serverDryRun } from '../kube/apply.js';
import { deleteServiceExactly } from '../kube/writes.js';
import {
  listReleaseServices,
  readChangeObjects,
  readOwnership,
  serverVersion,
  type ChangeObjects,
} from '../kube/reader.js';
import { refreshReads } from '../kube/api.js';
import { loadKube, type KubeFlags, type ResolvedKube } from '../kube/config.js';
import { requireChangePermissions } from '../kube/access.js';
import { helmKubeconfig } from '../kube/exec-credential.js';
import { acquireReleaseLock, helmAlive, LOCK_SECONDS, type ReleaseLock } from '../kube/lock.js';
import { spareRoomsInUse } from './drain.js';
import { explainTimeout, followProgress } from './wait.js';

/** Every Helm revision this plugin writes has a description starting so. */
export const OPERATION_PREFIX = 'kubectl-expose-pods';

/** The cluster a command acts on, resolved once: helm and every API request use this and nothing else. */
export interface PinnedCluster {
  kube: ResolvedKube;
  namespace: string;
  /** The kubeconfig context in use, and its API server. */
  context?: string;
  server?: string;
  /** helm's flags for it: --namespace, --kube-context, and --kubeconfig when given. */
  target: KubeTarget;
  helm: Helm;
}

/** "context kind-prod (https://10.0.0.1:6443)": what a confirmation names. */
export function describeCluster(c: Pick<PinnedCluster, 'context' | 'server' | 'namespace'>): string {
  return `namespace ${c.namespace} of context ${c.context ?? '(none)'} (${c.server ?? 'no server'})`;
}

/**
 * The release as its newest release Secret records it (what `helm status`
 * reads), undefined when there is none or it was uninstalled; CONFLICT when
 * it is another chart's.
 */
async function readOurRelease(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<HelmReleaseRecord | undefined> {
  const record = await readHelmRelease(kube, namespace, release);
  if (!record || record.status === 'uninstalled') return undefined;
  if (record.chart !== CHART_NAME)
    throw notOurChart(release, namespace, `${record.chart}-${record.chartVersion}`);
  return record;
}

/**
 * Resolves the context once and hands helm the same one explicitly, so helm
 * and our API requests can never act on different clusters. helm's own
 * HELM_KUBE* variables are dropped from its environment (helm/helm.ts), with a warning.
 */
export async function pinCluster(
  flags: KubeFlags,
  helmBinary: string | undefined,
  warn: (message: string) => void,
): Promise<PinnedCluster> {
  const kube = await loadKube(flags);
  const server = kube.kc.getCurrentCluster()?.server;
  const ignored = ignoredHelmEnv();
  if (ignored.length) {
    warn(
      `ignoring ${ignored.join(', ')}: helm acts on ${kube.context ? `context ${kube.context}` : 'the kubeconfig'}, as every request of this command does (use --context to choose another)`,
    );
  }
  const helm = await detectHelm(helmBinary);
  // Signed in through an exec plugin: helm gets the credential, so the user signs in once per command.
  const signedIn = await helmKubeconfig(kube.kc);
  return {
    kube,
    namespace: kube.namespace,
    context: kube.context,
    server,
    target: { namespace: kube.namespace, kubeconfig: signedIn ?? flags.kubeconfig, context: kube.context },
    helm,
  };
}

/**
 * Whether revision i was written by this plugin: its description carries our
 * prefix, or it is the rollback our settling runs ("Rollback to N", as helm
 * describes it) of a revision of ours, interrupted and left pending-rollback.
 */
export function ourRevision(history: HelmRevision[], i: number): boolean {
  const r = history[i];
  if (!r) return false;
  if (r.description.startsWith(OPERATION_PREFIX)) return true;
  return (
    r.status === 'pending-rollback' && /^Rollback to \d+$/.test(r.description) && ourRevision(history, i - 1)
  );
}

/**
 * The release must exist, be ours, and not be mid-operation. A revision left
 * pending by an operation of ours that died is rolled back: it is one written while the
 * dead holder of our lock held it (or one our description names).
 */
export async function settleRelease(
  helm: Helm,
  release: string,
  target: KubeTarget,
  found: { status: string },
  previous: ReleaseLock['previous'],
  warn: (message: string) => void,
): Promise<string> {
  if (!found.status.startsWith('pending')) return found.status;
  const history = await releaseHistory(helm, release, target);
  const last = history[history.length - 1];
  const deployed = [...history].reverse().find((r) => r.status === 'deployed' || r.status === 'superseded');
  const grace = LOCK_SECONDS * 1000;
  const duringDeadHolder =
    previous !== undefined &&
    last !== undefined &&
    last.updated >= previous.acquired - grace &&
    last.updated <= previous.renewed + grace;
  if (last && deployed && (duringDeadHolder || ourRevision(history, history.length - 1))) {
    warn(
      `release ${release} was left ${found.status} by an interrupted operation (revision ${last.revision}); rolling back to revision ${deployed.revision} first`,
    );
    await helmOrThrow(helm, 'rollback', rollbackArgs(release, deployed.revision, target));
    return 'rolled back';
  }
  throw new ExposePodsError(
    `another operation is in progress on release ${release}: it is ${found.status}${last ? ` (revision ${last.revision}: ${last.description})` : ''}`,
    ExitCode.CONFLICT,
    `Wait for it to finish; if it died, roll back with: helm rollback ${release} -n ${target.namespace}`,
  );
}

/**
 * Waits, up to `deadlineMs`, for the helm that a dead holder of the lock left
 * running on this machine. Past the deadline it goes on: the release's state
 * (settleRelease) decides what happens next.
 */
export async function awaitOrphanedHelm(
  lock: ReleaseLock | undefined,
  deadlineMs: number,
  warn: (message: string) => void,
): Promise<void> {
  const orphan = lock?.orphanedHelm;
  if (!orphan || !helmAlive(orphan)) return;
  const { pid } = orphan;
  warn(
    `an interrupted operation left helm running (pid ${pid}); waiting up to ${Math.round(deadlineMs / 1000)}s for it`,
  );
  const gone = await pollUntil(() => (helmAlive(orphan) ? undefined : true), {
    timeoutMs: deadlineMs,
    intervalMs: 500,
  });
  if (!gone)
    warn(`helm (pid ${pid}) is still running after ${Math.round(deadlineMs / 1000)}s; going on without it`);
}

/** What a confirmation asks before a disruptive step. */
export interface ConfirmAsk {
  /** The refusal without a terminal: "this scale removes 2 Ready pod(s)". */
  what: string;
  /** The question on a terminal: "This removes 2 Ready pod(s). Go ahead?". */
  question: string;
  /** The cluster and namespace it acts on (a change session names its own). */
  cluster?: string;
  /** What the refusal says happened; default "Nothing was changed." */
  unchanged?: string;
}

/**
 * The command's gate before a disruptive step (output/confirm.ts: --yes, a yes
 * on a terminal, or a refusal): it resolves on yes and throws NOT_CONFIRMED
 * otherwise, so an operation never goes on after a no.
 */
export type Confirm = (ask: ConfirmAsk) => Promise<void>;

/** What the caller of a change learns before it is applied. */
export interface ChangePreview {
  release: string;
  /** The cluster and namespace, as the confirmation names them. */
  cluster: string;
  /** False for a first install. */
  exists: boolean;
  plan: ReleaseChangePlan;
  /** Why it needs a yes ("removes 2 Ready pod(s)", ...); empty when it needs none. */
  disruptions: string[];
  /** The cluster-wide NodePorts, ClusterIPs and pod slots, now and after the change. */
  budget: BudgetChange;
}

/** A change, as a command hands it to the path. */
export interface ChangeSpec {
  /** Helm values flags on top of the release's own values (-f files, --set ...), in order. */
  values: string[];
  /**
   * Numbers set by dotted path (room.replicas), after `values`. A change of
   * these alone has values known here, so its preview renders the chart
   * locally (helm template) instead of Helm's upgrade dry run, which builds
   * every object of the release before and after (seconds at 1000 rooms).
   */
  set?: Record<string, number>;
  /** Start from the chart's defaults, not the release's values (install --reset-values). */
  resetValues?: boolean;
  /** helm's revision description: "<OPERATION_PREFIX> scale 2 -> 5". */
  description: string;
  /** Extra reasons the command refuses, given the rendered change; each a sentence. */
  problems?: (after: ManifestView, live: ChangeObjects) => string[];
  /** Take fields another manager owns (spec.replicas after kubectl scale); Helm 4 only. */
  forceConflicts?: boolean;
  /** The namespace does not exist yet (install --create-namespace): the API server cannot dry-run into it. */
  skipServerDryRun?: boolean;
  /** Called with the plan once it is worked out, before the checks that may refuse it. */
  onPlanned?: (p: ChangePreview) => void;
  /**
   * Rooms in use (Allocated) that the change removes are removed anyway, and
   * the preview's disruptions name them; otherwise apply waits until they are freed.
   */
  deleteInUse?: boolean;
}

/** An open session on one release: pinned, locked and settled. */
export interface ChangeSession {
  cluster: PinnedCluster;
  release: string;
  /** False when the release does not exist yet (a first install). */
  exists: boolean;
  /** The values the user supplied so far (helm get values); {} for a new release. */
  userValues: Record<string, unknown>;
  /** The computed values (helm get values --all): the user's over the chart's defaults; {} for a new release. */
  values: Record<string, unknown>;
  /** The newest revision number of the release now (after an apply, the one it wrote); 0 when none. */
  revision(): Promise<number>;
  /** The release's status after settling: deployed, failed, rolled back, or "none". */
  status: string;
  /** Aborted on SIGINT/SIGTERM/SIGHUP and when the lock is lost. */
  signal: AbortSignal;
  /** Asks the command's confirmation, naming this session's cluster; throws NOT_CONFIRMED on anything but yes. */
  confirm(ask: Omit<ConfirmAsk, 'cluster'>): Promise<void>;
  /** Renders the change (server dry run), plans it, and runs the pre-flight checks; writes nothing. */
  preview(change: ChangeSpec): Promise<ChangePreview & { rendered: ManifestObject[] }>;
  /** helm upgrade --install of the change, waiting with progress; then removes Services the release no longer has. */
  apply(
    change: ChangeSpec,
    opts: {
      wait: boolean;
      timeout: string;
      createNamespace?: boolean;
      onProgress?: (p: InstallProgress) => void;
      /** While it waits for rooms in use to be freed: which. */
      onWaitingInUse?: (inUse: string[]) => void;
    },
  ): Promise<string>;
}

export interface SessionRequest {
  release: string;
  kube: KubeFlags;
  helmBinary?: string;
  /** Lock annotation: "scale --replicas 5". */
  operation: string;
  /** A missing release is a first install instead of NOT_FOUND. */
  allowMissing?: boolean;
  /** Read only: no lock, no settling. */
  dryRun?: boolean;
  /** How long to wait for a helm an interrupted run left behind. */
  orphanWaitMs: number;
  /** The gate before a disruptive step; session.confirm asks it. */
  confirm: Confirm;
  warn: (message: string) => void;
}

/** Exit codes for the signals we stop on, as shells report them. */
const SIGNAL_EXIT = {
  SIGINT: ExitCode.INTERRUPTED,
  SIGTERM: ExitCode.TERMINATED,
  SIGHUP: ExitCode.HUNG_UP,
} as const;

/** The parts of `helm upgrade -o json` we read: the user's values, the chart's defaults and schema, the manifest. */
interface HelmReleaseJson {
  config?: Record<string, unknown> | null;
  /** schema: values.schema.json, base64 (Go's []byte), as both Helm majors print it. */
  chart?: { values?: Record<string, unknown> | null; schema?: string | null };
  manifest?: string;
}

/** The values the chart's schema marks writeOnly (secrets), by dotted path; none when it has no schema. */
function schemaSecrets(rel: HelmReleaseJson): Set<string> {
  if (!rel.chart?.schema) return new Set();
  try {
    return writeOnlyPaths(JSON.parse(Buffer.from(rel.chart.schema, 'base64').toString('utf8')));
  } catch {
    return new Set();
  }
}

/** A value as the chart sees it: the user's, else the chart's default. */
function computedValue(rel: HelmReleaseJson, path: string[]): unknown {
  const get = (o: unknown) =>
    path.reduce<unknown>(
      (x, k) => (x && typeof x === 'object' ? (x as Record<string, unknown>)[k] : undefined),
      o,
    );
  return get(rel.config) ?? get(rel.chart?.values);
}

/**
 * Parses a helm manifest (or a rendered chart) into its objects. With a
 * `cache`, a document already parsed (the same text) is not parsed again: a
 * change's manifests before and after share all but the objects it changes,
 * and parsing a thousand rooms' Services is most of a preview's own time.
 * The objects are then shared: callers must not change them.
 */
export function parseManifest(text: string, cache?: Map<string, ManifestObject[]>): ManifestObject[] {
  const parse = (yaml: string) =>
    parseAllDocuments(yaml)
      .map((d) => d.toJS() as ManifestObject | null)
      .filter((o): o is ManifestObject => o !== null && typeof o === 'object');
  if (!cache) return parse(text);
  // Each piece starts at a document marker (a marker is always at column 0); a piece is still parsed as a stream.
  return text.split(/^(?=---(?:[ \t]|$))/m).flatMap((piece) => {
    let objects = cache.get(piece);
    if (!objects) {
      objects = parse(piece);
      cache.set(piece, objects);
    }
    return objects;
  });
}

/** What a session's preview and apply share once it is open. */
interface OpenSession {
  req: SessionRequest;
  cluster: PinnedCluster;
  exists: boolean;
  userValues: Record<string, unknown>;
  signal: AbortSignal;
  lock?: ReleaseLock;
  /** The release's newest revision as its Secret records it; undefined for a first install. */
  record?: HelmReleaseRecord;
  /** The objects the last preview rendered: what apply keeps when it removes orphaned Services. */
  lastPreview?: ManifestObject[];
  /** The revision the last apply wrote, as helm reported it. */
  applied?: number;
}

/** helm's values flags for a change: the release's own values on stdin first, unless it resets them. */
function changeValues(s: OpenSession, change: ChangeSpec): { args: string[]; stdin?: string } {
  const values = [
    ...change.values,
    ...Object.entries(change.set ?? {}).flatMap(([k, n]) => ['--set', `${k}=${n}`]),
  ];
  if (change.resetValues) return { args: values };
  return { args: ['--values', '-', ...values], stdin: JSON.stringify(s.userValues) };
}

/** The user's values with numbers set by dotted path, as helm's --set leaves them (a copy). */
export function withSet(
  values: Record<string, unknown>,
  set: Record<string, number>,
): Record<string, unknown> {
  const out = structuredClone(values);
  for (const [dotted, n] of Object.entries(set)) {
    const path = dotted.split('.');
    const last = path.pop() ?? '';
    let at: Record<string, unknown> = out;
    for (const k of path) {
      const next = at[k];
      at =
        next && typeof next === 'object' && !Array.isArray(next)
          ? (next as Record<string, unknown>)
          : (at[k] = {});
    }
    at[last] = n;
  }
  return out;
}

/** Whether the change renders locally (renderChange): numbers alone, on the release's own values. */
function rendersLocally(
  s: OpenSession,
  change: ChangeSpec,
): change is ChangeSpec & { set: Record<string, number> } {
  return change.set !== undefined && !change.resetValues && s.exists;
}

/**
 * The change rendered as Helm's release JSON: the user's values after it, the
 * chart's defaults and schema, the manifest. A change of numbers alone
 * (`set`) renders locally: helm template, the bundled chart's files, and
 * previewChange's refuseObjectsInTheWay in place of the ownership check of helm's dry run.
 * Any other is helm's upgrade dry run (server), which parses -f files and --set itself.
 */
async function renderChange(s: OpenSession, change: ChangeSpec): Promise<HelmReleaseJson> {
  const { req, cluster } = s;
  const chart = await bundledChartPath();
  const v = changeValues(s, change);
  if (rendersLocally(s, change)) {
    // Rendered for the cluster's version: the chart's kubeVersion is checked as the upgrade will check it.
    const [kubeVersion, defaults] = await Promise.all([
      serverVersion(cluster.kube),
      bundledChartDefaults(chart),
    ]);
    const manifest = await helmOrThrow(
      cluster.helm,
      'template',
      [
        'template',
        req.release,
        chart,
        '--namespace',
        cluster.namespace,
        '--kube-version',
        kubeVersion,
        ...v.args,
      ],
      { stdin: v.stdin, signal: s.signal },
    );
    return { config: withSet(s.userValues, change.set), chart: defaults, manifest };
  }
  const out = await helmOrThrow(
    cluster.helm,
    'upgrade --dry-run',
    [
      'upgrade',
      '--install',
      req.release,
      chart,
      ...kubeArgs(cluster.target),
      ...v.args,
      '--dry-run=server',
      '-o',
      'json',
    ],
    { stdin: v.stdin, signal: s.signal },
  );
  return JSON.parse(out) as HelmReleaseJson;
}

/** Exit 9 when an object the change creates exists outside the release, as helm's upgrade would refuse it. */
async function refuseObjectsInTheWay(
  s: OpenSession,
  before: ManifestObject[],
  after: ManifestObject[],
): Promise<void> {
  const created = createdObjects(before, after).filter(
    (o) => o.metadata?.annotations?.['helm.sh/hook'] === undefined,
  );
  if (!created.length) return;
  for (const live of await readOwnership(s.cluster.kube, s.cluster.namespace, created)) {
    const other = ownedElsewhere(live, s.req.release);
    if (other) throw inTheWayError(other, s.req.release);
  }
}

/** Renders the change (renderChange), plans it with the live objects, and runs the checks that may refuse it. */
async function previewChange(
  s: OpenSession,
  change: ChangeSpec,
): Promise<ChangePreview & { rendered: ManifestObject[] }> {
  const { req, cluster, exists } = s;
  const { kube, namespace } = cluster;
  // The release's manifest now is its record's, read when the session opened.
  const beforeText = s.record?.manifest;
  const [rel, live] = await Promise.all([
    renderChange(s, change),
    readChangeObjects(kube, namespace, req.release),
  ]);
  const parsed = new Map<string, ManifestObject[]>();
  const beforeObjects = beforeText === undefined ? undefined : parseManifest(beforeText, parsed);
  const rendered = parseManifest(rel.manifest ?? '', parsed);
  // helm's dry run refuses an object in the way itself; a local render is checked here.
  if (rendersLocally(s, change) && beforeObjects) await refuseObjectsInTheWay(s, beforeObjects, rendered);
  const after = manifestView(rendered);
  const before = beforeObjects && manifestView(beforeObjects);
  const plan = planReleaseChange(
    before,
    after,
    // Never a password in a plan: on a terminal, in a CI log, or in -o json.
    redactValueChanges(diffValues(exists ? s.userValues : {}, rel.config ?? {}), schemaSecrets(rel)),
    live.pods,
  );
  const existing = live.pods.filter((p) => !p.terminating).length;
  const budget = budgetChange(
    clusterBudget(live, placementOf(after.statefulSet?.template)),
    budgetDelta(before, after, existing),
  );
  const preview: ChangePreview = {
    release: req.release,
    cluster: describeCluster(cluster),
    exists,
    plan,
    disruptions: disruptions(plan, change.deleteInUse),
    budget,
  };
  change.onPlanned?.(preview);

  // A rolling update replaces every pod it restarts, and with it the match in a room in use.
  if (!req.dryRun && plan.restartInUse.length && !change.deleteInUse)
    throw new ExposePodsError(
      `this change ${inUsePhrase(plan.restartInUse, 'restarts')}: their matches would end; nothing was changed`,
      ExitCode.ROOMS_IN_USE,
      `Run it when those rooms are free (kubectl expose-pods deallocate ${req.release} -n ${namespace} POD), or add --delete-in-use to restart them anyway.`,
    );
  const problems = preflightProblems(s, change, { after, live, budget, existing, rel });
  if (problems.length) {
    throw new ExposePodsError(
      `cannot ${exists ? 'change' : 'install'} release ${req.release}:\n${problems.map((p) => `  ${p}`).join('\n')}`,
      ExitCode.INVALID_VALUES,
      'Nothing was changed.',
    );
  }
  // The API server checks what will be created or changed: ports taken, quotas, admission.
  if (!change.skipServerDryRun) {
    const changing = new Set([...plan.addServices, ...plan.movedNodePorts.map((m) => m.service)]);
    await serverDryRun(
      kube,
      rendered.filter(
        (o) => o.kind === 'StatefulSet' || (o.kind === 'Service' && changing.has(o.metadata?.name ?? '')),
      ),
    );
  }
  s.lastPreview = rendered;
  return { ...preview, rendered };
}

/** The checks every change shares (nodePorts free cluster-wide, pod slots, onePerNode), and the command's own. */
function preflightProblems(
  s: OpenSession,
  change: ChangeSpec,
  c: {
    after: ManifestView;
    live: ChangeObjects;
    budget: BudgetChange;
    existing: number;
    rel: HelmReleaseJson;
  },
): string[] {
  const problems: string[] = [];
  if (c.live.allServices)
    problems.push(...nodePortProblems(c.after, c.live.allServices, s.req.release, s.cluster.namespace));
  else
    s.req.warn(
      'not allowed to list Services in all namespaces: nodePort collisions are checked by the API server only',
    );
  const replicas = c.after.statefulSet?.replicas ?? 0;
  const onePerNode = computedValue(c.rel, ['room', 'onePerNode']) === true;
  if (c.budget.podSlots)
    problems.push(
      ...capacityProblems(Math.max(0, replicas - c.existing), replicas, onePerNode, c.budget.podSlots.now),
    );
  problems.push(...(change.problems?.(c.after, c.live) ?? []));
  return problems;
}

/** helm upgrade --install of the change, with progress while it waits; then removes Services the release no longer has. */
async function applyChange(
  s: OpenSession,
  change: ChangeSpec,
  opts: Parameters<ChangeSession['apply']>[1],
): Promise<string> {
  const { req, cluster } = s;
  const { helm, target, namespace } = cluster;
  const replicas = s.lastPreview?.find((o) => o.kind === 'StatefulSet')?.spec?.replicas;
  // Rooms in use are never removed by surprise: those going are marked Draining, and waited for.
  if (s.exists && typeof replicas === 'number')
    await spareRoomsInUse(cluster.kube, namespace, req.release, replicas, {
      deleteInUse: change.deleteInUse ?? false,
      timeoutMs: durationMs(opts.timeout) ?? 0,
      signal: s.signal,
      onWaiting: opts.onWaitingInUse,
    });
  const v = changeValues(s, change);
  const args = upgradeArgs(helm.version.major, req.release, await bundledChartPath(), target, v.args, {
    createNamespace: opts.createNamespace ?? false,
    wait: opts.wait,
    timeout: opts.timeout,
    description: change.description,
    forceConflicts: change.forceConflicts,
  });
  const run = helmOrThrow(helm, 'upgrade --install', args, {
    stdin: v.stdin,
    signal: s.signal,
    onSpawn: (pid) => void s.lock?.noteHelm(pid, s.cluster.helm.path),
  });
  const ref = { release: req.release, kube: cluster.kube };
  if (opts.wait && opts.onProgress) await followProgress(ref, opts.onProgress, run, s.signal);
  let output: string;
  try {
    output = await run;
  } catch (e) {
    if (e instanceof ExposePodsError && e.exitCode === ExitCode.TIMEOUT) throw await explainTimeout(e, ref);
    throw e;
  } finally {
    // helm wrote the release's objects: what was read before is old.
    refreshReads(cluster.kube);
  }
  s.applied = upgradedRevision(output);
  await removeOrphanedServices(cluster, req.release, s.lastPreview);
  return output;
}

/**
 * SIGINT, SIGTERM and SIGHUP stop helm and abort the session with exit 130/143/129, until
 * disposed. helm runs in a process group of its own (helm/helm.ts), so a
 * terminal's Ctrl-C reaches only us: we stop helm deliberately, with SIGTERM,
 * and wait for it. A second signal does not wait: helm is killed and the
 * command exits at once (its lease then lapses by itself).
 */
export function stopOnSignals(
  release: string,
  namespace: string,
  io: {
    stop: (signal: NodeJS.Signals) => number;
    write: (text: string) => void;
    exit: (code: number) => void;
  } = {
    stop: stopRunningHelm,
    write: (text) => process.stderr.write(text),
    exit: (code) => process.exit(code),
  },
): { signal: AbortSignal; dispose: () => void } {
  const interrupt = new AbortController();
  const onSignal = (sig: keyof typeof SIGNAL_EXIT) => () => {
    if (interrupt.signal.aborted) {
      const killed = io.stop('SIGKILL');
      io.write(
        `error: interrupted again (${sig}): ${killed ? 'helm was killed' : 'stopping now'}\nThe release may be left pending; the next command on release ${release} rolls it back first (the lock lapses within ${LOCK_SECONDS}s).\n`,
      );
      io.exit(SIGNAL_EXIT[sig]);
      return;
    }
    io.stop('SIGTERM');
    interrupt.abort(
      new ExposePodsError(
        `interrupted (${sig}): helm was stopped`,
        SIGNAL_EXIT[sig],
        `helm marks the revision it was writing failed; the next command on release ${release} upgrades from there (a revision left pending is rolled back first). See: helm history ${release} -n ${namespace}`,
      ),
    );
  };
  // SIGHUP too: a closed terminal must stop our helm as a kill does (it runs in a process group of its own).
  const handlers = { SIGINT: onSignal('SIGINT'), SIGTERM: onSignal('SIGTERM'), SIGHUP: onSignal('SIGHUP') };
  process.on('SIGINT', handlers.SIGINT);
  process.on('SIGTERM', handlers.SIGTERM);
  process.on('SIGHUP', handlers.SIGHUP);
  return {
    signal: interrupt.signal,
    dispose: () => {
      process.off('SIGINT', handlers.SIGINT);
      process.off('SIGTERM', handlers.SIGTERM);
      process.off('SIGHUP', handlers.SIGHUP);
    },
  };
}

/**
 * Opens a change session on a release, runs `body`, and always cleans up:
 * the lock is released, signal handlers are removed, and on SIGINT/SIGTERM/SIGHUP
 * the helm child is stopped and the command ends with exit 130/143/129.
 */
export async function withReleaseChange<T>(
  req: SessionRequest,
  body: (s: ChangeSession) => Promise<T>,
): Promise<T> {
  const cluster = await pinCluster(req.kube, req.helmBinary, req.warn);
  const { helm, target, kube, namespace } = cluster;
  // Every permission a change needs, checked before anything is written: exit 6 names each one missing.
  if (!req.dryRun) await requireChangePermissions(kube, namespace, req.release);
  // The release as its newest release Secret records it: no helm process, one read of it.
  let record = await readOurRelease(kube, namespace, req.release);
  if (!record && !req.allowMissing) throw releaseNotFound(req.release, namespace);
  const exists = record !== undefined;

  const interrupt = stopOnSignals(req.release, namespace);
  let lock: ReleaseLock | undefined;
  try {
    lock =
      req.dryRun || !exists
        ? undefined
        : await acquireReleaseLock(kube, namespace, req.release, req.operation, req.warn);
    const signal = lock ? AbortSignal.any([interrupt.signal, lock.signal]) : interrupt.signal;
    let status = 'none';
    if (record) {
      await awaitOrphanedHelm(lock, req.orphanWaitMs, req.warn);
      // Looked at again under the lock (names and labels only): read again only if it changed before we held it.
      if (lock) {
        const now = await newestRevision(kube, namespace, req.release);
        if (now?.revision !== record.revision || now.status !== record.status)
          record = (await readOurRelease(kube, namespace, req.release)) ?? record;
      }
      status = req.dryRun
        ? record.status
        : await settleRelease(helm, req.release, target, record, lock?.previous, req.warn);
      if (status === 'rolled back') {
        // helm's rollback wrote a revision and changed the objects: nothing read before it holds.
        refreshReads(kube);
        record = (await readOurRelease(kube, namespace, req.release)) ?? record;
      }
    }
    const userValues = record?.userValues ?? {};
    const open: OpenSession = { req, cluster, exists, userValues, signal, lock, record };
    const result = await body({
      cluster,
      release: req.release,
      exists,
      userValues,
      values: record?.values ?? {},
      status,
      signal,
      confirm: (ask) => req.confirm({ ...ask, cluster: describeCluster(cluster) }),
      // After an apply, the revision helm reported; otherwise the newest release Secret's.
      revision: async () =>
        open.applied ?? (await newestRevision(kube, namespace, req.release))?.revision ?? 0,
      preview: (change) => previewChange(open, change),
      apply: (change, opts) => applyChange(open, change, opts),
    });
    if (lock?.lost()) throw lock.signal.reason as Error;
    return result;
  } catch (e) {
    // An abort (signal or lost lock) surfaces as whatever failed first; report the abort.
    if (interrupt.signal.aborted) throw interrupt.signal.reason as Error;
    if (lock?.signal.aborted) throw lock.signal.reason as Error;
    throw e;
  } finally {
    interrupt.dispose();
    await lock?.release();
  }
}

/**
 * After a failed upgrade a release can leave Services behind that its last
 * manifest no longer lists, so neither the next upgrade nor helm uninstall
 * removes them, and their nodePorts stay allocated. Those that Helm made for
 * this release (its annotations say so) and that `keep` (the manifest now)
 * does not list are deleted, each by UID.
 */
export async function removeOrphanedServices(
  cluster: PinnedCluster,
  release: string,
  keep: ManifestObject[] | undefined,
): Promise<string[]> {
  const manifest =
    keep ?? parseManifest(await getManifest(cluster.helm, release, cluster.target).catch(() => ''));
  const listed = new Set(manifest.filter((o) => o.kind === 'Service').map((o) => o.metadata?.name));
  const orphans = (await listReleaseServices(cluster.kube, cluster.namespace, release)).filter(
    (s) => !listed.has(s.name),
  );
  for (const s of orphans) await deleteServiceExactly(cluster.kube, cluster.namespace, s);
  return orphans.map((s) => s.name);
}
