/** The first phase of a change: the one cluster it acts on, pinned (helm gets the same context), and the release as its newest record says. */
import { type KubeTarget } from '../helm/args.js';
import { detectHelm, ignoredHelmEnv, type Helm } from '../helm/helm.js';
import { notOurChart } from '../helm/release.js';
import { CHART_NAME } from '../core/release.js';
import { readHelmRelease, type HelmReleaseRecord } from '../kube/helm-releases.js';
import { loadKube, type KubeFlags, type ResolvedKube } from '../kube/config.js';
import { helmKubeconfig } from '../kube/exec-credential.js';

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
export async function readOurRelease(
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
