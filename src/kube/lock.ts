import { readFileSync } from 'node:fs';
import os from 'node:os';

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

/**
 * A per-release lock for operations that must not overlap (scale), as a
 * coordination.k8s.io Lease named <release>-expose-pods-lock. Creating it is
 * atomic, so of two racing commands exactly one gets it; the other fails with
 * CONFLICT naming the holder. A holder that died is taken over once its lease
 * lapses (renewTime + duration). A holder that loses its lease is told through
 * `signal`. 403 means no lock, with a warning: the operation still runs.
 */
// eslint-disable-next-line max-lines-per-function -- still to be split (issue 17)
export async function acquireReleaseLock(
  kube: ResolvedKube,
  namespace: string,
  release: string,
  operation: string,
  warn: (message: string) => void,
): Promise<ReleaseLock> {
  const { k8s, server, config } = await kubeApis(kube);
  const leases = new k8s.CoordinationV1Api(config);
  const name = `${release}-expose-pods-lock`;
  const holder = holderIdentity();
  const body = (resourceVersion?: string): V1Lease => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name,
      namespace,
      resourceVersion,
      labels: {
        'app.kubernetes.io/instance': release,
        'app.kubernetes.io/managed-by': 'kubectl-expose-pods',
      },
      annotations: { 'expose-pods.io/operation': operation },
    },
    spec: {
      holderIdentity: holder,
      leaseDurationSeconds: LOCK_SECONDS,
      acquireTime: new k8s.V1MicroTime(),
      renewTime: new k8s.V1MicroTime(),
    },
  });
  const busy = (lease: V1Lease) => {
    const op = lease.metadata?.annotations?.['expose-pods.io/operation'] ?? 'an operation';
    const since = lease.spec?.acquireTime ? new Date(lease.spec.acquireTime).toISOString() : 'unknown';
    return new ExposePodsError(
      `another operation is in progress on release ${release}: ${op} by ${lease.spec?.holderIdentity ?? 'unknown'} since ${since}`,
      ExitCode.CONFLICT,
      `Wait for it to finish and run this again. A holder that died frees the lock within ${LOCK_SECONDS}s.`,
    );
  };

  let current: V1Lease;
  let orphan: number | undefined;
  let previous: ReleaseLock['previous'];
  try {
    current = await leases.createNamespacedLease({ namespace, body: body() });
  } catch (e) {
    const err = toKubeError(e, `create lease ${name} in namespace ${namespace}`, server);
    if (err.httpCode === 403) {
      warn(
        `not allowed to create Leases in namespace ${namespace}: a concurrent operation on ${release} would not be detected`,
      );
      return {
        release: () => Promise.resolve(),
        lost: () => undefined,
        noteHelm: () => Promise.resolve(),
        signal: new AbortController().signal,
      };
    }
    if (err.httpCode !== 409) throw err;
    const read = () =>
      leases.readNamespacedLease({ name, namespace }).catch((x: unknown) => {
        const e2 = toKubeError(x, `get lease ${name} in namespace ${namespace}`, server);
        // Released between our create and this read: try again from the start.
        if (e2.httpCode === 404) return undefined;
        throw e2;
      });
    let existing = await read();
    if (!existing) return acquireReleaseLock(kube, namespace, release, operation, warn);
    if (!leaseIsStale(existing, Date.now())) {
      // A holder on this host whose process is gone (killed, Ctrl-C'd before its clean-up)
      // is worth waiting for: its lease lapses within LOCK_SECONDS. Anyone else is busy.
      const holder = parseHolder(existing.spec?.holderIdentity);
      const looksDead = holder?.host === os.hostname() && !processAlive(holder.pid);
      if (!looksDead) throw busy(existing);
      const lapses = lapseTime(existing);
      warn(
        `the lock on ${release} is held by ${existing.spec?.holderIdentity ?? '?'}, which is not running here; waiting up to ${Math.ceil((lapses - Date.now()) / 1000)}s for its lease to lapse`,
      );
      while (existing && !leaseIsStale(existing, Date.now())) {
        // Renewed past the lapse we waited for: a live holder elsewhere with the same name.
        if (lapseTime(existing) > lapses + 1000) throw busy(existing);
        await new Promise((r) => setTimeout(r, 1000));
        existing = await read();
      }
      if (!existing) return acquireReleaseLock(kube, namespace, release, operation, warn);
    }
    const prevHost = parseHolder(existing.spec?.holderIdentity)?.host;
    const prevHelm = Number(existing.metadata?.annotations?.[HELM_PID]);
    if (prevHost === os.hostname() && prevHelm > 0 && helmAlive(prevHelm)) orphan = prevHelm;
    previous = {
      acquired: new Date(existing.spec?.acquireTime ?? 0).getTime(),
      renewed: new Date(existing.spec?.renewTime ?? 0).getTime(),
    };
    try {
      // The resourceVersion makes the take-over atomic too: of two, one gets 409.
      current = await leases.replaceNamespacedLease({
        name,
        namespace,
        body: body(existing.metadata?.resourceVersion),
      });
    } catch (x) {
      const e2 = toKubeError(x, `take over lease ${name} in namespace ${namespace}`, server);
      if (e2.httpCode === 409) throw busy(existing);
      throw e2;
    }
  }

  return holdLease({
    leases,
    k8s,
    server,
    namespace,
    name,
    release,
    holder,
    lease: current,
    orphan,
    previous,
  });
}

/**
 * Keeps a lease that is ours renewed (every third of its duration, one renewal
 * at a time) until released, and says through `signal` when it is lost.
 */
// eslint-disable-next-line max-lines-per-function -- still to be split (issue 17)
function holdLease(h: {
  leases: CoordinationV1Api;
  k8s: typeof import('@kubernetes/client-node');
  server: string;
  namespace: string;
  name: string;
  release: string;
  holder: string;
  lease: V1Lease;
  orphan?: number;
  previous: ReleaseLock['previous'];
}): ReleaseLock {
  const { leases, k8s, server, namespace, name, release, holder } = h;
  let current = h.lease;
  let lostReason: string | undefined;
  let helmPid: number | undefined;
  let renewedAt = Date.now();
  const aborter = new AbortController();
  const lose = (reason: string) => {
    if (lostReason) return;
    lostReason = reason;
    aborter.abort(
      new ExposePodsError(
        `lost the lock on release ${release}: ${reason}; stopped`,
        ExitCode.CONFLICT,
        `Another operation may be running on it. Check with: kubectl expose-pods status ${release} -n ${namespace}`,
      ),
    );
  };
  const renewOnce = async () => {
    if (lostReason) return;
    try {
      current = await leases.replaceNamespacedLease({
        name,
        namespace,
        body: {
          ...current,
          metadata: {
            ...current.metadata,
            annotations: {
              ...current.metadata?.annotations,
              ...(helmPid ? { [HELM_PID]: String(helmPid) } : {}),
            },
          },
          spec: {
            holderIdentity: holder,
            leaseDurationSeconds: LOCK_SECONDS,
            // Read back as a Date; MicroTime must be written with 6 fractional digits.
            acquireTime: new k8s.V1MicroTime(current.spec?.acquireTime ?? Date.now()),
            renewTime: new k8s.V1MicroTime(),
          },
        },
      });
      renewedAt = Date.now();
    } catch (e) {
      const err = toKubeError(e, `renew lease ${name}`, server);
      // A 409: the lease changed since we read it. It is lost only if someone else holds it now;
      // still ours, it is read again and renewed next time. Other failures are retried next
      // time, until the lease has lapsed: from then on another holder may have taken it.
      if (err.httpCode === 409) {
        const now = await leases.readNamespacedLease({ name, namespace }).catch(() => undefined);
        if (now?.spec?.holderIdentity === holder) current = now;
        else lose(`the lease ${namespace}/${name} was taken over`);
      } else if (Date.now() - renewedAt > LOCK_SECONDS * 1000)
        lose(`the lease ${namespace}/${name} could not be renewed for ${LOCK_SECONDS}s (${err.message})`);
    }
  };
  // One renewal at a time: under load one can take longer than the interval, and a second
  // one sent with the same resourceVersion would conflict with our own first.
  let inFlight: Promise<void> | undefined;
  const renew = (): Promise<void> => {
    inFlight ??= renewOnce().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
  const timer = setInterval(() => void renew(), (LOCK_SECONDS * 1000) / 3);
  timer.unref();

  return {
    orphanedHelm: h.orphan,
    previous: h.previous,
    signal: aborter.signal,
    lost: () => lostReason,
    noteHelm: async (pid: number) => {
      helmPid = pid;
      // A renewal already under way may not carry the pid: let it end, then write one that does.
      await inFlight;
      await renew();
    },
    release: async () => {
      clearInterval(timer);
      await inFlight;
      if (lostReason) return;
      try {
        await leases.deleteNamespacedLease({
          name,
          namespace,
          body: { preconditions: { resourceVersion: current.metadata?.resourceVersion } },
        });
      } catch {
        // It expires by itself.
      }
    },
  };
}
