import { ordinalOf, type PodView, type StatefulSetView, type TolerationView } from './model.js';

export const NOT_READY = 'node.kubernetes.io/not-ready';
export const UNREACHABLE = 'node.kubernetes.io/unreachable';
/** What the DefaultTolerationSeconds admission plugin gives a pod that sets nothing. */
export const ADMISSION_DEFAULT_SECONDS = 300;
/** kube-controller-manager --node-monitor-grace-period: 50s since Kubernetes 1.32, 40s before. */
export const DEFAULT_GRACE_SECONDS = 50;

/**
 * How long a NoExecute taint with `key` is tolerated: seconds; null when
 * forever (a toleration without tolerationSeconds); undefined when not at all.
 */
export function toleratedSeconds(
  tols: readonly TolerationView[] | undefined,
  key: string,
): number | null | undefined {
  let best: number | null | undefined;
  for (const t of tols ?? []) {
    const effectOk = !t.effect || t.effect === 'NoExecute';
    const keyOk = t.operator === 'Exists' ? !t.key || t.key === key : t.key === key;
    if (!effectOk || !keyOk) continue;
    if (t.tolerationSeconds === undefined) return null;
    best = best === undefined || best === null ? t.tolerationSeconds : Math.max(best, t.tolerationSeconds);
  }
  return best;
}

export type TolerationSource = 'chart' | 'admission default';

export interface PodTolerations {
  ordinal: number;
  pod: string;
  node: string | null;
  /** Seconds; null: forever; undefined in JSON as null too ("not tolerated" is reported as 0). */
  notReadySeconds: number | null;
  unreachableSeconds: number | null;
  source: TolerationSource;
  /** False when the pod runs an older template than the StatefulSet's: it needs a restart to pick up new values. */
  currentTemplate: boolean;
}

export interface TolerationsInput {
  workload: string;
  template: readonly TolerationView[] | undefined;
  /** status.updateRevision of the StatefulSet. */
  updateRevision?: string;
  pods: {
    name: string;
    nodeName?: string;
    tolerations?: readonly TolerationView[];
    /** The controller-revision-hash label. */
    revision?: string;
  }[];
  graceSeconds: number;
}

/** tolerationsReport's input from the StatefulSet and its pods, and the replica count it asks for. */
export function tolerationObjectsOf(
  set: StatefulSetView,
  pods: readonly PodView[],
): Omit<TolerationsInput, 'graceSeconds'> & { replicas: number } {
  return {
    workload: set.name,
    replicas: set.replicas,
    template: set.templateTolerations,
    updateRevision: set.updateRevision,
    pods: pods.map((p) => ({
      name: p.name,
      nodeName: p.nodeName,
      tolerations: p.tolerations,
      revision: p.revision,
    })),
  };
}

export interface FailoverEstimate {
  kind: 'not-ready' | 'unreachable';
  /** The StatefulSet template's value, or the admission default when it sets none; null: never evicted. */
  tolerationSeconds: number | null;
  source: TolerationSource;
  graceSeconds: number;
  /** Seconds from the node's last heartbeat to eviction; null: never. */
  evictionAfterSeconds: number | null;
}

export interface TolerationsReport {
  schemaVersion: 1;
  pods: PodTolerations[];
  failover: FailoverEstimate[];
  /** The grace period is not readable from the API: this is the value assumed. */
  graceSecondsAssumed: number;
  podsOnOlderTemplate: string[];
}

const orZero = (s: number | null | undefined) => (s === undefined ? 0 : s);

/** The effective tolerations of every pod, where they came from, and the failover time they give. */
export function tolerationsReport(input: TolerationsInput): TolerationsReport {
  const tNotReady = toleratedSeconds(input.template, NOT_READY);
  const tUnreachable = toleratedSeconds(input.template, UNREACHABLE);
  const chartSets = tNotReady !== undefined || tUnreachable !== undefined;
  const pods = input.pods
    .map((p) => ({
      ordinal: ordinalOf(p.name, input.workload) ?? -1,
      pod: p.name,
      node: p.nodeName ?? null,
      notReadySeconds: orZero(toleratedSeconds(p.tolerations, NOT_READY)),
      unreachableSeconds: orZero(toleratedSeconds(p.tolerations, UNREACHABLE)),
      source: chartSets ? ('chart' as const) : ('admission default' as const),
      currentTemplate: !input.updateRevision || !p.revision || p.revision === input.updateRevision,
    }))
    .sort((a, b) => a.ordinal - b.ordinal);
  const estimate = (
    kind: FailoverEstimate['kind'],
    fromTemplate: number | null | undefined,
  ): FailoverEstimate => {
    const seconds = fromTemplate === undefined ? ADMISSION_DEFAULT_SECONDS : fromTemplate;
    return {
      kind,
      tolerationSeconds: seconds,
      source: fromTemplate === undefined ? 'admission default' : 'chart',
      graceSeconds: input.graceSeconds,
      evictionAfterSeconds: seconds === null ? null : input.graceSeconds + seconds,
    };
  };
  return {
    schemaVersion: 1,
    pods,
    failover: [estimate('not-ready', tNotReady), estimate('unreachable', tUnreachable)],
    graceSecondsAssumed: input.graceSeconds,
    podsOnOlderTemplate: pods.filter((p) => !p.currentTemplate).map((p) => p.pod),
  };
}

/** "10s", "5m", "forever". */
export function formatSeconds(s: number | null): string {
  if (s === null) return 'forever';
  if (s >= 60 && s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}
