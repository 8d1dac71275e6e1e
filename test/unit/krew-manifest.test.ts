import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { parse } from 'yaml';

import {
  krewManifestProblems,
  renderKrewManifest,
  type BuiltArchive,
  type KrewManifest,
} from '../../scripts/package/krew.js';
import { ROOT } from '../support/tools.js';

const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { version: string };
const template = readFileSync(path.join(ROOT, 'scripts/package/krew-manifest.template.yaml'), 'utf8');
const committedText = readFileSync(`${ROOT}/krew-manifest.yaml`, 'utf8');
const committed = parse(committedText) as KrewManifest;

describe('krew-manifest.yaml, as committed', () => {
  it('follows krew’s rules, and every sha256 matches its archive when dist/ holds one', () => {
    assert.deepEqual(
      krewManifestProblems(committed, { expectedName: 'expose-pods', archivesDir: path.join(ROOT, 'dist') }),
      [],
    );
  });

  it('is at the package version, for every platform we build', () => {
    assert.equal(committed.spec.version, `v${pkg.version}`);
    assert.deepEqual(
      committed.spec.platforms.map((p) => `${p.selector.matchLabels.os}/${p.selector.matchLabels.arch}`),
      ['linux/amd64', 'linux/arm64', 'darwin/amd64', 'darwin/arm64', 'windows/amd64'],
    );
  });

  it('is exactly what the template renders for its archives (nobody edited it by hand)', () => {
    const archives: BuiltArchive[] = committed.spec.platforms.map((p) => ({
      os: p.selector.matchLabels.os!,
      arch: p.selector.matchLabels.arch!,
      file: path.basename(p.uri),
      sha256: p.sha256,
      bin: p.bin,
    }));
    assert.equal(renderKrewManifest(template, pkg.version, archives), committedText);
  });
});

describe('krewManifestProblems', () => {
  const valid = (): KrewManifest => structuredClone(committed);
  const cases: [string, (m: KrewManifest) => void, RegExp][] = [
    ['a wrong apiVersion', (m) => (m.apiVersion = 'krew/v1'), /apiVersion is not/],
    ['a wrong kind', (m) => (m.kind = 'Thing'), /kind is not Plugin/],
    ['a name with a dot', (m) => (m.metadata.name = 'expose.pods'), /is not \^\[\\w-\]\+\$/],
    ['a name that is not the file’s', (m) => (m.metadata.name = 'expose'), /does not match the file name/],
    ['a version without v', (m) => (m.spec.version = '0.1.0'), /not v-prefixed semver/],
    ['a version that is not semver', (m) => (m.spec.version = 'v1.2'), /not v-prefixed semver/],
    ['a two-line shortDescription', (m) => (m.spec.shortDescription = 'one\ntwo'), /more than one line/],
    ['an empty shortDescription', (m) => (m.spec.shortDescription = ' '), /shortDescription is empty/],
    ['no platforms', (m) => (m.spec.platforms = []), /spec\.platforms is empty/],
    [
      'a selector label other than os/arch',
      (m) => (m.spec.platforms[0]!.selector.matchLabels.libc = 'glibc'),
      /labels other than os\/arch: libc/,
    ],
    [
      'matchExpressions',
      (m) => Object.assign(m.spec.platforms[0]!.selector, { matchExpressions: [] }),
      /must be matchLabels only/,
    ],
    ['an unknown os', (m) => (m.spec.platforms[0]!.selector.matchLabels.os = 'plan9'), /os plan9/],
    [
      'two entries for one platform',
      (m) => m.spec.platforms.push(structuredClone(m.spec.platforms[0]!)),
      /selects linux\/amd64 again/,
    ],
    ['a short sha256', (m) => (m.spec.platforms[0]!.sha256 = 'abc'), /sha256 is not 64/],
    ['an upper-case sha256', (m) => (m.spec.platforms[0]!.sha256 = 'A'.repeat(64)), /sha256 is not 64/],
    ['an http uri', (m) => (m.spec.platforms[0]!.uri = 'http://example.com/x.tar.gz'), /not an https/],
    ['an empty bin', (m) => (m.spec.platforms[0]!.bin = ''), /bin is empty/],
    [
      'a Windows bin without .exe',
      (m) =>
        (m.spec.platforms.find((p) => p.selector.matchLabels.os === 'windows')!.bin = 'kubectl-expose_pods'),
      /must end in \.exe on windows/,
    ],
    [
      'a files entry without to',
      (m) => (m.spec.platforms[0]!.files = [{ from: 'x', to: '' }]),
      /needs from and to/,
    ],
  ];
  for (const [what, breakIt, problem] of cases) {
    it(`finds ${what}`, () => {
      const m = valid();
      breakIt(m);
      const problems = krewManifestProblems(m, { expectedName: 'expose-pods' });
      assert.ok(
        problems.some((p) => problem.test(p)),
        `${problem} in ${JSON.stringify(problems)}`,
      );
    });
  }

  it('finds a sha256 that is not the archive’s', () => {
    const m = valid();
    m.spec.platforms = [
      { ...m.spec.platforms[0]!, uri: 'https://example.com/v1/LICENSE', sha256: '0'.repeat(64) },
    ];
    assert.deepEqual(krewManifestProblems(m, { expectedName: 'expose-pods', archivesDir: ROOT }), [
      `spec.platforms[0].sha256 does not match ${path.join(ROOT, 'LICENSE')}`,
    ]);
  });
});
