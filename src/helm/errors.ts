import { inTheWayError } from '../core/release-change.js';
import { ExitCode, ExposePodsError } from '../errors.js';

const NOISE = [/^Use --debug flag to render out invalid YAML$/, /^\s*$/];

/** helm's stderr without its "Error: " prefix and hint lines, trimmed. */
export function cleanHelmMessage(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .filter((l) => !NOISE.some((re) => re.test(l)));
  return lines
    .join('\n')
    .replace(/^Error: /m, '')
    .replace(/^execution error at \([^)]*\):[ \t]*\n?/m, '')
    .trim();
}

const INVALID_VALUES = [
  /VALUES VALIDATION:/,
  /values don't meet the specifications of the schema/,
  /at '\/[^']*':/,
  /failed to parse .*values/i,
  /error converting YAML to JSON/,
  /failed parsing --set(-string|-file)? data/,
  /key "[^"]*" has no value/,
];

const UNREACHABLE = [
  /Kubernetes cluster unreachable/,
  /connection refused/,
  /no such host/,
  /i\/o timeout/,
  /the server has asked for the client to provide credentials/,
  /Unauthorized/,
];

/**
 * helm's refusal to take over an object that exists and is not the release's
 * ("... exists and cannot be imported into the current release: invalid
 * ownership metadata"), as exit 9 naming the object, its owner and the way
 * out. helm says it in its server dry run, before any revision is written.
 */
export function objectInTheWay(stderr: string): ExposePodsError | undefined {
  const m =
    /(\w+) "([^"]+)" in namespace "([^"]+)" exists and cannot be imported into the current release/i.exec(
      stderr,
    );
  if (!m) return undefined;
  const [, kind = '', name = '', namespace = ''] = m;
  const release =
    /"meta\.helm\.sh\/release-name": must be set to "([^"]+)"/.exec(stderr)?.[1] ??
    /key "meta\.helm\.sh\/release-name" must equal "([^"]+)"/.exec(stderr)?.[1] ??
    'this release';
  const current = /key "meta\.helm\.sh\/release-name" must equal "[^"]+": current value is "([^"]+)"/.exec(
    stderr,
  )?.[1];
  const owner = current ? `release ${current}` : 'not managed by Helm';
  return inTheWayError({ kind, name, namespace, owner }, release);
}

/** Turns a failed helm run into an error with the right exit code and a clean message. */
export function helmFailure(action: string, stderr: string): ExposePodsError {
  const message = cleanHelmMessage(stderr) || `helm ${action} failed with no message`;
  const inTheWay = objectInTheWay(stderr);
  if (inTheWay) return inTheWay;
  const ns = /namespaces "([^"]+)" not found/.exec(stderr);
  if (ns) {
    return new ExposePodsError(
      `namespace ${ns[1]} does not exist`,
      ExitCode.NOT_FOUND,
      'Create it, or add --create-namespace.',
    );
  }
  if (/another operation \(install\/upgrade\/rollback\) is in progress/.test(stderr)) {
    return new ExposePodsError(
      `helm ${action} refused: another Helm operation is in progress on this release`,
      ExitCode.CONFLICT,
      'Wait for it to finish; if it died, roll back with: helm rollback RELEASE -n NAMESPACE',
    );
  }
  // RBAC says "<resource> is forbidden: User ..."; a validation error's "Forbidden:" is not RBAC.
  if (/is forbidden: User "/.test(stderr)) {
    return new ExposePodsError(
      `forbidden: ${message}`,
      ExitCode.FORBIDDEN,
      'Ask a cluster admin for a Role granting this, or use a --context that has it.',
    );
  }
  if (/context deadline exceeded|timed out waiting for the condition|resource not ready/.test(stderr)) {
    return new ExposePodsError(`helm ${action} timed out: ${message}`, ExitCode.TIMEOUT);
  }
  if (INVALID_VALUES.some((re) => re.test(stderr))) {
    return new ExposePodsError(
      `the chart rejected the values:\n${message}`,
      ExitCode.INVALID_VALUES,
      'Fix the values named above (see charts/expose-pods/README.md for every value).',
    );
  }
  if (UNREACHABLE.some((re) => re.test(stderr))) {
    return new ExposePodsError(
      `cannot reach the Kubernetes cluster: ${message}`,
      ExitCode.CLUSTER_UNREACHABLE,
      'Check --kubeconfig and --context, and that the API server is up (kubectl cluster-info).',
    );
  }
  return new ExposePodsError(`helm ${action} failed: ${message}`, ExitCode.ERROR);
}
