/** A change's plan: the chart rendered with the release's values and the change, planned against the live objects, and the checks that may refuse it; nothing is written. */
import { parseAllDocuments } from 'yaml';
import { budgetChange, clusterBudget, type BudgetChange } from '../core/budget.js';
import { inUsePhrase } from '../core/rooms.js';
import { placementOf } from '../core/placement.js';
import { ordinalOf } from '../core/model.js';
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
  renameProblem,
  serviceInUsePhrase,
  type ManifestObject,
  type ReleaseChangePlan,
  type ManifestView,
} from '../core/release-change.js';
import { ExitCode, ExposePodsError } from '../errors.js';
import { kubeArgs } from '../helm/args.js';
import { bundledChartDefaults, bundledChartPath } from '../helm/chart.js';
import { helmOrThrow } from '../helm/helm.js';
import { canonicalJson, serverDryRun, serverDryRunObject } from '../kube/apply.js';
import {
  readChangeObjects,
  readOwnership,
  readPlanObjects,
  serverVersion,
  type ChangeObjects,
  type PlanObjects,
} from '../kube/reader.js';
import { refreshReads } from '../kube/api.js';
import type { ResolvedKube } from '../kube/config.js';
import { describeCluster } from './change-pin.js';
import type { ChangePreview, ChangeSpec, OpenSession } from './mutation.js';

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

/** helm's values flags for a change: the release's own values on stdin first, unless it resets them. */
export function changeValues(s: OpenSession, change: ChangeSpec): { args: string[]; stdin?: string } {
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
export async function previewChange(
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
  const renamed = req.dryRun
    ? undefined
    : renameProblem(live.statefulSet, after, live.pods, req.release, namespace, change.deleteInUse ?? false);
  if (renamed) throw renamed;
  const liveTemplateChanged = await liveTemplateChange(s, change, rendered, live, beforeObjects);
  const plan = planReleaseChange(
    before,
    after,
    // Never a password in a plan: on a terminal, in a CI log, or in -o json.
    redactValueChanges(diffValues(exists ? s.userValues : {}, rel.config ?? {}), schemaSecrets(rel)),
    live.pods,
    { deleteInUse: change.deleteInUse, liveTemplateChanged, live: live.statefulSet },
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
    disruptions: [...disruptions(plan, change.deleteInUse), ...renameDisruption(live, after)],
    budget,
  };
  change.onPlanned?.(preview);

  if (!req.dryRun && !change.deleteInUse) refuseRoomsInUse(plan, after, req.release, namespace);
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
        (o) =>
          (o.kind === 'StatefulSet' && liveTemplateChanged === undefined) ||
          (o.kind === 'Service' && changing.has(o.metadata?.name ?? '')),
      ),
    );
  }
  s.lastPreview = rendered;
  s.lastPlan = plan;
  s.lastPlanInput = {
    before,
    after,
    opts: { deleteInUse: change.deleteInUse, liveTemplateChanged, live: live.statefulSet },
  };
  return { ...preview, rendered };
}

/**
 * Whether the pod template the change applies differs from the live
 * StatefulSet's: the server's dry run of the rendered StatefulSet (defaults
 * and admission included) against the live one, so the plan follows the
 * cluster and not the newest release record (which may be a failed revision
 * that never reached it). Undefined when there is nothing to compare (a first
 * install, a rename, no server dry run): the release's manifests decide then.
 */
async function liveTemplateChange(
  s: OpenSession,
  change: ChangeSpec,
  rendered: ManifestObject[],
  live: ChangeObjects,
  baseline: ManifestObject[] | undefined,
): Promise<boolean | undefined> {
  if (!s.exists || change.skipServerDryRun) return undefined;
  return liveTemplateDiffers(s.cluster.kube, rendered, live, baseline);
}

/**
 * Whether the StatefulSet among `objects` (a render, or a revision a rollback
 * goes back to), as the API server would apply it (its dry run), has another
 * pod template than the live one; undefined when there is none to compare (a rename).
 * The dry run is a server-side apply by our field manager, which keeps what
 * helm set and `objects` leaves out: a field the change removes (an
 * annotation, an env var, a sidecar) does not show in it. So when `baseline`
 * (what the change goes from) is what is live (its own dry run matches the
 * live template), its manifest against the new one decides too.
 */
export async function liveTemplateDiffers(
  kube: ResolvedKube,
  objects: ManifestObject[],
  live: PlanObjects,
  baseline?: ManifestObject[],
): Promise<boolean | undefined> {
  const sts = objects.find((o) => o.kind === 'StatefulSet');
  const name = sts?.metadata?.name;
  if (!sts || !live.statefulSet || live.statefulSet.name !== name) return undefined;
  const liveTemplate = canonicalJson(live.statefulSet.template);
  const applied = async (o: ManifestObject) =>
    canonicalJson(((await serverDryRunObject(kube, o)) as { spec?: { template?: unknown } }).spec?.template);
  if ((await applied(sts)) !== liveTemplate) return true;
  const old = baseline?.find((o) => o.kind === 'StatefulSet' && o.metadata?.name === name);
  const templateOf = (o: ManifestObject) =>
    canonicalJson((o.spec as { template?: unknown } | undefined)?.template);
  if (!old || templateOf(old) === templateOf(sts)) return false;
  return (await applied(old)) === liveTemplate;
}

/**
 * The last preview's plan made again with the rooms as they are now (the same
 * rule, fresh reads): what a room allocated since it was planned changes.
 */
export async function planWithRoomsNow(s: OpenSession): Promise<ReleaseChangePlan | undefined> {
  const input = s.lastPlanInput;
  if (!input) return undefined;
  refreshReads(s.cluster.kube);
  const { pods } = await readPlanObjects(s.cluster.kube, s.cluster.namespace, s.req.release);
  return planReleaseChange(input.before, input.after, [], pods, input.opts);
}

/** ROOMS_IN_USE when the change would end matches, and --delete-in-use was not given. */
export function refuseRoomsInUse(
  plan: ReleaseChangePlan,
  after: ManifestView,
  release: string,
  namespace: string,
): void {
  const free = `kubectl expose-pods deallocate ${release} -n ${namespace} POD`;
  // A rolling update (RollingUpdate) replaces every pod it restarts, and with it the match in a room in use;
  // under OnDelete the rollout spares them (plan.keepInUse), so restartInUse is empty there without --delete-in-use.
  if (plan.restartInUse.length)
    throw new ExposePodsError(
      `this change ${inUsePhrase(plan.restartInUse, 'restarts')}: their matches would end; nothing was changed`,
      ExitCode.ROOMS_IN_USE,
      `Run it when those rooms are free (${free}), move the release to OnDelete first, which spares rooms in use and restarts none (${onDelete(release, namespace)}), or add --delete-in-use to restart them anyway.`,
    );
  // A lower expose.count deletes the Services of the rooms above it, in use or not: their matches lose their address.
  if (plan.removeServicesInUse.length)
    throw new ExposePodsError(
      `this change ${serviceInUsePhrase(plan.removeServicesInUse)}: their matches would lose their address; nothing was changed`,
      ExitCode.ROOMS_IN_USE,
      `Run it when those rooms are free (${free}), keep expose.count at ${leastCountKeeping(plan.removeServicesInUse, after)} or more, or add --delete-in-use to remove their Services anyway.`,
    );
}

/** The command that moves a release to OnDelete: the StatefulSet then restarts no room by itself. */
export function onDelete(release: string, namespace: string): string {
  return `kubectl expose-pods install ${release} -n ${namespace} --set room.updateStrategy.type=OnDelete`;
}

/** The expose.count that keeps every one of these per-pod Services. */
function leastCountKeeping(services: readonly string[], after: ManifestView): number {
  const workload = after.statefulSet?.name ?? '';
  return Math.max(...services.map((s) => (ordinalOf(s, workload) ?? 0) + 1));
}

/** A rename with --delete-in-use (renameProblem refuses it otherwise): what the confirmation names. */
function renameDisruption(live: ChangeObjects, after: ManifestView): string[] {
  const from = live.statefulSet?.name;
  const to = after.statefulSet?.name;
  const rooms = live.pods.filter((p) => !p.terminating).length;
  if (!from || !to || from === to || !rooms) return [];
  return [`renames the StatefulSet ${from} -> ${to}, deleting its ${rooms} room(s) with their matches`];
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
