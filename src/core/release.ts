import { UsageError } from '../errors.js';

/** The release a command works on when none is named. */
export const DEFAULT_RELEASE = 'expose-pods';

/** The bundled chart's name: its Chart.yaml, and app.kubernetes.io/name on what it renders. */
export const CHART_NAME = 'expose-pods';

// Helm's own rule for release names (a DNS-1123 subdomain of at most 53 characters).
const RELEASE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MAX_RELEASE_LENGTH = 53;

/** Why a release name is invalid, or undefined when it is fine. */
export function releaseNameProblem(name: string): string | undefined {
  if (name.length > MAX_RELEASE_LENGTH) {
    return `release name "${name}" is ${name.length} characters; Helm allows at most ${MAX_RELEASE_LENGTH}`;
  }
  if (!RELEASE_NAME.test(name)) {
    return `release name "${name}" is invalid: use lower-case letters, digits, "-" and ".", starting and ending with a letter or digit`;
  }
  return undefined;
}

/**
 * Refuses a HELM_DRIVER other than Helm's default (Secrets): the plugin reads
 * releases from Helm's release Secrets, and with another driver helm would
 * see no release where one exists (an install would take the first-install
 * path: no lock, no merge, no confirmation). The message, or undefined.
 */
export function helmDriverProblem(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const driver = env.HELM_DRIVER;
  if (!driver || driver === 'secret' || driver === 'secrets') return undefined;
  return `HELM_DRIVER=${driver} is not supported: kubectl expose-pods keeps Helm's releases where Helm does by default, in Secrets (HELM_DRIVER=secret)`;
}

/** Exit 2 when HELM_DRIVER is set to other than Secrets (helmDriverProblem). */
export function requireSecretDriver(env: NodeJS.ProcessEnv = process.env): void {
  const problem = helmDriverProblem(env);
  if (problem)
    throw new UsageError(
      problem,
      'Unset HELM_DRIVER for this command. Releases that helm keeps elsewhere are not managed by this plugin.',
    );
}
