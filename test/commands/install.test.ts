import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';

import { parseAllDocuments } from 'yaml';

import { cli, helmBinDir, writeKubeconfig } from '../support/cli.js';
import { HELMS, STACK_LINE } from '../support/tools.js';

type Obj = { kind: string; metadata: { name: string; namespace: string }; spec?: any };
const objects = (yamlText: string): Obj[] =>
  parseAllDocuments(yamlText)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
const stsOf = (objs: Obj[]) => objs.find((o) => o.kind === 'StatefulSet')!;

const tmp = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-cmd-'));
const kubeconfig = writeKubeconfig();
const emptyPath = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-nopath-'));

for (const helm of HELMS) {
  const env = {
    PATH: `${helmBinDir(helm.path)}${path.delimiter}${process.env.PATH}`,
    KUBECONFIG: kubeconfig,
  };

  describe(`${helm.name}: install --dry-run renders the bundled chart`, () => {
    it('prints the manifests on stdout and a status line on stderr', () => {
      const r = cli(['install', 'rooms', '--dry-run', '-n', 'game', '--replicas', '3'], env);
      assert.equal(r.status, 0, r.stderr);
      const objs = objects(r.stdout);
      assert.equal(stsOf(objs).spec.replicas, 3);
      assert.ok(objs.every((o) => o.metadata.namespace === 'game'));
      assert.deepEqual(
        objs
          .filter((o) => o.kind === 'Service')
          .map((o) => o.metadata.name)
          .sort(),
        [
          'rooms-expose-pods',
          'rooms-expose-pods-0',
          'rooms-expose-pods-1',
          'rooms-expose-pods-2',
          'rooms-expose-pods-redis',
        ],
      );
      assert.match(
        r.stderr,
        new RegExp(`✔ rendered release rooms for namespace game with helm v${helm.major}\\.`),
      );
      assert.match(r.stderr, /nothing was changed/);
    });

    it('release defaults to expose-pods; namespace comes from the kubeconfig context', () => {
      const r = cli(['install', '--dry-run'], env);
      assert.equal(r.status, 0, r.stderr);
      const objs = objects(r.stdout);
      assert.ok(stsOf(objs).metadata.name === 'expose-pods');
      assert.ok(objs.every((o) => o.metadata.namespace === 'from-context'));
    });

    it('--context picks another context, whose namespace falls back to default', () => {
      const r = cli(['install', '--dry-run', '--context', 'beta'], env);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(objects(r.stdout).every((o) => o.metadata.namespace === 'default'));
    });

    it('precedence: -f < shortcut flags < --set', () => {
      const values = path.join(tmp, 'values.yaml');
      writeFileSync(values, 'room:\n  replicas: 7\n  containerPort: 9000\nexpose:\n  port: 9000\n');
      const fileOnly = objects(cli(['install', '--dry-run', '-n', 'x', '-f', values], env).stdout);
      assert.equal(stsOf(fileOnly).spec.replicas, 7);
      const shortcut = objects(
        cli(['install', '--dry-run', '-n', 'x', '-f', values, '--replicas', '4'], env).stdout,
      );
      assert.equal(stsOf(shortcut).spec.replicas, 4);
      const explicit = objects(
        cli(
          ['install', '--dry-run', '-n', 'x', '-f', values, '--replicas', '4', '--set', 'room.replicas=5'],
          env,
        ).stdout,
      );
      assert.equal(stsOf(explicit).spec.replicas, 5);
      assert.equal(stsOf(explicit).spec.template.spec.containers[0].ports[0].containerPort, 9000);
    });

    it('shortcuts: --image, --port, --node-port-base, --expose-type, --no-redis', () => {
      const r = cli(
        [
          'install',
          '--dry-run',
          '-n',
          'x',
          '--image',
          'ghcr.io/me/room:v9',
          '--port',
          '7777',
          '--node-port-base',
          '31500',
          '--expose-type',
          'LoadBalancer',
          '--no-redis',
        ],
        env,
      );
      assert.equal(r.status, 0, r.stderr);
      const objs = objects(r.stdout);
      const c = stsOf(objs).spec.template.spec.containers[0];
      assert.equal(c.image, 'ghcr.io/me/room:v9');
      assert.equal(c.ports[0].containerPort, 7777);
      const svc = objs.find((o) => o.metadata.name === 'expose-pods-1')!;
      assert.equal(svc.spec.type, 'LoadBalancer');
      assert.deepEqual(svc.spec.ports[0], {
        name: 'room',
        port: 7777,
        targetPort: 'room',
        protocol: 'TCP',
        nodePort: 31501,
      });
      assert.ok(!objs.some((o) => o.metadata.name.endsWith('-redis')));
    });

    it('-o json prints one v1 List', () => {
      const r = cli(['install', '--dry-run', '-n', 'x', '-o', 'json'], env);
      assert.equal(r.status, 0, r.stderr);
      const list = JSON.parse(r.stdout) as { kind: string; items: Obj[] };
      assert.equal(list.kind, 'List');
      assert.ok(list.items.some((o) => o.kind === 'StatefulSet'));
    });
    it('-o name prints kind/name of each object, as kubectl does (the API group after the kind)', () => {
      const r = cli(['install', 'rooms', '--dry-run', '-n', 'game', '--replicas', '2', '-o', 'name'], env);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n').sort(), [
        'configmap/rooms-expose-pods-redis',
        'deployment.apps/rooms-expose-pods-redis',
        'networkpolicy.networking.k8s.io/rooms-expose-pods-redis',
        'persistentvolumeclaim/rooms-expose-pods-redis-data',
        'pod/rooms-expose-pods-test',
        'poddisruptionbudget.policy/rooms-expose-pods-allocated',
        'secret/rooms-expose-pods-redis',
        'service/rooms-expose-pods',
        'service/rooms-expose-pods-0',
        'service/rooms-expose-pods-1',
        'service/rooms-expose-pods-redis',
        'statefulset.apps/rooms-expose-pods',
      ]);
    });
  });

  describe(`${helm.name}: install fails clearly, with a documented exit code and no stack trace`, () => {
    const cases: { name: string; args: string[]; env?: NodeJS.ProcessEnv; code: number; stderr: RegExp[] }[] =
      [
        {
          name: 'values the chart rejects (exit 4)',
          args: ['install', '--dry-run', '-n', 'x', '--set', 'expose.nodePortBase=100'],
          code: 4,
          stderr: [/^error: the chart rejected the values:/m, /expose\.nodePortBase=100 is below/],
        },
        {
          name: 'schema violation (exit 4)',
          args: ['install', '--dry-run', '-n', 'x', '--set', 'room.protocol=SCTP'],
          code: 4,
          stderr: [/room\/protocol/],
        },
        {
          name: 'malformed values file (exit 4)',
          args: ['install', '--dry-run', '-n', 'x', '-f', path.join(tmp, 'bad.yaml')],
          code: 4,
          stderr: [/bad\.yaml/],
        },
        {
          name: 'missing values file (exit 2)',
          args: ['install', '--dry-run', '-n', 'x', '-f', '/no/such/values.yaml'],
          code: 2,
          stderr: [/^error: values file \/no\/such\/values\.yaml: no such file$/m],
        },
        {
          name: 'unknown flag (exit 2)',
          args: ['install', '--replica', '3'],
          code: 2,
          stderr: [/^error: .*--replica/m, /kubectl expose-pods install --help/],
        },
        {
          name: 'bad option value (exit 2)',
          args: ['install', '--expose-type', 'ClusterIP'],
          code: 2,
          stderr: [/ClusterIP/, /NodePort, LoadBalancer|NodePort\|LoadBalancer|NodePort,LoadBalancer/],
        },
        {
          name: 'invalid release name (exit 2)',
          args: ['install', 'Rooms', '--dry-run', '-n', 'x'],
          code: 2,
          stderr: [/release name "Rooms" is invalid/],
        },
        {
          name: 'bad --timeout (exit 2)',
          args: ['install', '--timeout', 'soon', '-n', 'x'],
          code: 2,
          stderr: [/--timeout soon is not a duration/],
        },
        {
          // Durations are parsed with the flags: a wrong one fails before the unreachable cluster is tried (5).
          name: 'a bad --timeout on scale (exit 2, before the cluster)',
          args: ['scale', 'rooms', '-n', 'x', '--replicas', '2', '--timeout', '5x'],
          code: 2,
          stderr: [/^error: --timeout 5x is not a duration; use a value such as 90s, 5m or 1h30m$/m],
        },
        {
          name: 'a zero --probe-timeout (exit 2, before the cluster)',
          args: ['endpoints', 'rooms', '-n', 'x', '--probe', '--probe-timeout', '0s'],
          code: 2,
          stderr: [
            /^error: --probe-timeout 0s is not a positive duration; use a value such as 2s or 500ms$/m,
          ],
        },
        {
          name: 'a --warn-within without a unit (exit 2, before the cluster)',
          args: ['check-certs', '--warn-within', '30'],
          code: 2,
          stderr: [/^error: --warn-within 30 is not a duration; use a value such as 30d, 2w or 720h$/m],
        },
        {
          name: 'unknown context (exit 2)',
          args: ['install', '--dry-run', '--context', 'gamma'],
          code: 2,
          stderr: [/^error: context gamma not found in kubeconfig \(available: alpha, beta\)$/m],
        },
        {
          name: 'bad --request-timeout (exit 2)',
          args: ['install', '--dry-run', '-n', 'x', '--request-timeout', 'soon'],
          code: 2,
          stderr: [/--request-timeout soon is not a duration/],
        },
        {
          name: 'helm not on PATH (exit 3)',
          args: ['install', '--dry-run', '-n', 'x'],
          env: { PATH: emptyPath },
          code: 3,
          stderr: [/^error: helm was not found on PATH$/m, /https:\/\/helm\.sh\/docs\/intro\/install/],
        },
        {
          name: '--helm-binary that does not exist (exit 3)',
          args: ['install', '--dry-run', '-n', 'x', '--helm-binary', '/no/helm'],
          code: 3,
          stderr: [/--helm-binary \/no\/helm is not an executable file/],
        },
        {
          name: 'cluster unreachable on a real install (exit 5)',
          args: ['install', 'rooms', '-n', 'x', '--timeout', '20s'],
          code: 5,
          // The permission review before any write is the first request to meet it.
          stderr: [
            /^error: cannot reach the Kubernetes API server at https:\/\/127\.0\.0\.1:1: /m,
            /kubectl cluster-info/,
          ],
        },
      ];
    writeFileSync(path.join(tmp, 'bad.yaml'), 'room:\n  replicas: [\n');
    for (const c of cases) {
      it(c.name, () => {
        const r = cli(c.args, { ...env, ...c.env });
        assert.equal(r.status, c.code, `exit ${r.status}\n${r.stderr}`);
        for (const re of c.stderr) assert.match(r.stderr, re);
        assert.doesNotMatch(r.stderr, STACK_LINE);
        assert.doesNotMatch(
          r.stderr,
          /Parsing --|See more help with --help/,
          "oclif's own framing of a flag error",
        );
        assert.equal(r.stdout, '', 'nothing on stdout when failing');
      });
    }
  });
}

describe('version', () => {
  const env = { PATH: `${helmBinDir(HELMS[1].path)}${path.delimiter}${process.env.PATH}` };
  it('-o json reports plugin, chart and helm', () => {
    const r = cli(['version', '-o', 'json'], env);
    assert.equal(r.status, 0, r.stderr);
    const v = JSON.parse(r.stdout) as {
      plugin: string;
      chart: { name: string; version: string };
      helm: { major: number };
    };
    assert.match(v.plugin, /^\d+\.\d+\.\d+/);
    assert.equal(v.chart.name, 'expose-pods');
    assert.equal(v.helm.major, 4);
  });
  it('reports a missing helm without failing', () => {
    const r = cli(['version'], { PATH: emptyPath });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^helm {3}not usable: helm was not found on PATH$/m);
  });
});

describe('HELM_DRIVER other than secret is refused before anything runs (exit 2)', () => {
  const env = {
    PATH: `${helmBinDir(HELMS[1].path)}${path.delimiter}${process.env.PATH}`,
    KUBECONFIG: kubeconfig,
  };
  for (const args of [
    ['install', 'rooms', '-n', 'game'],
    ['status', 'rooms', '-n', 'game'],
    ['list', '-A'],
  ]) {
    it(`${args[0]} with HELM_DRIVER=configmap`, () => {
      const r = cli(args, { ...env, HELM_DRIVER: 'configmap' });
      assert.equal(r.status, 2, r.stderr);
      assert.match(
        r.stderr,
        /^error: HELM_DRIVER=configmap is not supported: .* in Secrets \(HELM_DRIVER=secret\)$/m,
      );
      assert.match(r.stderr, /^Unset HELM_DRIVER/m);
      assert.doesNotMatch(r.stderr, STACK_LINE);
    });
  }
  it("HELM_DRIVER=secret (and secrets) are Helm's default, and fine", () => {
    for (const driver of ['secret', 'secrets', '']) {
      const r = cli(['install', 'rooms', '--dry-run', '-n', 'game'], { ...env, HELM_DRIVER: driver });
      assert.equal(r.status, 0, `${driver}: ${r.stderr}`);
    }
  });
});
