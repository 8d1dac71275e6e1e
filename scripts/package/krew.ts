import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { parse, stringify } from 'yaml';

/** One archive the build made, as a krew platform entry needs it. */
export interface BuiltArchive {
  os: string;
  arch: string;
  file: string;
  sha256: string;
  bin: string;
}

/** What krew's plugin manifest holds (the fields we write and check). */
export interface KrewManifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    version: string;
    homepage?: string;
    shortDescription: string;
    description?: string;
    caveats?: string;
    platforms: {
      selector: { matchLabels: Record<string, string> };
      uri: string;
      sha256: string;
      bin: string;
      files?: { from: string; to: string }[];
    }[];
  };
}

/** A manifest as read from a file: any field may be missing. */
export type LooseManifest = Loose<KrewManifest>;
type Loose<T> = T extends (infer U)[]
  ? Loose<U>[] | undefined
  : T extends object
    ? { [K in keyof T]?: Loose<T[K]> }
    : T | undefined;

export const KREW_API_VERSION = 'krew.googlecontainertools.github.com/v1alpha2';

/** The release download address of an archive, under the manifest's homepage. */
export function releaseUri(homepage: string, version: string, file: string): string {
  return `${homepage.replace(/\/$/, '')}/releases/download/v${version}/${file}`;
}

/** The manifest for these archives, from the template: the header comment kept, version and platforms filled in. */
export function renderKrewManifest(template: string, version: string, archives: BuiltArchive[]): string {
  const header = template.slice(0, template.indexOf('apiVersion:'));
  const m = parse(template) as KrewManifest;
  m.spec.version = `v${version}`;
  m.spec.platforms = archives.map((a) => ({
    selector: { matchLabels: { os: a.os, arch: a.arch } },
    uri: releaseUri(m.spec.homepage ?? '', version, path.basename(a.file)),
    sha256: a.sha256,
    bin: a.bin,
    files: [
      { from: a.bin, to: '.' },
      // kubectl's plugin completion; krew does not link it into its bin (kubernetes-sigs/krew#812).
      {
        from: a.os === 'windows' ? 'kubectl_complete-expose_pods.cmd' : 'kubectl_complete-expose_pods',
        to: '.',
      },
      { from: 'LICENSE', to: '.' },
    ],
  }));
  return header + stringify(m, { lineWidth: 0 });
}

/** SHA-256 of a file, hex. */
export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

const SEMVER =
  /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;
const KREW_OS = new Set(['linux', 'darwin', 'windows']);
const KREW_ARCH = new Set(['amd64', 'arm64', '386', 'arm', 'ppc64le', 's390x']);

/**
 * Every way the manifest breaks krew's rules (pkg/index/validation, plus
 * krew-index's conventions); empty when valid. With archivesDir, every
 * platform's archive found there must have the manifest's sha256.
 */
export function krewManifestProblems(
  m: LooseManifest,
  opts: { expectedName: string; archivesDir?: string },
): string[] {
  const problems: string[] = [];
  const name = m.metadata?.name ?? '';
  if (m.apiVersion !== KREW_API_VERSION) problems.push(`apiVersion is not ${KREW_API_VERSION}`);
  if (m.kind !== 'Plugin') problems.push('kind is not Plugin');
  if (!/^[\w-]+$/.test(name)) problems.push(`metadata.name ${JSON.stringify(name)} is not ^[\\w-]+$`);
  if (name !== opts.expectedName)
    problems.push(`metadata.name ${name} does not match the file name ${opts.expectedName}`);
  if (!SEMVER.test(m.spec?.version ?? ''))
    problems.push(`spec.version ${m.spec?.version} is not v-prefixed semver`);
  const short = m.spec?.shortDescription ?? '';
  if (!short.trim()) problems.push('spec.shortDescription is empty');
  if (short.trim().includes('\n')) problems.push('spec.shortDescription is more than one line');
  const platforms = m.spec?.platforms ?? [];
  if (platforms.length === 0) problems.push('spec.platforms is empty');
  const seen = new Set<string>();
  platforms.forEach((p, i) => {
    const at = `spec.platforms[${i}]`;
    const labels = p.selector?.matchLabels ?? {};
    const keys = Object.keys(p.selector ?? {});
    if (keys.length !== 1 || keys[0] !== 'matchLabels')
      problems.push(`${at}.selector must be matchLabels only`);
    const extra = Object.keys(labels).filter((k) => k !== 'os' && k !== 'arch');
    if (extra.length > 0) problems.push(`${at}.selector uses labels other than os/arch: ${extra.join(', ')}`);
    if (!KREW_OS.has(labels.os ?? '')) problems.push(`${at}.selector os ${labels.os} is not one krew knows`);
    if (!KREW_ARCH.has(labels.arch ?? ''))
      problems.push(`${at}.selector arch ${labels.arch} is not one krew knows`);
    const key = `${labels.os}/${labels.arch}`;
    if (seen.has(key)) problems.push(`${at} selects ${key} again`);
    seen.add(key);
    if (!/^https:\/\/\S+$/.test(p.uri ?? '')) problems.push(`${at}.uri is not an https address`);
    if (!/^[0-9a-f]{64}$/.test(p.sha256 ?? '')) problems.push(`${at}.sha256 is not 64 lowercase hex digits`);
    if (!p.bin) problems.push(`${at}.bin is empty`);
    if (labels.os === 'windows' && !p.bin?.endsWith('.exe'))
      problems.push(`${at}.bin must end in .exe on windows`);
    for (const f of p.files ?? []) if (!f.from || !f.to) problems.push(`${at}.files needs from and to`);
    if (opts.archivesDir && p.uri) {
      const archive = path.join(opts.archivesDir, path.basename(p.uri));
      if (existsSync(archive) && sha256File(archive) !== p.sha256)
        problems.push(`${at}.sha256 does not match ${archive}`);
    }
  });
  return problems;
}
