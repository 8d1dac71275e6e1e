import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { gunzipSync } from 'node:zlib';

import type { ResolvedKube } from './config.js';
import { ExitCode, UsageError } from '../errors.js';
import { KubeApiError, toKubeError } from './errors.js';

/**
 * Asks for metadata only (as kubectl does for `-o name`): a Secret's name and
 * labels without its data. Where we only need to know that a Secret exists,
 * its values (the Redis password) never reach this process. The same RBAC
 * (get or list on secrets) applies. The API server answers with the first
 * type it can, and refuses a list type for a get (406), so a get and a list
 * ask differently; plain JSON last, for a server without metadata views.
 */
export const METADATA_ONLY_ACCEPT = {
  get: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json',
  list: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json',
} as const;

/**
 * The names in a metadata-only list. Its items are null when it is empty (the
 * real API server's PartialObjectMetadataList; the typed list says an array).
 */
export function metadataNames(list: { items: { metadata?: { name?: string } }[] | null }): string[] {
  return metadataItems(list).map((o) => o.metadata?.name ?? '');
}

/** The items of a metadata-only list: none when the server answers null. */
export function metadataItems<T>(list: { items: T[] | null }): T[] {
  return list.items ?? [];
}

/**
 * The typed API clients for one KubeConfig, loaded lazily (client-node is
 * heavy), and `call`, which turns any failure into a KubeApiError that says
 * what we were doing ("list pods in namespace game").
 */
export function kubeApis(kube: ResolvedKube): ReturnType<typeof makeApis> {
  // One set of clients per KubeConfig: a command (or an allocator) that writes often builds them once.
  let apis = clients.get(kube);
  if (!apis) {
    apis = makeApis(kube);
    clients.set(kube, apis);
    // A failed build (no current cluster) is not kept: the next call says so again.
    apis.catch(() => clients.delete(kube));
  }
  return apis;
}

const clients = new WeakMap<ResolvedKube, ReturnType<typeof makeApis>>();

/**
 * The reads of one command run, by request: each is sent once and its answer
 * shared, until something may have changed it. Every write through these
 * clients forgets them all (a server dry run and a self-review write
 * nothing), and so does `refreshReads`, which a wait calls before each poll
 * and a command after helm writes. A ResolvedKube is one command run's (or
 * one allocator's): a new one starts with none.
 */
const reads = new WeakMap<ResolvedKube, Map<string, Promise<unknown>>>();

/** The answer to `key`, read once until the next write or refresh; a failed read is not kept. */
export function readOnce<T>(kube: ResolvedKube, key: string, read: () => Promise<T>): Promise<T> {
  let kept = reads.get(kube);
  if (!kept) {
    kept = new Map();
    reads.set(kube, kept);
  }
  const known = kept.get(key) as Promise<T> | undefined;
  if (known) return known;
  const answer = read();
  kept.set(key, answer);
  const forget = () => {
    if (kept.get(key) === answer) kept.delete(key);
  };
  answer.catch(forget);
  return answer;
}

/** Forgets every read kept for `kube`: the next of each goes to the API server again. */
export function refreshReads(kube: ResolvedKube): void {
  reads.get(kube)?.clear();
}

/**
 * For a wait: before each poll, `next()` forgets what was read, except before
 * the first, which may use what this run read already (nothing was written since).
 */
export function pollReads(kube: ResolvedKube): { next: () => void } {
  let first = true;
  return {
    next: () => {
      if (!first) refreshReads(kube);
      first = false;
    },
  };
}

/** Whether a request may change what a read sees: any but a GET, a server dry run, or a self-review. */
export function mayWrite(method: string, url: string): boolean {
  return method !== 'GET' && !/[?&]dryRun=All(&|$)/.test(url) && !url.includes('/selfsubject');
}

/** A list as the API sends it: its items are plain JSON, for the caller to read as the kind it asked for. */
export interface JsonList {
  items: unknown[];
  metadata?: { resourceVersion?: string };
}

/**
 * The most a list answer may be, as sent and once inflated: gzip lets 300 KB
 * on the wire inflate to 300 MiB, so a proxy or API server that answers so
 * would otherwise exhaust our memory. 128 MiB is some 20 000 pods of 6 KiB of
 * JSON each, far past a fleet this plugin serves. As MAX_RELEASE_BYTES is for
 * a release Secret (helm-releases.ts).
 */
export const MAX_LIST_BYTES = 128 * 1024 * 1024;

/** Exit 5: an answer past MAX_LIST_BYTES, read no further. */
function tooLarge(path: string, limit: number, inflated: boolean): KubeApiError {
  return new KubeApiError(
    `the API server's answer to GET ${path} is larger than ${limit / 1024 / 1024} MiB${inflated ? ' once inflated' : ''}; it was not read further`,
    undefined,
    'ResponseTooLarge',
    ExitCode.CLUSTER_UNREACHABLE,
    'A Kubernetes API server does not send a list this large to this command: check that --context points at the cluster you mean, and what stands between (a proxy).',
  );
}

/**
 * A list read as plain JSON, without client-node's typed models: for the
 * cluster-wide lists a budget counts (every Service, every pod bound to a
 * node), thousands of objects at fleet size, where building the typed models
 * took as long as parsing the JSON, and as long again in garbage collection.
 * The objects keep the API's JSON shape (timestamps are strings; the views
 * read both). Signed in, proxied, kept alive and timed out as every other
 * request; a failure is thrown as client-node throws one (toKubeError reads it).
 * An answer larger than `limit` (MAX_LIST_BYTES), as sent or inflated, is
 * not read further: exit 5.
 */
export async function listJson(
  kube: ResolvedKube,
  path: string,
  query: Record<string, string> = {},
  limit = MAX_LIST_BYTES,
): Promise<JsonList> {
  const { server } = await kubeApis(kube);
  const url = new URL(`${server.replace(/\/+$/, '')}${path}`);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  // The kubeconfig's credentials (an exec plugin's too), CA and proxy, as client-node applies them.
  const opts: https.RequestOptions = {};
  await kube.kc.applyToHTTPSOptions(opts);
  const body = await new Promise<Buffer>((resolve, reject) => {
    const req = (url.protocol === 'http:' ? http : https).request(
      url,
      {
        ...opts,
        method: 'GET',
        agent: opts.agent instanceof http.Agent ? keepAliveAgent(opts.agent) : opts.agent,
        headers: { ...opts.headers, Accept: 'application/json', 'Accept-Encoding': 'gzip' },
        ...(kube.requestTimeoutMs > 0 ? { signal: AbortSignal.timeout(kube.requestTimeoutMs) } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= limit) return void chunks.push(c);
          reject(tooLarge(path, limit, false));
          req.destroy();
        });
        res.on('error', reject);
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          let data: Buffer;
          try {
            data =
              res.headers['content-encoding'] === 'gzip' ? gunzipSync(raw, { maxOutputLength: limit }) : raw;
          } catch (x) {
            const e = x as NodeJS.ErrnoException;
            reject(e.code === 'ERR_BUFFER_TOO_LARGE' ? tooLarge(path, limit, true) : e);
            return;
          }
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 300) resolve(data);
          else reject(Object.assign(new Error(`HTTP ${code}`), { code, body: data.toString('utf8') }));
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
  return JSON.parse(body.toString('utf8')) as JsonList;
}

/** The TLS settings an https.Agent connects with: what must match for a connection to be shared. */
const TLS_KEYS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;
const keepAlive = new Map<string, https.Agent>();

/**
 * client-node makes a new https.Agent for every request, so each request
 * opens its own TLS connection (a handshake on both ends: a hundred for a
 * server dry run of a hundred Services). The same settings get one agent
 * that keeps its connections open between requests instead. Credentials an
 * exec plugin renews (a client certificate) are new settings, so a new
 * agent. Proxy agents, and plain http, are left as they are.
 */
export function keepAliveAgent<A extends object>(agent: A): A | https.Agent {
  if (agent.constructor !== https.Agent) return agent;
  const options = (agent as unknown as https.Agent).options;
  const tls = TLS_KEYS.map((k) => {
    const v: unknown = options[k];
    return Buffer.isBuffer(v) ? v.toString('base64') : v;
  });
  const key = createHash('sha256').update(JSON.stringify(tls)).digest('hex');
  let shared = keepAlive.get(key);
  if (!shared) {
    shared = new https.Agent({ ...options, keepAlive: true });
    keepAlive.set(key, shared);
  }
  return shared;
}

async function makeApis(kube: ResolvedKube) {
  const k8s = await import('@kubernetes/client-node');
  const cluster = kube.kc.getCurrentCluster();
  if (!cluster)
    throw new UsageError(
      'the kubeconfig has no current cluster',
      'Pick one with --context, or set KUBECONFIG.',
    );
  const server = cluster.server;
  // As kc.makeApiClient does, plus a per-request deadline (--request-timeout), so a
  // silent API server ends in a clear error instead of a hang.
  // And every write forgets the reads kept (readOnce), when it is sent and when it is answered.
  const timeoutMs = kube.requestTimeoutMs;
  const config = k8s.createConfiguration({
    baseServer: new k8s.ServerConfiguration(server, {}),
    authMethods: { default: kube.kc },
    promiseMiddleware: [
      {
        pre: (ctx) => {
          if (timeoutMs > 0) ctx.setSignal(AbortSignal.timeout(timeoutMs));
          const agent = ctx.getAgent();
          if (agent) ctx.setAgent(keepAliveAgent(agent));
          if (mayWrite(ctx.getHttpMethod(), ctx.getUrl())) refreshReads(kube);
          return Promise.resolve(ctx);
        },
        post: (res) => Promise.resolve(res),
      },
    ],
  });
  // Rendered objects always name their namespace, so the default namespace is never used.
  const objects = new k8s.KubernetesObjectApi(config);
  return {
    k8s,
    config,
    server,
    core: new k8s.CoreV1Api(config),
    apps: new k8s.AppsV1Api(config),
    discovery: new k8s.DiscoveryV1Api(config),
    networking: new k8s.NetworkingV1Api(config),
    objects,
    /** Per-request options for METADATA_ONLY_ACCEPT: a get or a list answers with names and labels, no data. */
    metadataOnly: {
      get: k8s.setHeaderOptions('Accept', METADATA_ONLY_ACCEPT.get),
      list: k8s.setHeaderOptions('Accept', METADATA_ONLY_ACCEPT.list),
    },
    call: <T>(action: string, request: Promise<T>): Promise<T> =>
      request.catch((e: unknown) => {
        throw toKubeError(e, action, server);
      }),
  };
}

/** The chart's label selector for a release, optionally one component (room, pod-service, redis). */
export function releaseSelector(release: string, component?: string): string {
  return `app.kubernetes.io/instance=${release}${component ? `,app.kubernetes.io/component=${component}` : ''}`;
}
