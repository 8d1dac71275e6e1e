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

/** Turns a failed helm run into an error with the right exit code and a clean message. */
export function helmFailure(action: string, stderr: string): ExposePodsError {
  const message = cleanHelmMessage(stderr) || `helm ${action} failed with no message`;
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
