/** Exit codes are part of the CLI's contract; README.md documents every one. */
export const ExitCode = {
  /** Everything worked. */
  OK: 0,
  /** An unexpected failure: a bug, or an error nothing more specific describes. */
  ERROR: 1,
  /** A wrong flag, argument, file path, or kubeconfig context. */
  USAGE: 2,
  /** helm is missing, or is not Helm 3 or 4. */
  HELM_MISSING: 3,
  /** The chart refused the values: schema or cross-field validation, or malformed YAML. */
  INVALID_VALUES: 4,
  /** The Kubernetes API server could not be reached, refused the credentials, or sent a list too large to read (MAX_LIST_BYTES). */
  CLUSTER_UNREACHABLE: 5,
  /** RBAC forbids an action the command needs (HTTP 403). */
  FORBIDDEN: 6,
  /** The release, or an object the command needs, does not exist. */
  NOT_FOUND: 7,
  /** `status`: the release exists but is not healthy. */
  DEGRADED: 8,
  /** Another Helm operation is in progress on the release. */
  CONFLICT: 9,
  /** Waiting timed out: the message lists the pods that are not ready and why. */
  TIMEOUT: 10,
  /** `check-certs`: a certificate expires within --warn-within (none is expired or invalid). */
  CERTS_EXPIRING: 11,
  /** `check-certs`: a certificate has expired, is not yet valid, or does not parse. */
  CERTS_EXPIRED: 12,
  /** A change that disrupts running pods was not confirmed (no terminal and no --yes, or the answer was no). */
  NOT_CONFIRMED: 13,
  /** `allocate`: no room is Free (Ready, not allocated, not draining, with an endpoint); the message counts them by state. */
  NO_FREE_ROOM: 14,
  /** A scale-down (or an install that lowers the replicas) timed out waiting for the rooms it removes to be freed; nothing was scaled. */
  ROOMS_IN_USE: 15,
  /** Stopped by SIGHUP (the terminal closed); helm was stopped too. */
  HUNG_UP: 129,
  /** Stopped by Ctrl-C (SIGINT); helm was stopped too. */
  INTERRUPTED: 130,
  /** Stopped by SIGTERM; helm was stopped too. */
  TERMINATED: 143,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the user can act on: a message, an optional next step, and the exit code. */
export class ExposePodsError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue = ExitCode.ERROR,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'ExposePodsError';
  }
}

/** A usage error: wrong flag, argument or path. */
export class UsageError extends ExposePodsError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.USAGE, hint);
    this.name = 'UsageError';
  }
}
