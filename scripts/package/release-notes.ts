import path from 'node:path';

import type { BuiltArchive } from './krew.js';
import { platformOf, TARGETS, type Target } from './targets.js';

/** The release notes' platform table: what each archive holds and how it is signed. */
export function releaseNotes(version: string, targets: Target[], built: BuiltArchive[]): string {
  const rows = built.map((a) => {
    const t = targets.find((x) => x.os === a.os && x.arch === a.arch)!;
    return `| ${platformOf(a)} | \`${path.basename(a.file)}\` | ${t.node.version} | ${t.signing} | \`${a.sha256}\` |`;
  });
  const missing = TARGETS.filter((t) => !built.some((a) => a.os === t.os && a.arch === t.arch));
  return `# kubectl expose-pods v${version}

Each archive holds one single executable (Node.js inside, with the chart) and LICENSE. Install with
\`kubectl krew install --manifest=krew-manifest.yaml --archive=<archive>\`, or put the binary on PATH.

| platform | archive | Node.js | signing | sha256 |
| --- | --- | --- | --- | --- |
${rows.join('\n')}

Not built: darwin/arm64 (the npm registry has no Node.js 22 or 24 for it). On Apple silicon install the darwin/amd64
build, which runs under Rosetta 2: \`KREW_ARCH=amd64 kubectl krew install expose-pods\`.
${missing.length > 0 ? `Left out of this build: ${missing.map(platformOf).join(', ')}.\n` : ''}`;
}
