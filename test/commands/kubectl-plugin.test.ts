import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { helmBinDir } from '../support/cli.js';
import { ROOT, run, TOOLS } from '../support/tools.js';

// The README's install step from a checkout (`npm install -g .`), into a private prefix,
// then the real kubectl finds the plugin on PATH as kubectl-expose_pods.
describe('through the real kubectl, after the README install step', () => {
  const prefix = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-prefix-'));
  const PATH = [
    path.join(prefix, 'bin'),
    helmBinDir(TOOLS.HELM4),
    path.dirname(process.execPath),
    '/usr/bin',
    '/bin',
  ].join(path.delimiter);
  const kubectl = (...args: string[]) =>
    run(TOOLS.KUBECTL, args, { env: { PATH, KUBECONFIG: '/nonexistent' } });

  before(() => {
    const r = run('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', ROOT]);
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => rmSync(prefix, { recursive: true, force: true }));

  it('kubectl plugin list shows kubectl-expose_pods', () => {
    const r = kubectl('plugin', 'list');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\/kubectl-expose_pods$/m);
    assert.doesNotMatch(r.stderr, /warning/i);
  });

  it('kubectl expose-pods --help lists the commands with kubectl usage', () => {
    const r = kubectl('expose-pods', '--help');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\$ kubectl expose-pods \[COMMAND\]/);
    assert.match(r.stdout, /^ {2}install +Install or upgrade/m);
    assert.match(r.stdout, /^ {2}version +Print the plugin/m);
    assert.equal(kubectl('expose-pods', '-h').stdout, r.stdout, '-h is --help');
  });

  it('every flag group of every --help lines its flags up: long names in one column', () => {
    for (const cmd of [
      'install',
      'endpoints',
      'list',
      'scale',
      'status',
      'check-certs',
      'tolerations',
      'rollout',
      'uninstall',
      'cordon',
      'uncordon',
    ]) {
      const help = kubectl('expose-pods', cmd, '--help').stdout;
      for (const group of help.split(/\n(?=[A-Z][A-Z ]+FLAGS\n)/).slice(1)) {
        // A group ends at its first blank line (DESCRIPTION and EXAMPLES follow the last one).
        const columns = new Set(
          group
            .split('\n\n')[0]!
            .split('\n')
            .filter((l) => /^ +(-[a-zA-Z], )?--[a-z]/.test(l))
            .map((l) => l.indexOf('--')),
        );
        assert.equal(
          columns.size,
          1,
          `${cmd} --help, ${group.split('\n')[0] ?? ''}: --names start at columns ${[...columns].join(', ')}`,
        );
      }
    }
  });

  it("the README's command table lists exactly the commands --help lists", () => {
    const help = kubectl('expose-pods', '--help').stdout.split('\nCOMMANDS\n')[1] ?? '';
    const fromHelp = [...help.matchAll(/^ {2}([a-z-]+) {2}/gm)]
      .map((m) => m[1])
      .filter((c) => c !== 'help')
      .sort();
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const fromReadme = [...readme.matchAll(/^\| `kubectl expose-pods ([a-z-]+)/gm)].map((m) => m[1]).sort();
    assert.ok(fromHelp.includes('check-certs'), fromHelp.join(' '));
    assert.deepEqual(fromReadme, fromHelp);
  });

  it('kubectl expose-pods install --dry-run renders the bundled chart from the installed package', () => {
    const r = kubectl('expose-pods', 'install', 'demo', '--dry-run', '-n', 'default');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^kind: StatefulSet$/m);
    assert.match(r.stdout, /statefulset\.kubernetes\.io\/pod-name: demo-expose-pods-1/);
  });

  describe('shell completion: kubectl __complete runs kubectl_complete-expose_pods from PATH', () => {
    /** What kubectl's completion offers for these words: candidates (values only) and the directive. */
    const complete = (env: NodeJS.ProcessEnv, ...words: string[]) => {
      const r = run(TOOLS.KUBECTL, ['__complete', 'expose-pods', ...words], {
        env: { PATH, KUBECONFIG: '/nonexistent', ...env },
      });
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      const directive = lines.pop() ?? '';
      return { values: lines.map((l) => l.split('\t')[0]), lines, directive };
    };

    it('the npm install puts kubectl_complete-expose_pods on PATH', () => {
      const r = run('sh', ['-c', 'command -v kubectl_complete-expose_pods'], { env: { PATH } });
      assert.equal(r.stdout.trim(), path.join(prefix, 'bin/kubectl_complete-expose_pods'));
    });

    it('subcommands, with their summaries, filtered by what is typed', () => {
      const all = complete({}, '');
      assert.deepEqual(all.values, [
        'allocate',
        'autoscale',
        'check-certs',
        'cordon',
        'deallocate',
        'endpoints',
        'install',
        'list',
        'rbac',
        'recover',
        'rollout',
        'scale',
        'status',
        'tolerations',
        'uncordon',
        'uninstall',
        'version',
      ]);
      assert.ok(
        all.lines.includes('scale\tChange the number of rooms and keep the per-pod Services in step'),
      );
      assert.equal(all.directive, ':4', 'no file names');
      assert.deepEqual(complete({}, 's').values, ['scale', 'status']);
    });

    it('flags of the command, not those already given', () => {
      const r = complete({}, 'endpoints', '--w');
      assert.deepEqual(r.values, ['--watch']);
      assert.ok(!complete({}, 'endpoints', '--watch', '--').values.includes('--watch'));
      assert.ok(complete({}, 'endpoints', '--').values.includes('--probe-timeout'));
    });

    it('flag values: -o formats, --address-type types (a comma list), --expose-type', () => {
      assert.deepEqual(complete({}, 'endpoints', '-o', '').values, [
        'table',
        'wide',
        'json',
        'yaml',
        'addresses',
        'name',
      ]);
      assert.deepEqual(complete({}, 'endpoints', '--output=j').values, ['--output=json']);
      const types = complete({}, 'endpoints', '--address-type', 'ExternalIP,Int');
      assert.deepEqual(types.values, ['ExternalIP,InternalDNS', 'ExternalIP,InternalIP']);
      assert.equal(types.directive, ':6', 'no space after an item of the list, no file names');
      assert.deepEqual(complete({}, 'install', '--expose-type', '').values, ['NodePort', 'LoadBalancer']);
    });

    it('--context names from the kubeconfig; files for --kubeconfig, directories for --pki-dir', () => {
      const kubeconfig = path.join(prefix, 'kubeconfig');
      writeFileSync(
        kubeconfig,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]',
          'users: [{name: u, user: {token: t}}]',
          'contexts: [{name: prod, context: {cluster: c, user: u}}, {name: staging, context: {cluster: c, user: u}}]',
          'current-context: prod',
        ].join('\n'),
      );
      assert.deepEqual(complete({ KUBECONFIG: kubeconfig }, 'status', '--context', '').values, [
        'prod',
        'staging',
      ]);
      assert.deepEqual(complete({}, 'status', '--kubeconfig', kubeconfig, '--context', 's').values, [
        'staging',
      ]);
      assert.equal(
        complete({}, 'status', '--kubeconfig', '').directive,
        ':0',
        'the shell completes file names',
      );
      assert.equal(complete({}, 'check-certs', '--pki-dir', '').directive, ':16', 'directories only');
    });

    it('a release or namespace with no cluster to ask: nothing offered, no error at the prompt', () => {
      const r = complete({}, 'status', '');
      assert.deepEqual(r.values, []);
      assert.equal(r.directive, ':4');
      assert.deepEqual(complete({}, 'status', '-n', '').values, []);
    });
  });

  it('every example in the help parses (pasted with --dry-run where it would install)', () => {
    for (const cmd of ['install']) {
      const help = kubectl('expose-pods', cmd, '--help').stdout.split('\nEXAMPLES\n')[1] ?? '';
      // oclif wraps long examples with a trailing backslash, as a shell would continue them.
      const joined = help.replace(/ \\\n\s*/g, ' ');
      const examples = [...joined.matchAll(/^\s+\$ (kubectl expose-pods .+)$/gm)].map((m) => m[1]!);
      assert.ok(examples.length >= 3, `${cmd} has too few examples`);
      for (const ex of examples) {
        const argv = ex.split(/\s+/).slice(2);
        if (!argv.includes('--dry-run')) argv.push('--dry-run');
        const r = kubectl('expose-pods', ...argv);
        assert.equal(r.status, 0, `${ex}\n${r.stderr}`);
      }
    }
  });
});
