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
