/** A Helm version, as `helm version --short` prints it. */
export interface HelmVersion {
  major: number;
  minor: number;
  patch: number;
  raw: string;
}

/** Parses `helm version --short` output ("v3.22.0+g1a2b3c", "v4.3.1", "v3.22"); undefined when it is not a version. */
export function parseHelmVersion(output: string): HelmVersion | undefined {
  const raw = output.trim().split(/\s+/)[0] ?? '';
  const m = /^v(\d+)\.(\d+)(?:\.(\d+))?(?:[-+].*)?$/.exec(raw);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0), raw };
}

/** Helm majors whose flags this plugin knows how to build. */
export const SUPPORTED_HELM_MAJORS = [3, 4] as const;
