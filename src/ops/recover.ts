import { DEFAULT_ADDRESS_TYPES, hostPort, resolveEndpointRows, type Endpoint } from '../core/endpoints.js';
import { classifyPods, type ClassifiedPod } from '../core/recover.js';
import { ExitCode, ExposePodsError, UsageError } from '../errors.js';
import { loadKube, type KubeFlags } from '../kube/config.js';
import { acquireReleaseLock } from '../kube/lock.js';
import { describeCluster } from './mutation.js';
import { readEndpointObjects } from '../kube/endpoint-objects.js';
import { forceDeletePod, readRecoverObjects, taintOutOfService } from '../kube/recover-objects.js';

export type RecoverAction = 'force-delete' | 'out-of-service';

export interface RecoverRequest {
  release: string;
  kube: KubeFlags;
  /** Only this pod; refused when its node is Ready. */
  pod?: string;
  action?: RecoverAction;
  timeoutMs: number;
  /** Asked before acting; false stops with nothing changed. */
  confirm: (targets: ClassifiedPod[], action: RecoverAction, cluster: string) => Promise<boolean>;
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
}

/**
 * recover: finds the release's pods on NotReady or Unknown nodes (stuck
 * Terminating, or about to be evicted) and, when asked, does what Kubernetes
 * will not do alone: force-deletes them, or taints their node out-of-service.
 * Pods on Ready nodes are never touched. Waits for the replacements to be
 * Ready on another node and reports their new endpoints.
 */
// eslint-disable-next-line max-lines-per-function -- still to be split (issue 17)
export async function runRecover(req: RecoverRequest): Promise<RecoverResult> {
  const kube = await loadKube(req.kube);
  const namespace = kube.namespace;
  const live = await readRecoverObjects(kube, namespace, req.release);
  const pods = classifyPods(live.workload, live.pods, live.nodes, Date.now());
  let targets = pods.filter((p) => p.state === 'stuck' || p.state === 'at-risk');
  if (req.pod) {
    const chosen = pods.find((p) => p.pod === req.pod);
    if (!chosen)
      throw new UsageError(
        `--pod ${req.pod} is not a pod of release ${req.release} in namespace ${namespace}`,
      );
    if (chosen.state === 'healthy') {
      throw new ExposePodsError(
        `refusing: ${chosen.pod} is on ${chosen.node ?? '?'}, which is Ready; recover only touches pods on lost nodes`,
        ExitCode.CONFLICT,
        'If the pod itself is broken, delete it normally: kubectl delete pod.',
      );
    }
    targets = targets.filter((p) => p.pod === req.pod);
  }
  const result: RecoverResult = {
    schemaVersion: 1,
    release: req.release,
    namespace,
    pods,
    targets: targets.map((t) => t.pod),
    action: req.action ?? null,
    replacements: [],
    taintedNodes: [],
  };
  if (!req.action || !targets.length) return result;
  const cluster = describeCluster({
    namespace,
    context: kube.context,
    server: kube.kc.getCurrentCluster()?.server,
  });
  if (!(await req.confirm(targets, req.action, cluster)))
    throw new ExposePodsError('not confirmed; nothing was changed', ExitCode.NOT_CONFIRMED);

  // The prompt may have waited for minutes: act only on what is still true now, under the lock.
  const lock = await acquireReleaseLock(kube, namespace, req.release, `recover --${req.action}`, req.warn);
  try {
    const now = await readRecoverObjects(kube, namespace, req.release);
    const uids = new Map(live.pods.map((p) => [p.name, p.uid]));
    const still = new Set(
      classifyPods(now.workload, now.pods, now.nodes, Date.now())
        .filter((p) => p.state === 'stuck' || p.state === 'at-risk')
        .filter((p) => now.pods.find((x) => x.name === p.pod)?.uid === uids.get(p.pod))
        .map((p) => p.pod),
    );
    for (const t of targets.filter((x) => !still.has(x.pod)))
      req.warn(`${t.pod} is no longer on a lost node (or was replaced) since it was confirmed: left alone`);
    targets = targets.filter((t) => still.has(t.pod));
    if (req.action === 'force-delete') {
      for (const t of targets) await forceDeletePod(kube, namespace, t.pod, uids.get(t.pod));
    } else {
      for (const node of [...new Set(targets.map((t) => t.node).filter((n): n is string => n !== null))]) {
        if (await taintOutOfService(kube, node)) result.taintedNodes.push(node);
        else req.warn(`node ${node} is Ready again, or already out-of-service: not tainted`);
      }
    }
  } finally {
    await lock.release();
  }
  result.targets = targets.map((t) => t.pod);
  if (!targets.length) return result;

  // The StatefulSet recreates each pod; the scheduler places it on a node that is Ready.
  const old = new Map(targets.map((t) => [t.pod, t.node]));
  const deadline = Date.now() + req.timeoutMs;
  for (;;) {
    const o = await readEndpointObjects(kube, namespace, req.release);
    const rows = resolveEndpointRows({ ...o, addressTypes: DEFAULT_ADDRESS_TYPES });
    const mine = rows.filter((r) => old.has(r.pod));
    const done = (r: Endpoint) => r.ready && r.node !== null && r.node !== old.get(r.pod);
    req.onWaiting?.(`replacements Ready: ${mine.filter(done).length}/${old.size}`);
    if (mine.length === old.size && mine.every(done)) {
      result.replacements = mine.map((r) => ({
        pod: r.pod,
        node: r.node,
        endpoint: hostPort(r) ?? null,
        status: r.status,
      }));
      return result;
    }
    if (Date.now() > deadline) {
      throw new ExposePodsError(
        `timed out waiting for the replacements of ${[...old.keys()].join(', ')} to be Ready on another node (${mine.map((r) => `${r.pod}: ${r.status}${r.node ? ` on ${r.node}` : ''}`).join('; ')})`,
        ExitCode.TIMEOUT,
        `Check them with: kubectl expose-pods endpoints ${req.release} -n ${namespace}`,
      );
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
