import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import { parse as parseYaml } from 'yaml';

import {
  DEFAULT_PKI_DIR,
  judgeAll,
  KUBEADM_CAS,
  KUBEADM_CERTS,
  sortByExpiry,
  type CertOrigin,
  type CertReport,
  type CertSource,
  type Judge,
} from '../core/certs.js';
import { ExitCode, ExposePodsError } from '../errors.js';
import { readClusterCertSources, type Found, type SourceOutcome } from '../kube/cert-objects.js';
import { loadKube, type KubeFlags, type ResolvedKube } from '../kube/config.js';
import { peerChain, type DialOptions } from '../net/tls.js';

export interface CheckCertsRequest {
  kube: KubeFlags;
  /** -A: TLS Secrets in every namespace. */
  allNamespaces: boolean;
  /** Every context's client certificate and CA, not only the current one's. */
  allContexts: boolean;
  /** --pki-dir as given; undefined means the default when it exists and is readable. */
  pkiDir?: string;
  /** Skip the cluster (API and TLS): only kubeconfig files and the pki dir. */
  offline?: boolean;
  judge: Judge;
}

/** What one source gave: how many certificates, or why it was skipped. */
export interface SourceSummary {
  source: CertSource;
  checked: boolean;
  certificates: number;
  /** Where, or why it was skipped. */
  detail: string | null;
}

/** The -o json document of check-certs (schemaVersion 1). */
export interface CertsReport {
  schemaVersion: 1;
  now: string;
  warnWithinSeconds: number;
  /** Why the API server could not be reached, or null: then only the kubeconfig and the pki dir were checked. */
  unreachable: string | null;
  sources: SourceSummary[];
  /** Sorted by expiry, soonest (and invalid) first. */
  certificates: CertReport[];
}

function readable(p: string, what: string): void {
  try {
    accessSync(p, constants.R_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ExposePodsError(
      code === 'ENOENT'
        ? `${what} ${p} does not exist`
        : `${what} ${p} is not readable (${code ?? 'error'}): permission denied for this user`,
      ExitCode.USAGE,
      code === 'ENOENT' ? undefined : 'Run it as a user who can read the directory (for example with sudo).',
    );
  }
}

/** The client certificate of a kubeconfig file's first user (admin.conf, scheduler.conf, ...). */
function kubeconfigClientCert(file: string): Buffer {
  const doc = parseYaml(readFileSync(file, 'utf8')) as {
    users?: { user?: Record<string, string | undefined> }[];
  } | null;
  const user = doc?.users?.[0]?.user ?? {};
  const data = user['client-certificate-data'];
  if (data) return Buffer.from(data, 'base64');
  const ref = user['client-certificate'];
  if (ref) return readFileSync(path.resolve(path.dirname(file), ref));
  return Buffer.alloc(0);
}

/**
 * The kubeadm layout under a pki dir, as `kubeadm certs check-expiration`
 * reads it: leaf certificates (files, or kubeconfigs beside the dir) and CAs.
 * Missing files are skipped, as kubeadm skips what a cluster does not have
 * (external etcd, no super-admin.conf before v1.29).
 */
export function readPkiDir(dir: string): { found: Found[]; missing: string[] } {
  const found: Found[] = [];
  const missing: string[] = [];
  const location = (file: string) => path.resolve(dir, file);
  for (const c of KUBEADM_CERTS) {
    const file = location(c.file);
    if (!existsSync(file)) {
      missing.push(c.name);
      continue;
    }
    const origin: CertOrigin = {
      name: c.name,
      source: 'pki',
      location: file,
      authority: c.authority,
      kubeadmRenew: c.name,
    };
    try {
      found.push({ origin, data: c.kubeconfig ? kubeconfigClientCert(file) : readFileSync(file) });
    } catch (e) {
      found.push({
        origin,
        data: Buffer.from(`unreadable: ${(e as NodeJS.ErrnoException).code ?? 'error'}`),
      });
    }
  }
  for (const c of KUBEADM_CAS) {
    const file = location(c.file);
    if (!existsSync(file)) {
      missing.push(c.name);
      continue;
    }
    found.push({
      origin: { name: c.name, source: 'pki', location: file, kubeadmCA: true },
      data: readFileSync(file),
    });
  }
  return { found, missing };
}

/** The client certificates and CAs of the current context, or of every context. */
function kubeconfigSources(kube: ResolvedKube, allContexts: boolean): Found[] {
  const kc = kube.kc;
  const contexts = allContexts ? kc.getContexts() : kc.getContexts().filter((c) => c.name === kube.context);
  const found: Found[] = [];
  const seen = new Set<string>();
  const file = (p: string) => {
    try {
      return readFileSync(p);
    } catch (e) {
      return Buffer.from(`unreadable ${p}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  };
  /** One certificate, inline (base64) or in a file, once however many contexts name it. */
  const add = (
    key: string,
    name: string,
    inline: string | undefined,
    filePath: string | undefined,
    context: string,
  ) => {
    if (seen.has(key) || !(inline || filePath)) return;
    seen.add(key);
    found.push({
      origin: { name, source: 'kubeconfig', location: `context ${context}` },
      data: inline ? Buffer.from(inline, 'base64') : file(filePath ?? ''),
    });
  };
  for (const ctx of contexts) {
    const user = kc.getUser(ctx.user);
    if (user)
      add(
        `user/${user.name}`,
        `user ${user.name} client-certificate`,
        user.certData,
        user.certFile,
        ctx.name,
      );
    const cluster = kc.getCluster(ctx.cluster);
    if (cluster) {
      const name = `cluster ${cluster.name} certificate-authority`;
      add(`cluster/${cluster.name}`, name, cluster.caData, cluster.caFile, ctx.name);
    }
  }
  return found;
}

/** The pki source: --pki-dir (which must be readable), else the default when it is readable. */
function pkiSource(
  explicit: string | undefined,
): { outcome: SourceOutcome; detail: string | null } | undefined {
  const dir = explicit ?? (existsSync(DEFAULT_PKI_DIR) ? DEFAULT_PKI_DIR : undefined);
  if (!dir) return undefined;
  try {
    readable(dir, explicit ? '--pki-dir' : 'the kubeadm pki dir');
    if (!statSync(dir).isDirectory()) {
      throw new ExposePodsError(`--pki-dir ${dir} is not a directory`, ExitCode.USAGE);
    }
  } catch (e) {
    if (explicit) throw e;
    return { outcome: { skipped: (e as Error).message }, detail: null };
  }
  const { found, missing } = readPkiDir(dir);
  return { outcome: { found }, detail: missing.length ? `${dir} (not present: ${missing.join(', ')})` : dir };
}

/** What check-certs gathered: every certificate found, and one summary per source. */
class Gathered {
  readonly found: Found[] = [];
  readonly sources: SourceSummary[] = [];

  add(source: CertSource, outcome: SourceOutcome, detail: string | null = null): void {
    if ('skipped' in outcome) {
      this.sources.push({ source, checked: false, certificates: 0, detail: outcome.skipped });
      return;
    }
    this.found.push(...outcome.found);
    this.sources.push({ source, checked: true, certificates: outcome.found.length, detail });
  }
}

const pem = (der: Buffer) =>
  Buffer.from(`-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`);

/**
 * The API server's serving chain, from a TLS handshake. `unreachable` says
 * why there was no handshake, so the API sources need not each time out.
 */
async function servingSource(
  server: string | undefined,
  timeoutMs: number,
  dial: DialOptions = {},
): Promise<{ outcome: SourceOutcome; detail: string | null; unreachable: string | null }> {
  if (!server)
    return { outcome: { skipped: 'the kubeconfig has no current cluster' }, detail: null, unreachable: null };
  if (!server.startsWith('https://'))
    return { outcome: { skipped: `${server} is not https` }, detail: null, unreachable: null };
  try {
    const chain = await peerChain(server, timeoutMs, dial);
    const found = chain.map((der, i) => ({
      origin: { name: `${server} [${i}]`, source: 'serving' as const, location: server },
      data: pem(der),
    }));
    return { outcome: { found }, detail: server, unreachable: null };
  } catch (e) {
    const unreachable = `no TLS handshake with ${server}: ${(e as Error).message}`;
    return { outcome: { skipped: unreachable }, detail: null, unreachable };
  }
}

/** The sources read through the API server, or each skipped when the server did not answer the handshake. */
async function addApiSources(
  gathered: Gathered,
  kube: ResolvedKube,
  allNamespaces: boolean,
  unreachable: string | null,
): Promise<void> {
  const apiSources = ['configmap', 'secret', 'webhook', 'apiservice'] as const;
  if (unreachable) {
    // Each would fail the same way, after its own timeout.
    for (const source of apiSources) gathered.add(source, { skipped: 'the API server is unreachable' });
    return;
  }
  const cluster = await readClusterCertSources(kube, { allNamespaces });
  gathered.add('configmap', cluster.configmap, `namespace ${kube.namespace}`);
  gathered.add('secret', cluster.secret, allNamespaces ? 'all namespaces' : `namespace ${kube.namespace}`);
  gathered.add('webhook', cluster.webhook);
  gathered.add('apiservice', cluster.apiservice);
}

/**
 * check-certs: every certificate reachable from here, judged against now and
 * the warning window. Sources that cannot be read are skipped and said; it
 * fails only when not one source could be read.
 */
export async function checkCerts(req: CheckCertsRequest): Promise<CertsReport> {
  // The pki dir first: a wrong --pki-dir fails before anything is contacted.
  const pki = pkiSource(req.pkiDir);
  const kube = await loadKube(req.kube);
  const gathered = new Gathered();
  gathered.add(
    'kubeconfig',
    { found: kubeconfigSources(kube, req.allContexts) },
    kube.context ? `context ${kube.context}` : null,
  );

  let unreachable: string | null = null;
  // --offline: the cluster's sources are simply not part of this run.
  if (!req.offline) {
    const cluster = kube.kc.getCurrentCluster();
    const server = cluster?.server;
    // As kubectl dials it: through its proxy-url, naming its tls-server-name.
    const serving = await servingSource(server, kube.requestTimeoutMs || 30_000, {
      serverName: cluster?.tlsServerName,
      proxyUrl: cluster?.proxyUrl,
    });
    gathered.add('serving', serving.outcome, serving.detail);
    unreachable = serving.unreachable;
    if (server) await addApiSources(gathered, kube, req.allNamespaces, unreachable);
  }
  if (pki) gathered.add('pki', pki.outcome, pki.detail);

  const { found, sources } = gathered;
  if (!sources.some((s) => s.checked && s.source !== 'kubeconfig') && !found.length) {
    const why = sources.filter((s) => !s.checked).map((s) => `${s.source}: ${s.detail ?? ''}`);
    throw new ExposePodsError(
      `no certificate source could be read (${why.join('; ')})`,
      ExitCode.CLUSTER_UNREACHABLE,
      'Check --kubeconfig and --context, or give --pki-dir on a control-plane node.',
    );
  }

  return {
    schemaVersion: 1,
    now: new Date(req.judge.now).toISOString(),
    warnWithinSeconds: Math.round(req.judge.warnMs / 1000),
    unreachable,
    sources,
    certificates: sortByExpiry(found.flatMap((f) => judgeAll(f.origin, f.data, req.judge))),
  };
}
