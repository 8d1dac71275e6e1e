import { ExitCode, ExposePodsError } from '../errors.js';
import { rollbackArgs, type KubeTarget } from '../helm/args.js';
import { helmOrThrow, type Helm } from '../helm/helm.js';
import { findRelease, releaseHistory } from '../helm/release.js';
import { LOCK_SECONDS, type ReleaseLock } from '../kube/lock.js';

/** Every Helm revision this plugin writes has a description starting so. */
export const OPERATION_PREFIX = 'kubectl-expose-pods';

/**
 * The release must exist, be ours, and not be mid-operation. A revision left
 * pending by an operation of ours that died is rolled back: it is one written while the
 * dead holder of our lock held it (or one our description names).
 */
export async function settleRelease(
  helm: Helm,
  release: string,
  target: KubeTarget,
  previous: ReleaseLock['previous'],
  warn: (message: string) => void,
): Promise<string> {
  const found = await findRelease(helm, release, target);
  if (!found.status.startsWith('pending')) return found.status;
  const history = await releaseHistory(helm, release, target);
  const last = history[history.length - 1];
  const deployed = [...history].reverse().find((r) => r.status === 'deployed' || r.status === 'superseded');
  const grace = LOCK_SECONDS * 1000;
  const duringDeadHolder =
    previous !== undefined &&
    last !== undefined &&
    last.updated >= previous.acquired - grace &&
    last.updated <= previous.renewed + grace;
  if (last && deployed && (duringDeadHolder || last.description.startsWith(OPERATION_PREFIX))) {
    warn(
      `release ${release} was left ${found.status} by an interrupted operation (revision ${last.revision}); rolling back to revision ${deployed.revision} first`,
    );
    await helmOrThrow(helm, 'rollback', rollbackArgs(release, deployed.revision, target));
    return 'rolled back';
  }
  throw new ExposePodsError(
    `another operation is in progress on release ${release}: it is ${found.status}${last ? ` (revision ${last.revision}: ${last.description})` : ''}`,
    ExitCode.CONFLICT,
    `Wait for it to finish; if it died, roll back with: helm rollback ${release} -n ${target.namespace}`,
  );
}
