import path from 'node:path';

import type { BuiltArchive } from './krew.js';
import { platformOf, TARGETS, type Target } from './targets.js';

/**
 * The release notes: what each archive holds, its Node, how it is signed and
 * its sha256; for macOS, who signed the Node inside (verified before it was
 * embedded).
 */
export function releaseNotes(
  version: string,
  targets: Target[],
  built: BuiltArchive[],
  signers: Record<string, string> = {},
): string {
  const rows = built.map((a) => {
    const t = targets.find((x) => x.os === a.os && x.arch === a.arch)!;
    const signer = signers[platformOf(a)];
    const signing = signer ? `${t.signing} ${signer}` : t.signing;
    return `| ${platformOf(a)} | \`${path.basename(a.file)}\` | ${t.node.version} | ${signing} | \`${a.sha256}\` |`;
  });
  const missing = TARGETS.filter((t) => !built.some((a) => a.os === t.os && a.arch === t.arch));
  return `# kubectl expose-pods v${version}

Each archive holds one single executable (Node.js inside, with the chart), its shell completion script and LICENSE. Install with
\`kubectl krew install --manifest=krew-manifest.yaml --archive=<archive>\`, or put the binary on PATH.

| platform | archive | Node.js | signing | sha256 |
| --- | --- | --- | --- | --- |
${rows.join('\n')}
${missing.length > 0 ? `\nLeft out of this build: ${missing.map(platformOf).join(', ')}.\n` : ''}`;
}
