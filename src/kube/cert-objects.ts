import type { CertOrigin } from '../core/certs.js';
import type { ResolvedKube } from './config.js';
import { kubeApis } from './api.js';
import { KubeApiError, toKubeError } from './errors.js';

/** Certificate material found in the cluster: who it is, and the PEM (or whatever is there). */
export interface Found {
  origin: CertOrigin;
  data: Buffer;
}

/** One source's outcome: what it found, or why it was skipped. */
export type SourceOutcome = { found: Found[] } | { skipped: string };

const b64 = (s: string) => Buffer.from(s, 'base64');

/** Why a source could not be read, in a few words, for the "skipped" line. */
function skipReason(e: unknown, action: string, server: string): string {
  const err = e instanceof KubeApiError ? e : toKubeError(e, action, server);
  if (err.httpCode === 403) return `forbidden: you may not ${action}`;
  return err.message;
}

type Apis = Awaited<ReturnType<typeof kubeApis>>;

/** The namespace's kube-root-ca.crt ConfigMap: the cluster CA as pods see it. */
async function rootCaConfigMap({ core }: Apis, ns: string): Promise<Found[]> {
  const cm = await core.readNamespacedConfigMap({ name: 'kube-root-ca.crt', namespace: ns });
  const pem = cm.data?.['ca.crt'];
  return [
    { origin: { name: `${ns}/kube-root-ca.crt ca.crt`, source: 'configmap' }, data: Buffer.from(pem ?? '') },
  ];
}

/** Every kubernetes.io/tls Secret: its tls.crt, and its ca.crt when there is one. */
async function tlsSecrets({ core }: Apis, ns: string, allNamespaces: boolean): Promise<Found[]> {
  const fieldSelector = 'type=kubernetes.io/tls';
  const list = allNamespaces
    ? await core.listSecretForAllNamespaces({ fieldSelector })
    : await core.listNamespacedSecret({ namespace: ns, fieldSelector });
  return list.items.flatMap((s) => {
    const id = `${s.metadata?.namespace ?? ns}/${s.metadata?.name ?? ''}`;
    const certManager = s.metadata?.annotations?.['cert-manager.io/certificate-name'];
    const out: Found[] = [
      // A Secret without tls.crt is reported (empty input is an invalid row), not skipped.
      {
        origin: { name: `${id} tls.crt`, source: 'secret', certManager },
        data: b64(s.data?.['tls.crt'] ?? ''),
      },
    ];
    const ca = s.data?.['ca.crt'];
    if (ca) out.push({ origin: { name: `${id} ca.crt`, source: 'secret', certManager }, data: b64(ca) });
    return out;
  });
}

/** The caBundle of every mutating and validating admission webhook. */
async function webhookBundles({ k8s, config }: Apis): Promise<Found[]> {
  const admission = new k8s.AdmissionregistrationV1Api(config);
  const [mutating, validating] = await Promise.all([
    admission.listMutatingWebhookConfiguration(),
    admission.listValidatingWebhookConfiguration(),
  ]);
  const lists = [
    ['mutating', mutating.items],
    ['validating', validating.items],
  ] as const;
  return lists.flatMap(([kind, list]) =>
    list.flatMap((cfg) =>
      (cfg.webhooks ?? []).flatMap((w) => {
        const bundle = w.clientConfig.caBundle;
        if (!bundle) return [];
        const name = `${kind}/${cfg.metadata?.name ?? ''}/${w.name} caBundle`;
        return [{ origin: { name, source: 'webhook' as const }, data: b64(bundle) }];
      }),
    ),
  );
}

/** The caBundle of every aggregated APIService. */
async function apiServiceBundles({ k8s, config }: Apis): Promise<Found[]> {
  const list = await new k8s.ApiregistrationV1Api(config).listAPIService();
  return list.items.flatMap((a) => {
    const bundle = a.spec?.caBundle;
    if (!bundle) return [];
    return [
      {
        origin: { name: `${a.metadata?.name ?? ''} caBundle`, source: 'apiservice' as const },
        data: b64(bundle),
      },
    ];
  });
}

/**
 * The cluster's certificate sources, each read with one list (or get), in
 * parallel. A source that fails (403, 404, unreachable) is skipped with the
 * reason; it never fails the others.
 */
export async function readClusterCertSources(
  kube: ResolvedKube,
  opts: { allNamespaces: boolean },
): Promise<Record<'configmap' | 'secret' | 'webhook' | 'apiservice', SourceOutcome>> {
  const apis = await kubeApis(kube);
  const ns = kube.namespace;
  const guard = async (action: string, read: () => Promise<Found[]>): Promise<SourceOutcome> => {
    try {
      return { found: await read() };
    } catch (e) {
      return { skipped: skipReason(e, action, apis.server) };
    }
  };
  const secretsAction = opts.allNamespaces
    ? 'list secrets in all namespaces'
    : `list secrets in namespace ${ns}`;
  const [configmap, secret, webhook, apiservice] = await Promise.all([
    guard(`get configmap kube-root-ca.crt in namespace ${ns}`, () => rootCaConfigMap(apis, ns)),
    guard(secretsAction, () => tlsSecrets(apis, ns, opts.allNamespaces)),
    guard('list mutating and validating webhook configurations', () => webhookBundles(apis)),
    guard('list apiservices', () => apiServiceBundles(apis)),
  ]);
  return { configmap, secret, webhook, apiservice };
}
