import { complete, connectionOf, DIRECTIVE, type Candidate, type CommandSpec } from '../core/completion.js';
import { CHART_NAME } from '../core/release.js';
import { loadKube } from '../kube/config.js';
import { listHelmReleases, listNamespaceNames } from '../kube/helm-releases.js';

/** How long a completion waits for the API server: the user is waiting at a prompt. */
const COMPLETION_REQUEST_TIMEOUT = '3s';

/**
 * The candidates and directive for kubectl's plugin completion. Releases and
 * namespaces cost one API list each; contexts come from the kubeconfig. Any
 * failure (no cluster, RBAC) offers nothing rather than an error at a prompt.
 */
export async function completions(
  commands: readonly CommandSpec[],
  args: readonly string[],
): Promise<{ candidates: Candidate[]; directive: number }> {
  const c = complete(commands, args);
  if (c.kind === 'words') return { candidates: c.candidates, directive: c.directive };
  const none = { candidates: [], directive: DIRECTIVE.noFileComp };
  const where = connectionOf(args);
  try {
    // A sign-in never prompts in the middle of a completion (nor waits past its bound).
    const kube = await loadKube(
      { ...where, requestTimeout: COMPLETION_REQUEST_TIMEOUT },
      { interactive: false },
    );
    let names: string[];
    if (c.kind === 'contexts') names = kube.kc.getContexts().map((x) => x.name);
    else if (c.kind === 'namespaces') names = await listNamespaceNames(kube);
    else {
      const releases = await listHelmReleases(kube, kube.namespace);
      names = releases.filter((r) => r.chart === CHART_NAME).map((r) => r.name);
    }
    const candidates = [...new Set(names)]
      .filter((n) => n.startsWith(c.prefix))
      .sort()
      .map((value) => ({ value }));
    return { candidates, directive: DIRECTIVE.noFileComp };
  } catch {
    return none;
  }
}
