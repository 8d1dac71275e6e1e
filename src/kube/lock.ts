import { readFileSync } from 'node:fs';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';

import { ExitCode, ExposePodsError } from '../errors.js';
import { kubeApis } from './api.js';
import type { ResolvedKube } from './config.js';
import { toKubeError } from './errors.js';

/** How long a lock lives without renewal; it is renewed every third of that. */
export const LOCK_SECONDS = 30;

export interface ReleaseLock {
  /** Stops renewing and deletes the Lease (if it is still ours). Never throws. */
  release(): Promise<void>;
  /** Set when a renewal found the lock taken: the holder changed under us. */
  lost(): string | undefined;
  /** Records the pid of the helm this holder runs, so a successor can wait for an orphaned one. */
  noteHelm(pid: number): Promise<void>;
  /** The helm a dead holder left running on this host, if any. */
  orphanedHelm?: number;
  /** When the lock was taken over from a dead holder: that holder's tenure, in ms since the epoch. */
  previous?: { acquired: number; renewed: number };
  /** Aborted when the lock is lost (taken over, or not renewed within its duration): stop at once. */
  signal: AbortSignal;
}

const HELM_PID = 'expose-pods.io/helm-pid';

/** Who holds a lock: this tool, host and pid, so a dead holder on this host is recognised at once. */
export function holderIdentity(host = os.hostname(), pid = process.pid): string {
  return `kubectl-expose-pods/${host}/${pid}`;
}

/** The host and pid of a holderIdentity this tool wrote; undefined for any other. */
function parseHolder(identity: string | undefined): { host: string; pid: number } | undefined {
  const m = /^kubectl-expose-pods\/(.+)\/(\d+)$/.exec(identity ?? '');
  return m?.[1] && m[2] ? { host: m[1], pid: Number(m[2]) } : undefined;
}

/**
 * Whether pid is a live helm process on this host. EPERM (someone else's
 * process) and a pid reused by another program count as gone: waiting on
 * either would never end.
 */
export function helmAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
    return /(^|\/)helm(\.exe)?$/.test(cmd);
  } catch {
    // No /proc (macOS, Windows): the signal check is all there is.
    return true;
  }
}

/** Whether a process with this pid runs here (EPERM: it does, as another user). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** When a Lease lapses unless renewed: renewTime + leaseDurationSeconds, in ms since the epoch. */
function lapseTime(lease: V1Lease): number {
  const spec = lease.spec ?? {};
  const renewed = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
  return renewed + (spec.leaseDurationSeconds ?? LOCK_SECONDS) * 1000;
}

/**
 * Whether a Lease no longer protects anything: its holder stopped renewing it
 * (renewTime + leaseDurationSeconds is past). Hostnames and pids repeat across
 * machines and containers, so they never make a renewed lease stale.
 */
export function leaseIsStale(lease: V1Lease, now: number): boolean {
  return lapseTime(lease) < now;
}

/** Where a lock lives and who asks for it: everything the steps below share. */
interface LockSite {
  leases: CoordinationV1Api;
  k8s: typeof import('@kubernetes/client-node');
  server: string;
  namespace: string;
  /** The Lease: <release>-expose-pods-lock. */
  name: string;
  release: string;
  /** Ours: holderIdentity(). */
  holder: string;
  operation: string;
}

/** The Lease as we hold it; a resourceVersion makes writing it a take-over that only one can win. */
function leaseBody(site: LockSite, resourceVersion?: string): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: site.name,
      namespace: site.namespace,
      resourceVersion,
      labels: {
        'app.kubernetes.io/instance': site.release,
        'app.kubernetes.io/managed-by': 'kubectl-expose-pods',
      },
      annotations: { 'expose-pods.io/operation': site.operation },
    },
    spec: {
      holderIdentity: site.holder,
      leaseDurationSeconds: LOCK_SECONDS,
      acquireTime: new site.k8s.V1MicroTime(),
      renewTime: new site.k8s.V1MicroTime(),
    },
  };
}

/** CONFLICT, naming the operation that holds the lock, who runs it and since when. */
function busy(site: LockSite, lease: V1Lease): ExposePodsError {
  const op = lease.metadata?.annotations?.['expose-pods.io/operation'] ?? 'an operation';
  const since = lease.spec?.acquireTime ? new Date(lease.spec.acquireTime).toISOString() : 'unknown';
  return new ExposePodsError(
    `another operation is in progress on release ${site.release}: ${op} by ${lease.spec?.holderIdentity ?? 'unknown'} since ${since}`,
    ExitCode.CONFLICT,
    `Wait for it to finish and run this again. A holder that died frees the lock within ${LOCK_SECONDS}s.`,
  );
}

/** The Lease now; undefined when it was released meanwhile (404). */
function readLease({ leases, name, namespace, server }: LockSite): Promise<V1Lease | undefined> {
  return leases.readNamespacedLease({ name, namespace }).catch((x: unknown) => {
    const e = toKubeError(x, `get lease ${name} in namespace ${namespace}`, server);
    if (e.httpCode === 404) return undefined;
    throw e;
  });
}

/** Without RBAC for Leases, no lock at all: the operation runs, and the user is told what that risks. */
function noLock(site: LockSite, warn: (message: string) => void): ReleaseLock {
  warn(
    `not allowed to create Leases in namespace ${site.namespace}: a concurrent operation on ${site.release} would not be detected`,
  );
  return {
    release: () => Promise.resolve(),
    lost: () => undefined,
    noteHelm: () => Promise.resolve(),
    signal: new AbortController().signal,
  };
}

/**
 * A live lease held by someone else. A holder on this host whose process is
 * gone (killed, Ctrl-C'd before its clean-up) is worth waiting for: its lease
 * lapses within LOCK_SECONDS. Anyone else is busy. Returns the lapsed lease,
 * or undefined when it was released meanwhile.
 */
async function awaitDeadHolder(
  site: LockSite,
  existing: V1Lease,
  warn: (message: string) => void,
): Promise<V1Lease | undefined> {
  const holder = parseHolder(existing.spec?.holderIdentity);
  const looksDead = holder?.host === os.hostname() && !processAlive(holder.pid);
  if (!looksDead) throw busy(site, existing);
  const lapses = lapseTime(existing);
  warn(
    `the lock on ${site.release} is held by ${existing.spec?.holderIdentity ?? '?'}, which is not running here; waiting up to ${Math.ceil((lapses - Date.now()) / 1000)}s for its lease to lapse`,
  );
  let lease: V1Lease | undefined = existing;
  while (lease && !leaseIsStale(lease, Date.now())) {
    // Renewed past the lapse we waited for: a live holder elsewhere with the same name.
    if (lapseTime(lease) > lapses + 1000) throw busy(site, lease);
    await sleep(1000);
    lease = await readLease(site);
  }
  return lease;
}

/**
 * Takes over a lapsed lease. Notes the helm its dead holder left running on
 * this host, and that holder's tenure, for the caller to settle.
 */
async function takeOver(
  site: LockSite,
  lapsed: V1Lease,
): Promise<{ lease: V1Lease; orphan?: number; previous: ReleaseLock['previous'] }> {
  const prevHost = parseHolder(lapsed.spec?.holderIdentity)?.host;
  const prevHelm = Number(lapsed.metadata?.annotations?.[HELM_PID]);
  const orphan = prevHost === os.hostname() && prevHelm > 0 && helmAlive(prevHelm) ? prevHelm : undefined;
  const previous = {
    acquired: new Date(lapsed.spec?.acquireTime ?? 0).getTime(),
    renewed: new Date(lapsed.spec?.renewTime ?? 0).getTime(),
  };
  const { leases, name, namespace, server } = site;
  try {
    // The resourceVersion makes the take-over atomic too: of two, one gets 409.
    const lease = await leases.replaceNamespacedLease({
      name,
      namespace,
      body: leaseBody(site, lapsed.metadata?.resourceVersion),
    });
    return { lease, orphan, previous };
  } catch (x) {
    const e = toKubeError(x, `take over lease ${name} in namespace ${namespace}`, server);
    if (e.httpCode === 409) throw busy(site, lapsed);
    throw e;
  }
}

/**
 * A per-release lock for operations that must not overlap (scale), as a
 * coordination.k8s.io Lease named <release>-expose-pods-lock. Creating it is
 * atomic, so of two racing commands exactly one gets it; the other fails with
 * CONFLICT naming the holder. A holder that died is taken over once its lease
 * lapses (renewTime + duration). A holder that loses its lease is told through
 * `signal`. 403 means no lock, with a warning: the operation still runs.
 */
export async function acquireReleaseLock(
  kube: ResolvedKube,
  namespace: string,
  release: string,
  operation: string,
  warn: (message: string) => void,
): Promise<ReleaseLock> {
  const { k8s, server, config } = await kubeApis(kube);
  const site: LockSite = {
    leases: new k8s.CoordinationV1Api(config),
    k8s,
    server,
    namespace,
    name: `${release}-expose-pods-lock`,
    release,
    holder: holderIdentity(),
    operation,
  };
  for (;;) {
    try {
      const lease = await site.leases.createNamespacedLease({ namespace, body: leaseBody(site) });
      return new HeldLease(site, lease);
    } catch (e) {
      const err = toKubeError(e, `create lease ${site.name} in namespace ${namespace}`, server);
      if (err.httpCode === 403) return noLock(site, warn);
      if (err.httpCode !== 409) throw err;
    }
    let existing = await readLease(site);
    if (existing && !leaseIsStale(existing, Date.now()))
      existing = await awaitDeadHolder(site, existing, warn);
    // Released between our create and now: try again from the start.
    if (!existing) continue;
    const { lease, orphan, previous } = await takeOver(site, existing);
    return new HeldLease(site, lease, orphan, previous);
  }
}

/**
 * A lease that is ours, kept renewed (every third of its duration, one
 * renewal at a time) until released; `signal` says when it is lost.
 */
class HeldLease implements ReleaseLock {
  private readonly aborter = new AbortController();
  readonly signal = this.aborter.signal;
  private lostReason: string | undefined;
  private helmPid: number | undefined;
  private renewedAt = Date.now();
  private inFlight: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly site: LockSite,
    private current: V1Lease,
    readonly orphanedHelm?: number,
    readonly previous?: ReleaseLock['previous'],
  ) {
    this.timer = setInterval(() => void this.renew(), (LOCK_SECONDS * 1000) / 3);
    this.timer.unref();
  }

  lost(): string | undefined {
    return this.lostReason;
  }

  async noteHelm(pid: number): Promise<void> {
    this.helmPid = pid;
    // A renewal already under way may not carry the pid: let it end, then write one that does.
    await this.inFlight;
    await this.renew();
  }

  async release(): Promise<void> {
    clearInterval(this.timer);
    await this.inFlight;
    if (this.lostReason) return;
    const { leases, name, namespace } = this.site;
    try {
      await leases.deleteNamespacedLease({
        name,
        namespace,
        body: { preconditions: { resourceVersion: this.current.metadata?.resourceVersion } },
      });
    } catch {
      // It expires by itself.
    }
  }

  private lose(reason: string): void {
    if (this.lostReason) return;
    this.lostReason = reason;
    const { release, namespace } = this.site;
    this.aborter.abort(
      new ExposePodsError(
        `lost the lock on release ${release}: ${reason}; stopped`,
        ExitCode.CONFLICT,
        `Another operation may be running on it. Check with: kubectl expose-pods status ${release} -n ${namespace}`,
      ),
    );
  }

  /**
   * One renewal at a time: under load one can take longer than the interval,
   * and a second one sent with the same resourceVersion would conflict with our own first.
   */
  private renew(): Promise<void> {
    this.inFlight ??= this.renewOnce().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private renewed(): V1Lease {
    const { k8s, holder } = this.site;
    const current = this.current;
    return {
      ...current,
      metadata: {
        ...current.metadata,
        annotations: {
          ...current.metadata?.annotations,
          ...(this.helmPid ? { [HELM_PID]: String(this.helmPid) } : {}),
        },
      },
      spec: {
        holderIdentity: holder,
        leaseDurationSeconds: LOCK_SECONDS,
        // Read back as a Date; MicroTime must be written with 6 fractional digits.
        acquireTime: new k8s.V1MicroTime(current.spec?.acquireTime ?? Date.now()),
        renewTime: new k8s.V1MicroTime(),
      },
    };
  }

  private async renewOnce(): Promise<void> {
    if (this.lostReason) return;
    const { leases, name, namespace, server, holder } = this.site;
    try {
      this.current = await leases.replaceNamespacedLease({ name, namespace, body: this.renewed() });
      this.renewedAt = Date.now();
    } catch (e) {
      const err = toKubeError(e, `renew lease ${name}`, server);
      // A 409: the lease changed since we read it. It is lost only if someone else holds it now;
      // still ours, it is read again and renewed next time. Other failures are retried next
      // time, until the lease has lapsed: from then on another holder may have taken it.
      if (err.httpCode === 409) {
        const now = await leases.readNamespacedLease({ name, namespace }).catch(() => undefined);
        if (now?.spec?.holderIdentity === holder) this.current = now;
        else this.lose(`the lease ${namespace}/${name} was taken over`);
      } else if (Date.now() - this.renewedAt > LOCK_SECONDS * 1000)
        this.lose(
          `the lease ${namespace}/${name} could not be renewed for ${LOCK_SECONDS}s (${err.message})`,
        );
    }
  }
}
