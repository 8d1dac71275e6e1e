import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { parse } from 'yaml';

import { krewManifestProblems, sha256File, type KrewManifest } from '../../scripts/package/krew.js';
import { checkPageHashes, verifyNodeSignature } from '../../scripts/package/apple-signature.js';
import { readMachO } from '../../scripts/package/macho.js';
import { nodeBinary } from '../../scripts/package/node-dist.js';
import { NODE_VERSION, platformOf, TARGETS } from '../../scripts/package/targets.js';
import { cli, helmBinDir, writeKubeconfig } from '../support/cli.js';
import {
  ARCHIVES,
  krewShell,
  packaged,
  PACKAGE_DIR,
  ROOT,
  run,
  STACK_LINE,
  TOOLS,
  type Run,
} from '../support/tools.js';

// What `npm run package` made for linux/amd64 (scripts/test.sh packages it
// before the tests), checked as a krew user receives it: the archive, its
// manifest, the real krew installing it, and the single executable running.
const { archive, darwinArchive, windowsArchive, manifest } = packaged();
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };

describe('the linux/amd64 and windows/amd64 archives and their manifest', () => {
  it('the manifest follows krew’s rules, and its sha256 is the archive’s', () => {
    const m = parse(readFileSync(manifest, 'utf8')) as KrewManifest;
    assert.deepEqual(krewManifestProblems(m, { expectedName: 'expose-pods', archivesDir: PACKAGE_DIR }), []);
    assert.equal(m.spec.version, `v${pkg.version}`);
    assert.deepEqual(
      m.spec.platforms.map((p) => [p.selector.matchLabels, p.bin, path.basename(p.uri), p.sha256]),
      Object.entries(ARCHIVES).map(([platform, file]) => {
        const [os, arch] = platform.split('/');
        const bin = os === 'windows' ? 'kubectl-expose_pods.exe' : 'kubectl-expose_pods';
        return [{ os, arch }, bin, path.basename(file), sha256File(file)];
      }),
    );
    for (const p of m.spec.platforms)
      assert.ok(p.uri.startsWith(`${m.spec.homepage}/releases/download/v${pkg.version}/`), p.uri);
  });

  it('checksums.txt has the archive’s SHA-256, in sha256sum’s format', () => {
    const r = run('sha256sum', ['--check', '--strict', 'checksums.txt'], { cwd: PACKAGE_DIR });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(
      r.stdout.trim(),
      Object.values(ARCHIVES)
        .map((f) => `${path.basename(f)}: OK`)
        .join('\n'),
    );
  });

  it('RELEASE_NOTES.md marks Windows as unsigned and names who signed the Node inside each macOS build', () => {
    const notes = readFileSync(path.join(PACKAGE_DIR, 'RELEASE_NOTES.md'), 'utf8');
    assert.match(notes, new RegExp(`^# kubectl expose-pods v${pkg.version.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(
      notes,
      new RegExp(
        `^\\| windows/amd64 \\| \`kubectl-expose_pods_windows_amd64\\.zip\` \\| ${NODE_VERSION} \\| UNSIGNED: `,
        'm',
      ),
    );
    assert.match(notes, new RegExp(`\\| linux/amd64 .*\\| \`${sha256File(archive)}\` \\|$`, 'm'));
    for (const arch of ['amd64', 'arm64'])
      assert.match(
        notes,
        new RegExp(
          `^\\| darwin/${arch} \\| .* \\| signed ad hoc \\(not notarized\\); the Node inside was verified as signed by Developer ID Application: Node\\.js Foundation \\(HX7739G8FX\\) \\|`,
          'm',
        ),
      );
    assert.doesNotMatch(notes, /Rosetta|Left out of this build/);
  });

  it('krew-index’s copy, plugins/expose-pods.yaml, is the same manifest under the plugin’s name', () => {
    assert.equal(
      readFileSync(path.join(PACKAGE_DIR, 'plugins/expose-pods.yaml'), 'utf8'),
      readFileSync(manifest, 'utf8'),
    );
  });

  it('holds exactly the binary, its completion script and LICENSE, executable, owned by 0, at the last commit’s time', () => {
    const r = run('tar', ['-tvzf', archive, '--numeric-owner']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(
      lines.map((l) => l.split(/\s+/).at(-1)),
      ['LICENSE', 'kubectl-expose_pods', 'kubectl_complete-expose_pods'],
    );
    assert.match(lines[1]!, /^-rwxr-xr-x 0\/0 /);
    const commit = run('git', ['log', '-1', '--format=%cd', '--date=format-local:%Y-%m-%d %H:%M'], {
      cwd: ROOT,
      env: { TZ: 'UTC' },
    }).stdout.trim();
    const listed = run('tar', ['-tvzf', archive, '--numeric-owner'], { env: { TZ: 'UTC' } }).stdout;
    for (const l of listed.trim().split('\n')) assert.ok(l.includes(commit), `${l} is not dated ${commit}`);
  });
});

/** The binary's format and CPU, from its header: ELF, Mach-O (thin) or PE. */
function binaryKind(bytes: Buffer): string {
  if (bytes.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) {
    const machine = bytes.readUInt16LE(18);
    return `ELF ${machine === 0x3e ? 'x86_64' : machine === 0xb7 ? 'arm64' : machine}`;
  }
  if (bytes.readUInt32LE(0) === 0xfeedfacf) return `Mach-O ${readMachO(bytes).cpu}`;
  if (bytes.subarray(0, 2).toString() === 'MZ') {
    const pe = bytes.readUInt32LE(0x3c);
    return `PE ${bytes.readUInt16LE(pe + 4) === 0x8664 ? 'x86_64' : bytes.readUInt16LE(pe + 4)}`;
  }
  return 'unknown';
}

const KIND: Record<string, string> = {
  'linux/amd64': 'ELF x86_64',
  'linux/arm64': 'ELF arm64',
  'darwin/amd64': 'Mach-O x86_64',
  'darwin/arm64': 'Mach-O arm64',
  'windows/amd64': 'PE x86_64',
};

for (const [platform, file] of Object.entries(ARCHIVES)) {
  describe(`the ${platform} archive`, () => {
    const windows = platform.startsWith('windows');
    const bin = windows ? 'kubectl-expose_pods.exe' : 'kubectl-expose_pods';
    const completion = windows ? 'kubectl_complete-expose_pods.cmd' : 'kubectl_complete-expose_pods';
    const dir = mkdtempSync(path.join(os.tmpdir(), `expose-pods-${platform.replace('/', '-')}-`));
    before(() => {
      const r = windows
        ? run('python3', ['-m', 'zipfile', '-e', file, dir])
        : run('tar', ['-xzf', file, '-C', dir]);
      assert.equal(r.status, 0, r.stderr);
    });

    it('holds exactly the binary, its completion script and LICENSE', () => {
      assert.deepEqual(readdirSync(dir).sort(), ['LICENSE', bin, completion].sort());
      if (!windows) {
        const lines = run('tar', ['-tvzf', file, '--numeric-owner']).stdout.trim().split('\n');
        for (const l of lines.slice(1)) assert.match(l, /^-rwxr-xr-x 0\/0 /, l);
      }
    });

    it(`is a ${KIND[platform] ?? '?'} executable with the chart and the SEA fuse inside`, () => {
      const bytes = readFileSync(path.join(dir, bin));
      assert.equal(binaryKind(bytes), KIND[platform]);
      const values = readFileSync(path.join(ROOT, 'charts/expose-pods/values.yaml'), 'utf8');
      // The chart asset is JSON: values.yaml's text, JSON-escaped.
      assert.ok(bytes.includes(Buffer.from(JSON.stringify(values).slice(1, 200))), 'values.yaml is inside');
      assert.ok(
        bytes.includes(Buffer.from('NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1')),
        'the SEA fuse is set',
      );
    });

    if (platform.startsWith('darwin')) {
      it('is signed again ad hoc after injection, and every page matches its signature', () => {
        const bytes = readFileSync(path.join(dir, bin));
        const sig = readMachO(bytes);
        assert.equal(sig.signed, true);
        assert.equal(sig.adhoc, true, 'ad hoc: the Node project’s signature does not survive the injection');
        assert.equal(sig.identifier, 'kubectl-expose_pods');
        assert.equal(checkPageHashes(bytes, sig.codeDirectory!), undefined);
      });
    }
  });
}

describe('the macOS Node is verified before it is embedded', () => {
  // The Node the build embedded, from the cache it was fetched into.
  const darwin = TARGETS.find((t) => platformOf(t) === 'darwin/arm64')!;
  const node = nodeBinary(darwin.node, darwin.exe);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-verify-'));
  /** A copy of the verified Node with one byte changed at `at`. */
  const tampered = (name: string, at: (bytes: Buffer) => number): string => {
    const bytes = readFileSync(node);
    const i = at(bytes);
    bytes[i] = bytes[i]! ^ 0xff;
    const file = path.join(tmp, name);
    writeFileSync(file, bytes);
    return file;
  };

  it('the Node.js project’s build passes: Apple Root CA, team HX7739G8FX', () => {
    assert.deepEqual(verifyNodeSignature(node), {
      signer: 'Developer ID Application: Node.js Foundation (HX7739G8FX)',
      teamId: 'HX7739G8FX',
      identifier: 'node',
    });
  });

  it('one changed byte of code fails: its page no longer matches', () => {
    assert.throws(
      () => verifyNodeSignature(tampered('code', () => 0x4000)),
      /not a binary signed by the Node\.js project: page \d+ does not match its hash/,
    );
  });

  it('a changed CodeDirectory fails: the CMS signature no longer verifies', () => {
    const file = tampered('directory', (bytes) => {
      const cd = readMachO(bytes).codeDirectory!;
      // The identifier string, which no page hash covers: only the signature does.
      return bytes.indexOf(cd) + cd.readUInt32BE(20);
    });
    assert.throws(
      () => verifyNodeSignature(file),
      /its signature does not verify to Apple Root CA \(openssl: /,
    );
  });

  it('an ad hoc binary (our own output) and a Linux binary fail', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-darwin-adhoc-'));
    assert.equal(run('tar', ['-xzf', darwinArchive, '-C', dir]).status, 0);
    assert.throws(
      () => verifyNodeSignature(path.join(dir, 'kubectl-expose_pods')),
      /signed ad hoc, by no certificate/,
    );
    assert.throws(() => verifyNodeSignature(process.execPath), /not a thin 64-bit Mach-O/);
  });
});

describe('the single executable', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-sea-'));
  const exe = path.join(dir, 'kubectl-expose_pods');
  const home = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-sea-home-'));
  // No Node on PATH: the binary must not need one.
  const sea = (args: string[], env: NodeJS.ProcessEnv = {}): Run =>
    run(exe, args, { env: { PATH: `${helmBinDir(TOOLS.HELM4)}:/bin`, HOME: home, ...env } });

  before(() => {
    const r = run('tar', ['-xzf', archive, '-C', dir]);
    assert.equal(r.status, 0, r.stderr);
  });

  // The npm build's help, with the VERSION line (its Node version) left out.
  const withoutVersion = (s: string) => s.replace(/\nVERSION\n {2}.*\n/, '\n');
  for (const args of [['--help'], ['endpoints', '--help'], ['help', 'scale'], ['check-certs', '-h']]) {
    it(`${args.join(' ')} prints what the npm build prints`, () => {
      const fromSea = sea(args);
      assert.equal(fromSea.status, 0, fromSea.stderr);
      assert.equal(fromSea.stderr, '');
      const fromNpm = cli(args);
      assert.equal(fromNpm.status, 0, fromNpm.stderr);
      assert.equal(withoutVersion(fromSea.stdout), withoutVersion(fromNpm.stdout));
      assert.ok(fromSea.stdout.length > 200);
    });
  }

  it(`--version names the embedded Node ${NODE_VERSION}`, () => {
    const r = sea(['--version']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`^kubectl-expose-pods/${pkg.version} linux-x64 node-v${NODE_VERSION}$`, 'm'),
    );
  });

  it('version -o json reads the embedded chart, unpacked into the user’s cache', () => {
    const r = sea(['version', '-o', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const v = JSON.parse(r.stdout) as {
      plugin: string;
      chart: { name: string; version: string; path: string };
      helm: { major: number };
    };
    assert.equal(v.plugin, pkg.version);
    assert.equal(v.chart.name, 'expose-pods');
    assert.ok(v.chart.path.startsWith(path.join(home, '.cache/kubectl-expose-pods/chart-')), v.chart.path);
    assert.equal(
      readFileSync(path.join(v.chart.path, 'values.yaml'), 'utf8'),
      readFileSync(path.join(ROOT, 'charts/expose-pods/values.yaml'), 'utf8'),
    );
    assert.equal(v.helm.major, 4);
  });

  it('an unknown flag: exit 2, the error and where to look, no stack trace', () => {
    const r = sea(['endpoints', '--bogus']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^error: Nonexistent flag: --bogus$/m);
    assert.match(r.stderr, /kubectl expose-pods endpoints --help/);
    assert.doesNotMatch(r.stderr, STACK_LINE);
  });

  it('endpoints against an unreachable cluster: exit 5, as from npm (client-node loads inside the binary)', () => {
    const r = sea(['endpoints', '--kubeconfig', writeKubeconfig(), '--request-timeout', '5s']);
    assert.equal(r.status, 5, r.stderr);
    assert.match(r.stderr, /^error: .*127\.0\.0\.1:1/m);
    assert.doesNotMatch(r.stderr, STACK_LINE);
    // Bundled dependencies count as the user's code to Node, which then warns about them.
    assert.doesNotMatch(r.stderr, /Warning/);
  });

  it('install --dry-run renders the embedded chart with the real helm, exactly as the npm build does', () => {
    const args = [
      'install',
      'rooms',
      '--dry-run',
      '-n',
      'game',
      '--replicas',
      '3',
      '--kubeconfig',
      writeKubeconfig(),
    ];
    const fromSea = sea(args);
    assert.equal(fromSea.status, 0, fromSea.stderr);
    assert.match(fromSea.stdout, /kind: StatefulSet/);
    assert.equal(
      (fromSea.stdout.match(/statefulset\.kubernetes\.io\/pod-name: rooms-expose-pods-\d/g) ?? []).length,
      3,
    );
    const fromNpm = cli(args, { PATH: `${helmBinDir(TOOLS.HELM4)}:${path.dirname(process.execPath)}:/bin` });
    assert.equal(fromNpm.status, 0, fromNpm.stderr);
    // The Redis password is random on every render.
    const password = /(redis-password: )"[^"]+"/g;
    assert.equal(
      fromSea.stdout.replace(password, '$1<random>'),
      fromNpm.stdout.replace(password, '$1<random>'),
    );
  });
});

describe('kubectl krew install, with the real krew', () => {
  const krew = krewShell({
    KUBECONFIG: '/nonexistent',
    HOME: mkdtempSync(path.join(os.tmpdir(), 'expose-pods-krew-home-')),
  });
  const krewRoot = krew.root;
  const { kubectl } = krew;

  before(() => {
    const r = krew.install(archive, manifest);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /Installed plugin: expose-pods/);
    // krew list and uninstall want the index git repo that `krew update` would
    // clone from GitHub; this local one holds what we would submit to krew-index.
    const index = path.join(krewRoot, 'index/default');
    mkdirSync(path.join(index, 'plugins'), { recursive: true });
    copyFileSync(
      path.join(PACKAGE_DIR, 'plugins/expose-pods.yaml'),
      path.join(index, 'plugins/expose-pods.yaml'),
    );
    const git = (...args: string[]) => {
      const g = run('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', ...args], {
        cwd: index,
      });
      assert.equal(g.status, 0, g.stderr);
    };
    git('init', '-q');
    git('add', '.');
    git('commit', '-qm', 'index');
  });
  after(() => spawnSync('rm', ['-rf', krewRoot]));

  it('links kubectl-expose_pods into $KREW_ROOT/bin, and krew’s receipt has the package version', () => {
    const link = path.join(krewRoot, 'bin/kubectl-expose_pods');
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.ok(existsSync(readlinkSync(link)));
    // Installed from a manifest, not from an index: krew lists it as detached.
    const list = kubectl('krew', 'list');
    assert.equal(list.status, 0, list.stderr);
    assert.equal(list.stdout.trim(), 'detached/expose-pods');
    const receipt = parse(
      readFileSync(path.join(krewRoot, 'receipts/expose-pods.yaml'), 'utf8'),
    ) as KrewManifest;
    assert.equal(receipt.spec.version, `v${pkg.version}`);
  });

  it('kubectl plugin list shows kubectl-expose_pods', () => {
    const r = kubectl('plugin', 'list');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${krewRoot}/bin/kubectl-expose_pods$`, 'm'));
  });

  it('kubectl expose-pods --help and version work through kubectl', () => {
    const help = kubectl('expose-pods', '--help');
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /\$ kubectl expose-pods \[COMMAND\]/);
    assert.match(help.stdout, /^ {2}endpoints +Which node address and port/m);
    const version = kubectl('expose-pods', 'version');
    assert.equal(version.status, 0, version.stderr);
    assert.match(
      version.stdout,
      new RegExp(`^kubectl-expose_pods ${pkg.version.replace(/\./g, '\\.')}$`, 'm'),
    );
    assert.match(version.stdout, /^chart {2}expose-pods /m);
    assert.match(version.stdout, new RegExp(`^node {3}v${NODE_VERSION}$`, 'm'));
  });

  it('shell completion after the README’s one line (krew cannot install it): kubectl completes through the binary', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const line = readme
      .split('\n')
      .find((l) => l.startsWith('printf ') && l.includes('kubectl_complete-expose_pods'));
    assert.ok(line, 'the README shows the line');
    const made = run('sh', ['-c', line], { env: { KREW_ROOT: krewRoot } });
    assert.equal(made.status, 0, made.stderr);
    const r = kubectl('__complete', 'expose-pods', 's');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => l.split('\t')[0]),
      ['scale', 'status', ':4'],
    );
    const o = kubectl('__complete', 'expose-pods', 'endpoints', '-o', 'y');
    assert.deepEqual(o.stdout.trim().split('\n'), ['yaml', ':4']);
  });

  it('the Windows zip: krew (as on windows/amd64) unpacks kubectl-expose_pods.exe, a PE executable', () => {
    const windows = krewShell({ KREW_OS: 'windows' });
    const root = windows.root;
    const r = windows.install(windowsArchive, manifest);
    assert.equal(r.status, 0, r.stderr);
    const store = path.join(root, `store/expose-pods/v${pkg.version}`);
    assert.deepEqual(readdirSync(store).sort(), [
      'LICENSE',
      'kubectl-expose_pods.exe',
      'kubectl_complete-expose_pods.cmd',
    ]);
    assert.match(
      readFileSync(path.join(store, 'kubectl_complete-expose_pods.cmd'), 'utf8'),
      /^kubectl-expose_pods\.exe __complete -- %\*\r$/m,
    );
    const exe = readFileSync(path.join(store, 'kubectl-expose_pods.exe'));
    assert.equal(exe.subarray(0, 2).toString(), 'MZ');
    assert.ok(exe.includes('NODE_SEA_BLOB'), 'the SEA blob is in the binary');
    assert.ok(exe.includes('"name":"expose-pods"'), 'the chart asset is in the binary');
    spawnSync('rm', ['-rf', root]);
  });

  it('kubectl krew uninstall removes it again', () => {
    const r = kubectl('krew', 'uninstall', 'expose-pods');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(existsSync(path.join(krewRoot, 'bin/kubectl-expose_pods')), false);
    assert.doesNotMatch(kubectl('plugin', 'list').stdout, /kubectl-expose_pods/);
  });
});
