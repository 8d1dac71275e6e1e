import { DEFAULT_ADDRESS_TYPES, hostPort, resolveEndpointRows, type Endpoint } from '../core/endpoints.js';
import { lockRequirements } from '../core/permissions.js';
import {
  classifyPods,
  recoverImpact,
  recoverWarnings,
  type ClassifiedPod,
  type RecoverImpact,
} from '../core/recover.js';
import { inUsePhrase } from '../core/rooms.js';
import { pollUntil } from '../core/poll.js';
import { ExitCode, ExposePodsError, UsageError } from '../errors.js';
import { pollReads } from '../kube/api.js';
import { loadKube, type KubeFlags, type ResolvedKube } from '../kube/config.js';
import { requireChangePermissions } from '../kube/access.js';
import { acquireReleaseLock } from '../kube/lock.js';
import { describeCluster } from './change-pin.js';
import { type Confirm } from './mutation.js';
import { readEndpointObjects } from '../kube/reader.js';
import { forceDeletePod, taintOutOfService } from '../kube/writes.js';
import { readRecoverObjects } from '../kube/reader.js';

export type RecoverAction = 'force-delete' | 'out-of-service';

export interface RecoverRequest {
  release: string;
  kube: KubeFlags;
  /** Only this pod; refused when its node is Ready. */
  pod?: string;
  action?: RecoverAction;
  timeoutMs: number;
  /** Shown the pods it acts on, before `confirm` is asked. */
  onTargets?: (targets: ClassifiedPod[], action: RecoverAction) => void;
  confirm: Confirm;
  warn: (message: string) => void;
  onWaiting?: (text: string) => void;
}

export interface RecoverResult {
  schemaVersion: 1;
  release: string;
  namespace: string;
  pods: ClassifiedPod[];
  /** The pods on lost nodes: what an action would touch. */
  targets: string[];
  action: RecoverAction | null;
  /** After the action: where each replacement runs, and the address a client must use now. */
  replacements: { pod: string; node: string | null; endpoint: string | null; status: string }[];
  /** Nodes tainted out-of-service by this run. */
  taintedNodes: string[];
  /** With an action: the pods it deletes (a taint deletes every pod on its node), and the rooms in use among them. */
  impact: RecoverImpact | null;
}

/** With --pod: only that pod, refused when it is not a pod of the release or its node is Ready. */
function chooseTargets(pods: ClassifiedPod[], req: RecoverRequest, namespace: string): ClassifiedPod[] {
  const lost = pods.filter((p) => p.state === 'stuck' || p.state === 'at-risk');
  if (!req.pod) return lost;
  const chosen = pods.find((p) => p.pod === req.pod);
  if (!chosen)
    throw new UsageError(`--pod ${req.pod} is not a pod of release ${req.release} in namespace ${namespace}`);
  if (chosen.state === 'healthy') {
    throw new ExposePodsError(
      `refusing: ${chosen.pod} is on ${chosen.node ?? '?'}, which is Ready; recover only touches pods on lost nodes`,
      ExitCode.CONFLICT,
      'If the pod itself is broken, delete it normally: kubectl delete pod.',
    );
  }
  return lost.filter((p) => p.pod === req.pod);
}

/**
 * Under the release lock, re-reads the release and acts only on the targets
 * still on a lost node, as the same pod (uid) that was confirmed: the prompt
 * may have waited for minutes. Returns what was acted on and the nodes tainted.
 */
async function actUnderLock(
  kube: ResolvedKube,
  req: RecoverRequest & { action: RecoverAction },
  confirmed: ClassifiedPod[],
  uids: Map<string, string | undefined>,
): Promise<{ targets: ClassifiedPod[]; tainted: string[] }> {
  const namespace = kube.namespace;
  const lock = await acquireReleaseLock(kube, namespace, req.release, `recover --${req.action}`, req.warn);
  try {
    const now = await readRecoverObjects(kube, namespace, req.release);
    const still = new Set(
      classifyPods(now.workload, now.pods, now.nodes, Date.now())
        .filter((p) => p.state === 'stuck' || p.state === 'at-risk')
        .filter((p) => now.pods.find((x) => x.name === p.pod)?.uid === uids.get(p.pod))
        .map((p) => p.pod),
    );
    for (const t of confirmed.filter((x) => !still.has(x.pod)))
      req.warn(`${t.pod} is no longer on a lost node (or was replaced) since it was confirmed: left alone`);
    const targets = confirmed.filter((t) => still.has(t.pod));
    const tainted: string[] = [];
    if (req.action === 'force-delete') {
      for (const t of targets) await forceDeletePod(kube, namespace, t.pod, uids.get(t.pod));
    } else {
      for (const node of new Set(targets.map((t) => t.node).filter((n): n is string => n !== null))) {
        if (await taintOutOfService(kube, node)) tainted.push(node);
        else req.warn(`node ${node} is Ready again, or already out-of-service: not tainted`);
      }
    }
    return { targets, tainted };
  } finally {
    await lock.release();
  }
}

/**
 * The StatefulSet recreates each pod and the scheduler places it on a Ready
 * node: waits until every replacement is Ready on another node than before,
 * and returns where each runs and the address a client must use now.
 */
async function awaitReplacements(
  kube: ResolvedKube,
  req: RecoverRequest,
  old: Map<string, string | null>,
): Promise<RecoverResult['replacements']> {
  const namespace = kube.namespace;
  const done = (r: Endpoint) => r.ready && r.node !== null && r.node !== old.get(r.pod);
  let mine: Endpoint[] = [];
  const reads = pollReads(kube);
  const settled = await pollUntil(
    async () => {
      reads.next();
      const o = await readEndpointObjects(kube, namespace, req.release);
      mine = resolveEndpointRows({ ...o, addressTypes: DEFAULT_ADDRESS_TYPES }).filter((r) => old.has(r.pod));
      req.onWaiting?.(`replacements Ready: ${mine.filter(done).length}/${old.size}`);
      return mine.length === old.size && mine.every(done) ? mine : undefined;
    },
    { timeoutMs: req.timeoutMs, intervalMs: 1000 },
  );
  if (!settled) {
    const now = mine.map((r) => `${r.pod}: ${r.status}${r.node ? ` on ${r.node}` : ''}`).join('; ');
    throw new ExposePodsError(
      `timed out waiting for the replacements of ${[...old.keys()].join(', ')} to be Ready on another node (${now})`,
      ExitCode.TIMEOUT,
      `Check them with: kubectl expose-pods endpoints ${req.release} -n ${namespace}`,
    );
  }
  return settled.map((r) => ({ pod: r.pod, node: r.node, endpoint: hostPort(r) ?? null, status: r.status }));
}

/**
 * recover: finds the release's pods on NotReady or Unknown nodes (stuck
 * Terminating, or about to be evicted) and, when asked, does what Kubernetes
 * will not do alone: force-deletes them, or taints their node out-of-service.
 * Pods on Ready nodes are never touched. Waits for the replacements to be
 * Ready on another node and reports their new endpoints.
 */
export async function runRecover(req: RecoverRequest): Promise<RecoverResult> {
  const kube = await loadKube(req.kube);
  const namespace = kube.namespace;
  const live = await readRecoverObjects(kube, namespace, req.release);
  const pods = classifyPods(live.workload, live.pods, live.nodes, Date.now());
  const confirmed = chooseTargets(pods, req, namespace);
  const result: RecoverResult = {
    schemaVersion: 1,
    release: req.release,
    namespace,
    pods,
    targets: confirmed.map((t) => t.pod),
    action: req.action ?? null,
    replacements: [],
    taintedNodes: [],
    impact: null,
  };
  const action = req.action;
  if (!action) return result;
  const impact = recoverImpact(pods, confirmed, action);
  result.impact = impact;
  // What the action writes, checked before it is asked for and before anything is written (exit 6):
  // the lock, the pods, and for --out-of-service a node's taint, which rbac grants only with --out-of-service.
  await requireChangePermissions(kube, namespace, req.release, [
    ...lockRequirements(req.release),
    { apiGroup: '', resource: 'pods', verb: 'delete', scope: 'namespace' },
    ...(action === 'out-of-service'
      ? [{ apiGroup: '', resource: 'nodes', verb: 'patch' as const, scope: 'cluster' as const }]
      : []),
  ]);
  if (!confirmed.length) return result;
  const cluster = describeCluster({
    namespace,
    context: kube.context,
    server: kube.kc.getCurrentCluster()?.server,
  });
  req.onTargets?.(confirmed, action);
  for (const w of recoverWarnings(impact, action)) req.warn(w);
  const inUse = impact.inUse.length
    ? ` (it ${inUsePhrase(impact.inUse, action === 'force-delete' ? 'force-deletes' : 'removes')})`
    : '';
  await req.confirm({ what: `--${action} needs confirmation${inUse}`, cluster, question: 'Go ahead?' });

  const uids = new Map(live.pods.map((p) => [p.name, p.uid]));
  const { targets, tainted } = await actUnderLock(kube, { ...req, action }, confirmed, uids);
  result.targets = targets.map((t) => t.pod);
  result.taintedNodes = tainted;
  if (!targets.length) return result;
  result.replacements = await awaitReplacements(kube, req, new Map(targets.map((t) => [t.pod, t.node])));
  return result;
}
