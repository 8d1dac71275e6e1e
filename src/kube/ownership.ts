import { kubeApis } from './api.js';
import type { ResolvedKube } from './config.js';
import { KubeApiError, toKubeError } from './errors.js';

/** An object a change would create that already exists and is not the release's. */
export interface ForeignObject {
  kind: string;
  name: string;
  /** "release lobby in namespace game", or "not managed by Helm". */
  owner: string;
}

/** How many objects are read at once. */
const PARALLEL = 8;

/** Who owns an object, by Helm's ownership annotations; undefined when it is this release's. */
export function foreignOwner(
  annotations: Record<string, string> | undefined,
  release: string,
  namespace: string,
): string | undefined {
  const name = annotations?.['meta.helm.sh/release-name'];
  const ns = annotations?.['meta.helm.sh/release-namespace'];
  if (name === release && ns === namespace) return undefined;
  return name ? `release ${name} in namespace ${ns ?? '?'}` : 'not managed by Helm';
}

/**
 * The objects among `objects` that exist in the cluster and belong to someone
 * else: another release, or nobody (made by hand). helm would refuse to take
 * them over, halfway through writing a revision. One GET each, a few at a
 * time; a Secret's as metadata only, so no password is read.
 */
export async function foreignObjects(
  kube: ResolvedKube,
  namespace: string,
  release: string,
  objects: { apiVersion?: string; kind?: string; metadata?: { name?: string } }[],
): Promise<ForeignObject[]> {
  const { objects: api, core, metadataOnly, server } = await kubeApis(kube);
  const read = async (o: (typeof objects)[number]): Promise<ForeignObject | undefined> => {
    const name = o.metadata?.name ?? '';
    const kind = o.kind ?? '';
    try {
      const live =
        kind === 'Secret' && (o.apiVersion ?? 'v1') === 'v1'
          ? await core.readNamespacedSecret({ name, namespace }, metadataOnly.get)
          : await api.read({ apiVersion: o.apiVersion ?? '', kind, metadata: { name, namespace } });
      const owner = foreignOwner(live.metadata?.annotations, release, namespace);
      return owner ? { kind, name, owner } : undefined;
    } catch (e) {
      const err =
        e instanceof KubeApiError
          ? e
          : toKubeError(e, `get ${kind.toLowerCase()} ${name} in namespace ${namespace}`, server);
      if (err.httpCode === 404) return undefined;
      throw err;
    }
  };
  const found: (ForeignObject | undefined)[] = [];
  for (let i = 0; i < objects.length; i += PARALLEL)
    found.push(...(await Promise.all(objects.slice(i, i + PARALLEL).map(read))));
  return found.filter((f): f is ForeignObject => f !== undefined);
}
