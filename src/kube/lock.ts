import { randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync, realpathSync } from 'node:fs';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';

import { lockLeaseName } from '../core/permissions.js';
import { ExitCode, ExposePodsError } from '../errors.js';
import { kubeApis } from './api.js';
import type { ResolvedKube } from './config.js';
import { KubeApiError, toKubeError } from './errors.js';

/** How long a lock lives without renewal; it is renewed every third of that. */
export const LOCK_SECONDS = 30;

export interface ReleaseLock {
  /** Who holds it: holderIdentity() of this acquisition. */
  readonly holder: string;
  /** Stops renewing and deletes the Lease (if it is still ours). Never throws. */
  release(): Promise<void>;
  /** Set when a renewal found the lock taken: the holder changed under us. */
  lost(): string | undefined;
  /**
   * Records the helm this holder runs (its pid, the run of that pid, the
   * binary), so a successor can wait for an orphaned one. Call it as helm is
   * spawned: the run is read then, while the pid is certainly helm's.
   */
  noteHelm(pid: number, binary: string): Promise<void>;
  /** The helm a dead holder left running on this host, if any: its pid, its run, the binary it was started from. */
  orphanedHelm?: OrphanedHelm;
  /**
   * The tenures of the holders whose change may be left unsettled: the dead holder this
   * lock was taken over from, and those it had inherited in turn (a holder that died
   * before it settled passes them on). Undefined when the lock was free.
   */
  unsettled?: Tenure[];
  /** A pending revision an earlier holder recognised as one of ours and did not roll back (recognised()). */
  pending?: PendingRevision;
  /**
   * Records that the release's pending revision is one of ours (settleRelease): if this
   * command ends before it is rolled back, the Lease hands on that revision itself, not the
   * tenures (times by another clock) that identified it.
   */
  recognised(revision: PendingRevision): void;
  /**
   * Says that what `unsettled` or `pending` may have left is settled (rolled back, or
   * nothing pending): release() then deletes the Lease. Until then release() leaves it
   * released (no holder) and carrying them, with the helm last recorded in it, so that
   * after a settle that was refused or stopped the next command takes it at once, waits
   * for that helm if it still runs, and still knows the pending revision for one of ours.
   */
  settled(): void;
  /**
   * Whether the lock is certainly still ours: not lost, and renewed less than a lease ago
   * (less a margin), so no other holder can have taken it over yet. Before writing what
   * another holder may also write (the Draining marks).
   */
  held(): boolean;
  /** Aborted when the lock is lost (taken over, or not renewed within its duration): stop at once. */
  signal: AbortSignal;
}

const HELM_PID = 'expose-pods.io/helm-pid';
/** Which run of that pid helm was (processRun): a shim that execs helm keeps it, a reused pid does not. */
const HELM_RUN = 'expose-pods.io/helm-run';
const HELM_BINARY = 'expose-pods.io/helm-binary';
/** The host that helm runs on: a Lease handed on keeps it, whoever holds the Lease next. */
const HELM_HOST = 'expose-pods.io/helm-host';
const HELM_NOTES = [HELM_PID, HELM_RUN, HELM_BINARY, HELM_HOST];

/** The notes of the helm a lease records (those it has), to carry on into another. */
function helmNotesOf(notes: Record<string, string>): Record<string, string> {
  return Object.fromEntries(HELM_NOTES.flatMap((k) => (notes[k] ? [[k, notes[k]]] : [])));
}
/** The pending revision recognised as ours (JSON, PendingRevision): its number and when helm wrote it. */
const PENDING = 'expose-pods.io/pending-revision';
/** Which run of the holder's pid holds the lock (processRun), so a pid reused since does not look busy. */
const HOLDER_RUN = 'expose-pods.io/holder-run';

/** The inherited tenures (JSON, Tenure[]): the evidence that a pending revision is ours, kept across holders. */
const UNSETTLED = 'expose-pods.io/unsettled';
/** At most this many tenures are kept: a chain of holders that died, newest last. */
const UNSETTLED_KEPT = 8;

/** A holder's time with the lock, in ms since the epoch, by its own clock (that of the host its helm ran on). */
export interface Tenure {
  acquired: number;
  renewed: number;
}

/** A revision of the release, as `helm history` reports it: its number and when it was written (ms), together unique. */
export interface PendingRevision {
  revision: number;
  updated: number;
  /**
   * Our own rollback of it was started: a `pending-rollback` over it is ours then. Without
   * this mark it may be a `helm rollback` someone ran by hand, and is never taken for ours.
   */
  rollingBack?: boolean;
}

/** The pending revision a lease carries; none for an unreadable annotation. */
export function parsePending(text: string | undefined): PendingRevision | undefined {
  try {
    const p = JSON.parse(text ?? 'null') as Partial<PendingRevision> | null;
    return p && Number.isInteger(p.revision) && Number.isFinite(p.updated)
      ? {
          revision: p.revision as number,
          updated: p.updated as number,
          ...(p.rollingBack === true && { rollingBack: true }),
        }
      : undefined;
  } catch {
    return undefined;
  }
}

/** The tenures a lease carries; none for an unreadable annotation (written by hand). */
export function parseTenures(text: string | undefined): Tenure[] {
  if (!text) return [];
  try {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(
      (t): t is Tenure =>
        typeof t === 'object' &&
        t !== null &&
        Number.isFinite((t as Tenure).acquired) &&
        Number.isFinite((t as Tenure).renewed) &&
        (t as Tenure).renewed >= (t as Tenure).acquired,
    );
  } catch {
    return [];
  }
}

/** A helm left running by a holder that died. */
export interface OrphanedHelm {
  pid: number;
  /** Which run of the pid it is (processRun); undefined when the holder did not record one (no /proc, or an older version). */
  run?: string;
  /** The binary it was started from (real path); undefined when the holder did not record one. */
  binary?: string;
}

/**
 * Who holds a lock: this tool, host and pid (so a holder on this host is
 * recognised), and a token of its own per acquisition: two processes that
 * share a host name and pid (containers) never take each other's lease for theirs.
 */
export function holderIdentity(
  host = os.hostname(),
  pid = process.pid,
  token = randomBytes(6).toString('hex'),
): string {
  return `kubectl-expose-pods/${host}/${pid}/${token}`;
}

/** The host and pid of a holderIdentity this tool wrote (with or without its token); undefined for any other. */
export function parseHolder(identity: string | undefined): { host: string; pid: number } | undefined {
  const m = /^kubectl-expose-pods\/([^/]+)\/(\d+)(?:\/[0-9a-f]+)?$/.exec(identity ?? '');
  return m?.[1] && m[2] ? { host: m[1], pid: Number(m[2]) } : undefined;
}

/** A path with its links resolved, or as given when it cannot be. */
function realPath(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

/** The boot this machine is in: a pid's run means nothing across a reboot. */
function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * Which run of a pid this is, on Linux: `<boot id>/<start time>`, the start
 * time being field 22 of /proc/<pid>/stat (clock ticks since boot). A process
 * keeps it through exec (an asdf or snap shim that execs the real helm), and a
 * pid reused by another process gets another. The boot is named by its boot
 * id, not by /proc/stat's btime, which moves when the wall clock is stepped.
 * Undefined when the pid has no process, or only a zombie, or there is no
 * /proc (macOS, Windows).
 */
export function processRun(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Field 2, the command name, is in parentheses and may hold spaces and parentheses itself.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const [state, starttime] = [fields[0], fields[22 - 3]];
  if (state === 'Z' || state === 'X' || !starttime) return undefined;
  return `${bootId()}/${starttime}`;
}

/** Whether /proc describes this machine's processes (Linux). */
function hasProc(): boolean {
  return processRun(process.pid) !== undefined;
}

/** Whether a signal reaches pid (or, negative, a process group); EPERM (another user's) counts as not ours. */
function signalable(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether the helm a dead holder left is still running on this host.
 *
 * On Linux, with its run recorded: the pid is that very run (processRun),
 * whatever binary it runs now (a shim that exec'd helm), and a pid reused by
 * another process is not it. When that process is gone, helm's process group
 * (helm is spawned as its leader, helm/helm.ts) still counts while any member
 * runs: a shim that forks helm instead of exec'ing it, then died. The kernel
 * does not reuse a pid while its group has members.
 *
 * Without /proc (macOS, Windows) no run can be recorded: helm, or its process
 * group, answering a signal is all there is, so a reused pid is waited for
 * (up to the caller's deadline). A lock recorded without a run (by an older
 * version) is judged by the binary, as that version did.
 */
export function helmAlive(helm: OrphanedHelm): boolean {
  const { pid, run, binary } = helm;
  if (!hasProc()) return signalable(pid) || (process.platform !== 'win32' && signalable(-pid));
  if (run === undefined) return helmByBinary(pid, binary);
  // Recorded before a reboot: nothing of that boot runs now.
  if (!run.startsWith(`${bootId()}/`)) return false;
  const now = processRun(pid);
  if (now !== undefined) return now === run;
  return signalable(-pid);
}

/**
 * A lock recorded without helm's run: pid is helm if it was started from
 * `binary` (by real path, so `--helm-binary …/helm4` is recognised), or, when
 * no binary was recorded, is a program named helm.
 */
function helmByBinary(pid: number, binary?: string): boolean {
  if (!signalable(pid)) return false;
  try {
    if (binary) return readlinkSync(`/proc/${pid}/exe`) === realPath(binary);
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
    return /(^|\/)helm(\.exe)?$/.test(cmd);
  } catch {
    return false;
  }
}

/**
 * Whether the holder of a lease runs here: its pid is that very run
 * (HOLDER_RUN) where both /proc and a recorded run say so; otherwise a process
 * with its pid exists (EPERM: it does, as another user).
 */
function holderAlive(pid: number, run: string | undefined): boolean {
  if (run !== undefined && hasProc()) return processRun(pid) === run;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** held() is false this long before a successor could take over: a renewal's round trip, and the poll of the one watching. */
const HELD_MARGIN_MS = 5000;

/** How often a lease held by another is read again while we wait to see whether it is renewed. */
export const LEASE_POLL_MS = 1000;

/** Our own clock for how long we have watched a lease: monotonic, whatever the wall clock does. */
const watchClock = () => performance.now();

/** How long a lease's holder promises to renew it within: its leaseDurationSeconds, in ms. */
function leaseDurationMs(lease: V1Lease): number {
  return (lease.spec?.leaseDurationSeconds ?? LOCK_SECONDS) * 1000;
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
  /** Which run of our pid holds it (processRun); undefined without /proc. */
  run?: string;
  operation: string;
  /** Annotations of its own that the lease carries (the autoscaler's settings). */
  annotations?: Record<string, string>;
  /** What a refusal tells the user to do, instead of waiting for the operation to finish. */
  busyHint?: string;
}

/** A lease other than the change lock: its name, the annotations it carries, and the refusal's hint. */
export interface LeaseOptions {
  name?: string;
  annotations?: Record<string, string>;
  busyHint?: string;
  /**
   * A holder identity of ours whose Lease lapsed while this process lives (renewals failed
   * while the API server was away): a record still in its name is taken back at once, conditioned
   * on its resourceVersion, instead of being judged busy by our own live pid.
   */
  reclaim?: string;
}

/** The Lease as we hold it; a resourceVersion makes writing it a take-over that only one can win. */
function leaseBody(site: LockSite, resourceVersion?: string, carried: Record<string, string> = {}): V1Lease {
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
      annotations: {
        ...site.annotations,
        'expose-pods.io/operation': site.operation,
        ...(site.run ? { [HOLDER_RUN]: site.run } : {}),
        ...carried,
      },
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
function busy(site: Pick<LockSite, 'release' | 'busyHint'>, lease: V1Lease): ExposePodsError {
  const op = lease.metadata?.annotations?.['expose-pods.io/operation'] ?? 'an operation';
  const since = lease.spec?.acquireTime ? new Date(lease.spec.acquireTime).toISOString() : 'unknown';
  return new ExposePodsError(
    `another operation is in progress on release ${site.release}: ${op} by ${lease.spec?.holderIdentity ?? 'unknown'} since ${since}`,
    ExitCode.CONFLICT,
    site.busyHint ??
      `Wait for it to finish and run this again. A holder that died frees the lock within ${LOCK_SECONDS}s.`,
  );
}

/** The Lease now; undefined when it was released meanwhile (404). */
function readLease({
  leases,
  name,
  namespace,
  server,
}: Pick<LockSite, 'leases' | 'name' | 'namespace' | 'server'>): Promise<V1Lease | undefined> {
  return leases.readNamespacedLease({ name, namespace }).catch((x: unknown) => {
    const e = toKubeError(x, `get lease ${name} in namespace ${namespace}`, server);
    if (e.httpCode === 404) return undefined;
    throw e;
  });
}

/**
 * A lease held by someone else. Whether it still protects anything is judged
 * as client-go's leader election judges it: from when *we* saw the record,
 * plus its leaseDurationSeconds. The holder's renewTime is never compared
 * with our clock: clocks on two machines can differ by more than a lease.
 *
 * A holder that is a live process on this host is busy at once. Otherwise the
 * lease is read every LEASE_POLL_MS: a record that changes (a renewal, a new
 * holder) is busy; one unchanged for its duration has lapsed and is returned
 * for a take-over; undefined when it was released meanwhile.
 */
export async function awaitLapse(
  site: Pick<LockSite, 'leases' | 'name' | 'namespace' | 'server' | 'release' | 'busyHint'>,
  existing: V1Lease,
  warn: (message: string) => void,
): Promise<V1Lease | undefined> {
  const holder = parseHolder(existing.spec?.holderIdentity);
  const run = existing.metadata?.annotations?.[HOLDER_RUN];
  if (holder?.host === os.hostname() && holderAlive(holder.pid, run)) throw busy(site, existing);
  const seen = watchClock();
  const version = existing.metadata?.resourceVersion;
  const duration = leaseDurationMs(existing);
  warn(
    `${site.name === lockLeaseName(site.release) ? `the lock on ${site.release}` : `the Lease ${site.name}`} is held by ${existing.spec?.holderIdentity ?? '?'}; waiting up to ${Math.ceil(duration / 1000)}s to see whether it is renewed (a holder that died is taken over then)`,
  );
  for (;;) {
    await sleep(LEASE_POLL_MS);
    const lease = await readLease(site);
    if (!lease) return undefined;
    // Released meanwhile (handed on, no holder): free now.
    if (!lease.spec?.holderIdentity) return lease;
    if (lease.metadata?.resourceVersion !== version) throw busy(site, lease);
    if (watchClock() - seen >= duration) return lease;
  }
}

/** What a lease hands on to its next holder (ReleaseLock). */
interface Inherited {
  orphan?: OrphanedHelm;
  unsettled?: Tenure[];
  pending?: PendingRevision;
}

/**
 * What a lapsed or released lease hands on: the helm its holder left running
 * on this host (by the host helm was recorded on, or the holder's), the pending
 * revision recognised as ours, and the tenures whose change may be left
 * unsettled (those it carries, and a dead holder's own), with the annotations
 * that carry them on in the new lease.
 */
function inheritedFrom(
  site: LockSite,
  lapsed: V1Lease,
): { inherited: Inherited; carried: Record<string, string> } {
  // Only the change lock's holders leave changes pending; the autoscaler's Lease carries nothing on.
  if (site.name !== lockLeaseName(site.release)) return { inherited: {}, carried: {} };
  const notes = lapsed.metadata?.annotations ?? {};
  const helmHost = notes[HELM_HOST] ?? parseHolder(lapsed.spec?.holderIdentity)?.host;
  const helm: OrphanedHelm = {
    pid: Number(notes[HELM_PID]),
    run: notes[HELM_RUN],
    binary: notes[HELM_BINARY],
  };
  const here = helmHost === os.hostname();
  const orphan = here && helm.pid > 0 && helmAlive(helm) ? helm : undefined;
  // A helm on another host cannot be judged from here: its notes go on until a holder on its host judges it.
  const carryHelm = orphan !== undefined || (!here && helmHost !== undefined && helm.pid > 0);
  const pending = parsePending(notes[PENDING]);
  const dead: Tenure[] = lapsed.spec?.holderIdentity
    ? [
        {
          acquired: new Date(lapsed.spec.acquireTime ?? 0).getTime(),
          renewed: new Date(lapsed.spec.renewTime ?? 0).getTime(),
        },
      ]
    : [];
  // Once a revision is recognised, the times that found it are not handed on (another clock may match
  // someone else's later revision); only a dead holder's own, for what it may have started since.
  const unsettled = [...(pending ? [] : parseTenures(notes[UNSETTLED])), ...dead].slice(-UNSETTLED_KEPT);
  const carried: Record<string, string> = {
    // An orphan still running is carried on: if this holder goes too, the next one still waits for it.
    ...(carryHelm ? helmNotesOf(notes) : {}),
    ...(carryHelm && !notes[HELM_HOST] && helmHost ? { [HELM_HOST]: helmHost } : {}),
    ...(pending ? { [PENDING]: JSON.stringify(pending) } : {}),
    ...(unsettled.length ? { [UNSETTLED]: JSON.stringify(unsettled) } : {}),
  };
  return {
    inherited: { orphan, pending, unsettled: unsettled.length ? unsettled : undefined },
    carried,
  };
}

/**
 * Takes over a lapsed lease, or a released one (no holder), carrying on what
 * it hands on (inheritedFrom), so that if this holder dies too the next one
 * still knows it. Undefined when a released lease was taken by another first.
 */
async function takeOver(
  site: LockSite,
  lapsed: V1Lease,
): Promise<{ lease: V1Lease; inherited: Inherited } | undefined> {
  const { inherited, carried } = inheritedFrom(site, lapsed);
  const { leases, name, namespace, server } = site;
  try {
    // The resourceVersion makes the take-over atomic too: of two, one gets 409.
    const lease = await leases.replaceNamespacedLease({
      name,
      namespace,
      body: leaseBody(site, lapsed.metadata?.resourceVersion, carried),
    });
    return { lease, inherited };
  } catch (x) {
    const e = toKubeError(x, `take over lease ${name} in namespace ${namespace}`, server);
    // A released lease taken by another first: from the start, to name its holder.
    if (e.httpCode === 409 && !lapsed.spec?.holderIdentity) return undefined;
    // Taken over by another first: name that one, not the dead holder.
    if (e.httpCode === 409) throw busy(site, (await readLease(site).catch(() => undefined)) ?? lapsed);
    throw e;
  }
}

/**
 * Exit 6: no lock without Leases, and no change without a lock. Another
 * command on the same release would not be detected, and two helm upgrades
 * at once corrupt a release's history.
 */
function leasesForbidden(site: LockSite, err: Error): KubeApiError {
  return new KubeApiError(
    `forbidden: you may not create leases (coordination.k8s.io) in namespace ${site.namespace}, which the lock on release ${site.release} needs; nothing was changed (${err.message})`,
    403,
    'Forbidden',
    ExitCode.FORBIDDEN,
    `Ask a cluster admin to grant what every command needs: kubectl expose-pods rbac -n ${site.namespace} --release ${site.release} --user NAME (or --group, --serviceaccount).`,
  );
}

/**
 * A per-release lock for operations that must not overlap (scale), as a
 * coordination.k8s.io Lease named <release>-expose-pods-lock. Creating it is
 * atomic, so of two racing commands exactly one gets it; the other fails with
 * CONFLICT naming the holder. A holder that died is taken over once its lease
 * lapses (unchanged for its duration, as we watch it: awaitLapse). A holder
 * that loses its lease is told through `signal`. Without RBAC to create
 * Leases, nothing is written: exit 6, naming leases (see `rbac`).
 */
export async function acquireReleaseLock(
  kube: ResolvedKube,
  namespace: string,
  release: string,
  operation: string,
  warn: (message: string) => void,
  opts: LeaseOptions = {},
): Promise<ReleaseLock> {
  const { k8s, server, config } = await kubeApis(kube);
  const site: LockSite = {
    leases: new k8s.CoordinationV1Api(config),
    k8s,
    server,
    namespace,
    name: opts.name ?? lockLeaseName(release),
    release,
    holder: holderIdentity(),
    run: processRun(process.pid),
    operation,
    annotations: opts.annotations,
    busyHint: opts.busyHint,
  };
  for (;;) {
    try {
      const lease = await site.leases.createNamespacedLease({ namespace, body: leaseBody(site) });
      return new HeldLease(site, lease);
    } catch (e) {
      const err = toKubeError(e, `create lease ${site.name} in namespace ${namespace}`, server);
      if (err.httpCode === 403) throw leasesForbidden(site, err);
      if (err.httpCode !== 409) throw err;
    }
    let existing = await readLease(site);
    if (existing && opts.reclaim && existing.spec?.holderIdentity === opts.reclaim) {
      const taken = await takeOver(site, existing);
      if (taken) return new HeldLease(site, taken.lease);
      continue;
    }
    // A lease with no holder was released (see settled()): free at once, as client-go's leader election has it.
    if (existing?.spec?.holderIdentity) existing = await awaitLapse(site, existing, warn);
    // Deleted between our create and now: try again from the start.
    if (!existing) continue;
    const taken = await takeOver(site, existing);
    // A released lease another took first: from the start, which names that holder.
    if (!taken) continue;
    return new HeldLease(site, taken.lease, taken.inherited);
  }
}

/**
 * A lease that is ours, kept renewed (every third of its duration, one
 * renewal at a time) until released; `signal` says when it is lost.
 */
class HeldLease implements ReleaseLock {
  private readonly aborter = new AbortController();
  readonly signal = this.aborter.signal;
  readonly holder: string;
  private lostReason: string | undefined;
  private helm: { pid: number; run?: string; binary: string } | undefined;
  /** When it was last renewed, on a monotonic clock: neither held() nor a loss follows the wall clock. */
  private renewedAt = performance.now();
  private isSettled = false;
  private inFlight: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  readonly orphanedHelm?: OrphanedHelm;
  readonly unsettled?: Tenure[];
  pending?: PendingRevision;

  constructor(
    private readonly site: LockSite,
    private current: V1Lease,
    inherited: Inherited = {},
  ) {
    this.holder = site.holder;
    this.orphanedHelm = inherited.orphan;
    this.unsettled = inherited.unsettled;
    this.pending = inherited.pending;
    this.timer = setInterval(() => void this.renew(), (LOCK_SECONDS * 1000) / 3);
    this.timer.unref();
  }

  lost(): string | undefined {
    return this.lostReason;
  }

  async noteHelm(pid: number, binary: string): Promise<void> {
    // Read at once: helm was just spawned and is not reaped before we are told, so this pid is helm's.
    this.helm = { pid, run: processRun(pid), binary: realPath(binary) };
    // A renewal already under way may not carry the pid: let it end, then write one that does.
    await this.inFlight;
    await this.renew();
  }

  settled(): void {
    this.isSettled = true;
  }

  recognised(revision: PendingRevision): void {
    this.pending = revision;
  }

  held(): boolean {
    // Another holder takes over only after watching our last record unchanged for a whole lease.
    return !this.lostReason && performance.now() - this.renewedAt < LOCK_SECONDS * 1000 - HELD_MARGIN_MS;
  }

  async release(): Promise<void> {
    clearInterval(this.timer);
    await this.inFlight;
    if (this.lostReason) return;
    const { leases, name, namespace } = this.site;
    if ((this.unsettled?.length || this.pending) && !this.isSettled) {
      // Failing that, it lapses with them: the next holder takes it over within its duration.
      await leases.replaceNamespacedLease({ name, namespace, body: this.released() }).catch(() => undefined);
      return;
    }
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

  /**
   * The Lease with no holder, handing on the pending revision recognised as ours (or, when
   * none was, the tenures that would identify it) and the helm last recorded in it: the next
   * acquirer takes it at once.
   */
  private released(): V1Lease {
    const { metadata } = this.current;
    const notes = metadata?.annotations ?? {};
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: metadata?.name,
        namespace: metadata?.namespace,
        resourceVersion: metadata?.resourceVersion,
        labels: metadata?.labels,
        annotations: {
          ...helmNotesOf(notes),
          // The revision itself, once recognised: times by another clock are no longer needed to know it.
          ...(this.pending
            ? { [PENDING]: JSON.stringify(this.pending) }
            : { [UNSETTLED]: JSON.stringify(this.unsettled) }),
        },
      },
      spec: { leaseDurationSeconds: LOCK_SECONDS },
    };
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
          ...(this.pending ? { [PENDING]: JSON.stringify(this.pending) } : {}),
          ...(this.helm
            ? {
                [HELM_PID]: String(this.helm.pid),
                ...(this.helm.run ? { [HELM_RUN]: this.helm.run } : {}),
                [HELM_BINARY]: this.helm.binary,
                [HELM_HOST]: os.hostname(),
              }
            : {}),
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
      this.renewedAt = performance.now();
    } catch (e) {
      const err = toKubeError(e, `renew lease ${name}`, server);
      // A 409: the lease changed since we read it. It is lost only if someone else holds it now;
      // still ours, it is read again and renewed next time. Other failures are retried next
      // time, until the lease has lapsed: from then on another holder may have taken it.
      if (err.httpCode === 409) {
        const now = await leases.readNamespacedLease({ name, namespace }).catch(() => undefined);
        if (now?.spec?.holderIdentity === holder) this.current = now;
        else this.lose(`the lease ${namespace}/${name} was taken over`);
      } else if (performance.now() - this.renewedAt > LOCK_SECONDS * 1000)
        this.lose(
          `the lease ${namespace}/${name} could not be renewed for ${LOCK_SECONDS}s (${err.message})`,
        );
    }
  }
}
