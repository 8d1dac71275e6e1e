import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, PersistentVolumeClaim, Pod, Secret, Service } from 'kubernetes-models/v1';

import { find, ofKind, podServices, podSpecs, render, type K8sObject } from '../support/chart.js';
import { CHART, HELMS } from '../support/tools.js';

const SCENARIOS = readdirSync(path.join(CHART, 'ci')).filter((f) => f.endsWith('.yaml'));
const MODELS: Record<string, new (o: any) => { validate(): void }> = {
  Service,
  ConfigMap,
  Secret,
  PersistentVolumeClaim,
  Pod,
  StatefulSet,
  Deployment,
  NetworkPolicy,
  PodDisruptionBudget,
};
const LABELS = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/version',
  'app.kubernetes.io/managed-by',
  'app.kubernetes.io/component',
  'helm.sh/chart',
];
// The one container allowed to break the hardening rules, and only when opted in.
const PRIVILEGED_OPT_IN = 'sysctl-init';

const scenario = (file: string) => ['-f', path.join(CHART, 'ci', file)];

for (const helm of HELMS) {
  describe(`${helm.name}: every ci scenario renders valid, hardened, labelled objects`, () => {
    for (const file of SCENARIOS) {
      it(file, () => {
        const objs = render(helm.path, scenario(file));
        assert.ok(objs.length >= 4, `only ${objs.length} objects rendered`);
        for (const o of objs) {
          const Model = MODELS[o.kind];
          assert.ok(Model, `unexpected kind ${o.kind}: add it to MODELS`);
          assert.doesNotThrow(
            () => new Model(o).validate(),
            `${o.kind}/${o.metadata.name} fails the Kubernetes schema`,
          );
          assert.equal(o.metadata.namespace, 'game', `${o.kind}/${o.metadata.name} namespace`);
          for (const l of LABELS)
            assert.ok(o.metadata.labels?.[l], `${o.kind}/${o.metadata.name} lacks label ${l}`);
          assert.equal(o.metadata.labels!['app.kubernetes.io/instance'], 'r');
          assert.equal(o.metadata.labels!['app.kubernetes.io/managed-by'], 'Helm');
          assert.ok(o.metadata.name.length <= 63, `${o.metadata.name} is longer than 63`);
        }

        for (const { owner, spec } of podSpecs(objs)) {
          const sc = spec.securityContext;
          assert.equal(sc.runAsNonRoot, true, `${owner} runAsNonRoot`);
          assert.ok(
            sc.runAsUser > 1000 && sc.runAsGroup > 1000 && sc.fsGroup > 1000,
            `${owner} ids above 1000`,
          );
          assert.equal(sc.seccompProfile.type, 'RuntimeDefault', `${owner} seccomp`);
          assert.equal(spec.automountServiceAccountToken, false, `${owner} mounts a token`);
          for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
            for (const r of ['cpu', 'memory']) {
              assert.ok(
                c.resources?.requests?.[r] && c.resources?.limits?.[r],
                `${owner}/${c.name} lacks ${r} request or limit`,
              );
            }
            if (c.name === PRIVILEGED_OPT_IN) continue;
            const csc = c.securityContext;
            assert.equal(csc.allowPrivilegeEscalation, false, `${owner}/${c.name} allowPrivilegeEscalation`);
            assert.equal(csc.readOnlyRootFilesystem, true, `${owner}/${c.name} readOnlyRootFilesystem`);
            assert.deepEqual(csc.capabilities.drop, ['ALL'], `${owner}/${c.name} capabilities`);
            assert.notEqual(csc.privileged, true, `${owner}/${c.name} privileged`);
          }
        }

        // No password in any ConfigMap: neither the key word nor the Secret's value.
        const passwords = ofKind(objs, 'Secret').flatMap((s) =>
          Object.values(s.data ?? {}).map((v) => Buffer.from(v, 'base64').toString('utf8')),
        );
        for (const cm of ofKind(objs, 'ConfigMap')) {
          const text = Object.values(cm.data ?? {}).join('\n');
          assert.doesNotMatch(
            text,
            /^\s*requirepass\s+(?!")/m,
            `ConfigMap ${cm.metadata.name} sets requirepass`,
          );
          for (const p of passwords)
            assert.ok(!text.includes(p), `ConfigMap ${cm.metadata.name} contains the password`);
        }

        // The StatefulSet, its headless Service, and one per-pod Service per ordinal.
        const sts = find(objs, 'StatefulSet', 'r-expose-pods');
        const headless = find(objs, 'Service', 'r-expose-pods');
        assert.equal(headless.spec.clusterIP, 'None');
        assert.equal(headless.spec.publishNotReadyAddresses, true);
        assert.equal(sts.spec.serviceName, headless.metadata.name);
        assert.deepEqual(headless.spec.selector, sts.spec.selector.matchLabels);
        assert.deepEqual(sts.spec.persistentVolumeClaimRetentionPolicy, {
          whenDeleted: 'Retain',
          whenScaled: 'Retain',
        });
        podServices(objs).forEach((svc, i) => {
          assert.equal(svc.metadata.name, `r-expose-pods-${i}`);
          assert.deepEqual(svc.spec.selector, {
            ...sts.spec.selector.matchLabels,
            'statefulset.kubernetes.io/pod-name': `r-expose-pods-${i}`,
          });
          assert.ok(['NodePort', 'LoadBalancer'].includes(svc.spec.type));
          assert.equal(svc.spec.externalTrafficPolicy, 'Local');
          assert.equal(svc.spec.ports.length, 1);
          assert.equal(svc.spec.ports[0].targetPort, 'room');
        });
      });
    }
  });

  describe(`${helm.name}: a new Redis password restarts Redis, and only that`, () => {
    const auth = (...set: string[]) => {
      const objs = render(
        helm.path,
        set.flatMap((s) => ['--set', s]),
      );
      return find(objs, 'Deployment', 'r-expose-pods-redis').spec.template.metadata.annotations[
        'checksum/auth'
      ] as string;
    };
    it('the same password, the same annotation; another password, another; it never shows the password', () => {
      const a = auth('redis.auth.password=S3cretPW');
      assert.match(a, /^[0-9a-f]{64}$/);
      assert.equal(auth('redis.auth.password=S3cretPW'), a);
      assert.notEqual(auth('redis.auth.password=N3wPW'), a);
      assert.ok(!a.includes('S3cretPW'));
    });
    it('a generated password (reused from the Secret) and an existingSecret do not restart Redis', () => {
      assert.equal(auth(), 'none');
      assert.equal(auth('redis.auth.existingSecret=mine'), 'none');
    });
  });

  describe(`${helm.name}: scenario specifics`, () => {
    const ports = (objs: K8sObject[]) =>
      podServices(objs).map((s) => s.spec.ports[0].nodePort as number | undefined);
    const sts = (objs: K8sObject[]) => find(objs, 'StatefulSet', 'r-expose-pods');
    const room = (objs: K8sObject[]) => sts(objs).spec.template.spec.containers[0];

    it('defaults: 2 pods, 2 NodePort Services on 30880 and 30881, a TCP readiness probe, Redis with a generated password', () => {
      const objs = render(helm.path);
      assert.equal(sts(objs).spec.replicas, 2);
      assert.equal(sts(objs).spec.podManagementPolicy, 'OrderedReady');
      assert.deepEqual(ports(objs), [30880, 30881]);
      assert.ok(podServices(objs).every((s) => s.spec.type === 'NodePort' && s.spec.ports[0].port === 8080));
      assert.deepEqual(room(objs).readinessProbe.tcpSocket, { port: 'room' });
      // Readiness only: the same check as liveness would kill a busy room instead of taking it out of rotation.
      assert.equal(room(objs).livenessProbe, undefined);
      assert.deepEqual(room(objs).resources.requests['ephemeral-storage'], '64Mi');
      assert.deepEqual(room(objs).resources.limits['ephemeral-storage'], '1Gi');
      assert.deepEqual(room(objs).args, ['serve-hostname', '--port=8080', '--http=true']);
      assert.deepEqual(room(objs).ports, [{ name: 'room', containerPort: 8080, protocol: 'TCP' }]);
      const secret = find(objs, 'Secret', 'r-expose-pods-redis');
      assert.match(Buffer.from(secret.data!['redis-password']!, 'base64').toString(), /^[A-Za-z0-9]{32}$/);
      assert.equal(secret.metadata.annotations!['helm.sh/resource-policy'], 'keep');
      const pvc = find(objs, 'PersistentVolumeClaim', 'r-expose-pods-redis-data');
      assert.equal(pvc.metadata.annotations!['helm.sh/resource-policy'], 'keep');
      assert.equal(pvc.spec.resources.requests.storage, '2Gi');
      const redis = find(objs, 'Deployment', 'r-expose-pods-redis');
      assert.equal(redis.spec.strategy.type, 'Recreate');
      assert.equal(redis.spec.replicas, 1);
      assert.equal(
        redis.spec.template.spec.initContainers,
        undefined,
        'the privileged init container must be opt-in',
      );
      const c = redis.spec.template.spec.containers[0];
      assert.ok(c.readinessProbe && c.livenessProbe, 'redis probes');
      assert.equal(
        c.env.find((e: any) => e.name === 'REDIS_PASSWORD').valueFrom.secretKeyRef.name,
        'r-expose-pods-redis',
      );
      assert.equal(find(objs, 'Service', 'r-expose-pods-redis').spec.ports[0].port, 6379);
      const conf = find(objs, 'ConfigMap', 'r-expose-pods-redis').data!['redis.conf']!;
      for (const line of [
        'dir /data',
        'port 6379',
        'bind * -::*',
        'appendonly yes',
        'protected-mode yes',
        'pidfile /data/redis.pid',
      ]) {
        assert.ok(conf.split('\n').includes(line), `redis.conf has the line ${line}`);
      }
      assert.deepEqual(
        room(objs).env.map((e: any) => [e.name, e.value ?? e.valueFrom.fieldRef.fieldPath]),
        [
          ['POD_NAME', 'metadata.name'],
          ['POD_NAMESPACE', 'metadata.namespace'],
          ['POD_INDEX', "metadata.labels['apps.kubernetes.io/pod-index']"],
          ['NODE_NAME', 'spec.nodeName'],
          ['HOST_IP', 'status.hostIP'],
          ['NODE_PORT_BASE', '30880'],
        ],
      );
      assert.ok(find(objs, 'Pod', 'r-expose-pods-test').metadata.annotations!['helm.sh/hook'] === 'test');
    });

    it('count-gt-replicas: 3 Services for 2 pods', () => {
      const objs = render(helm.path, scenario('count-gt-replicas-values.yaml'));
      assert.equal(sts(objs).spec.replicas, 2);
      assert.deepEqual(ports(objs), [30880, 30881, 30882]);
      // The test pod only checks Services that have a pod.
      const script = find(objs, 'Pod', 'r-expose-pods-test').spec.containers[0].command[2] as string;
      assert.match(script, /r-expose-pods-1:8080/);
      assert.doesNotMatch(script, /r-expose-pods-2:8080/);
    });

    it('loadbalancer: LoadBalancer Services with auto nodePorts and source ranges', () => {
      const svcs = podServices(render(helm.path, scenario('loadbalancer-values.yaml')));
      assert.equal(svcs.length, 2);
      for (const s of svcs) {
        assert.equal(s.spec.type, 'LoadBalancer');
        assert.equal(s.spec.ports[0].nodePort, undefined);
        assert.deepEqual(s.spec.loadBalancerSourceRanges, ['203.0.113.0/24']);
        assert.equal(s.metadata.annotations!['service.beta.kubernetes.io/aws-load-balancer-type'], 'nlb');
      }
    });

    it('udp: UDP ports everywhere and no TCP probes', () => {
      const objs = render(helm.path, scenario('udp-values.yaml'));
      assert.deepEqual(ports(objs), [31000, 31001, 31002]);
      assert.ok(
        podServices(objs).every((s) => s.spec.ports[0].protocol === 'UDP' && s.spec.ports[0].port === 7777),
      );
      assert.equal(find(objs, 'Service', 'r-expose-pods').spec.ports[0].protocol, 'UDP');
      assert.equal(room(objs).ports[0].protocol, 'UDP');
      assert.equal(room(objs).readinessProbe, undefined);
      assert.equal(room(objs).livenessProbe, undefined);
      assert.deepEqual(room(objs).args, ['serve-hostname', '--port=7777', '--udp=true', '--http=false']);
    });

    it('auto-ports: no nodePort field, Kubernetes assigns', () => {
      assert.deepEqual(ports(render(helm.path, scenario('auto-ports-values.yaml'))), [undefined, undefined]);
    });

    it('persistence: volumeClaimTemplates mounted, Redis PVC with no class', () => {
      const objs = render(helm.path, scenario('persistence-values.yaml'));
      const vct = sts(objs).spec.volumeClaimTemplates[0];
      assert.equal(vct.metadata.name, 'data');
      assert.equal(vct.spec.storageClassName, 'standard');
      assert.equal(vct.spec.resources.requests.storage, '5Gi');
      assert.ok(room(objs).volumeMounts.some((m: any) => m.name === 'data' && m.mountPath === '/data'));
      assert.equal(find(objs, 'PersistentVolumeClaim', 'r-expose-pods-redis-data').spec.storageClassName, '');
    });

    it('redis-off: no Redis object, and the test pod does not look for Redis', () => {
      const objs = render(helm.path, scenario('redis-off-values.yaml'));
      assert.deepEqual(
        objs.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'redis'),
        [],
      );
      const test = find(objs, 'Pod', 'r-expose-pods-test').spec.containers[0];
      assert.equal(test.env, undefined);
      assert.doesNotMatch(test.command[2], /redis/);
    });

    it('existing-secret: no Secret or PVC rendered; the Deployment uses the given ones', () => {
      const objs = render(helm.path, scenario('existing-secret-values.yaml'));
      assert.deepEqual(ofKind(objs, 'Secret'), []);
      assert.deepEqual(ofKind(objs, 'PersistentVolumeClaim'), []);
      const spec = find(objs, 'Deployment', 'r-expose-pods-redis').spec.template.spec;
      const ref = spec.containers[0].env.find((e: any) => e.name === 'REDIS_PASSWORD').valueFrom.secretKeyRef;
      assert.deepEqual(ref, { name: 'my-redis-auth', key: 'password' });
      assert.equal(
        spec.volumes.find((v: any) => v.name === 'data').persistentVolumeClaim.claimName,
        'my-redis-data',
      );
    });

    it('one-per-node: required anti-affinity on hostname added to the user affinity; explicit nodePorts', () => {
      const objs = render(helm.path, scenario('one-per-node-values.yaml'));
      const aff = sts(objs).spec.template.spec.affinity;
      assert.ok(aff.nodeAffinity, 'user nodeAffinity kept');
      const terms = aff.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution;
      assert.equal(terms.length, 1);
      assert.equal(terms[0].topologyKey, 'kubernetes.io/hostname');
      assert.deepEqual(terms[0].labelSelector.matchLabels, sts(objs).spec.selector.matchLabels);
      assert.deepEqual(ports(objs), [31001, 31002, 31003]);
    });

    it('failover-fast: 10 s NoExecute tolerations, then the extra ones', () => {
      const tol = sts(render(helm.path, scenario('failover-fast-values.yaml'))).spec.template.spec
        .tolerations;
      assert.deepEqual(tol, [
        {
          effect: 'NoExecute',
          key: 'node.kubernetes.io/not-ready',
          operator: 'Exists',
          tolerationSeconds: 10,
        },
        {
          effect: 'NoExecute',
          key: 'node.kubernetes.io/unreachable',
          operator: 'Exists',
          tolerationSeconds: 10,
        },
        { key: 'dedicated', operator: 'Equal', value: 'game', effect: 'NoSchedule' },
      ]);
    });

    it('failover null: no tolerations rendered, the admission default applies', () => {
      const objs = render(helm.path, [
        '--set',
        'room.failover.notReadySeconds=null',
        '--set',
        'room.failover.unreachableSeconds=null',
      ]);
      assert.equal(sts(objs).spec.template.spec.tolerations, undefined);
    });

    it('custom-image: user command, args, probes and env; Redis maxmemory in the config, password in the Secret', () => {
      const objs = render(helm.path, scenario('custom-image-values.yaml'));
      const c = room(objs);
      assert.equal(c.image, 'ghcr.io/example/room-server:1.4.2');
      assert.deepEqual(c.command, ['/room-server']);
      assert.deepEqual(c.args, ['--listen=:9000']);
      assert.deepEqual(c.readinessProbe.httpGet, { path: '/healthz', port: 'room' });
      assert.equal(c.livenessProbe, undefined, '{} means no probe');
      assert.ok(c.env.some((e: any) => e.name === 'LOG_LEVEL'));
      const conf = find(objs, 'ConfigMap', 'r-expose-pods-redis').data!['redis.conf']!;
      assert.match(conf, /^maxmemory 100mb$/m);
      assert.match(conf, /^maxmemory-policy allkeys-lru$/m);
      const pw = Buffer.from(
        find(objs, 'Secret', 'r-expose-pods-redis').data!['redis-password']!,
        'base64',
      ).toString();
      assert.equal(pw, 's3cr3t-for-ci');
      // Not the agnhost echo image: the test pod checks a TCP connection, not the pod name.
      assert.match(
        find(objs, 'Pod', 'r-expose-pods-test').spec.containers[0].command[2],
        /nc -z -w 5 r-expose-pods-0 9000/,
      );
    });

    it('sysctl-init: the privileged init container appears only when enabled', () => {
      const spec = find(
        render(helm.path, scenario('sysctl-init-values.yaml')),
        'Deployment',
        'r-expose-pods-redis',
      ).spec.template.spec;
      assert.equal(spec.initContainers[0].name, PRIVILEGED_OPT_IN);
      assert.equal(spec.initContainers[0].securityContext.privileged, true);
    });

    it('redis.config.extra: lines without a password render as given, a comment naming requirepass included', () => {
      const extra = '# requirepass comes from the Secret\nmaxclients 100\nuser app on nopass ~app:* +@read';
      const conf = find(
        render(helm.path, ['--set-string', `redis.config.extra=${extra}`]),
        'ConfigMap',
        'r-expose-pods-redis',
      ).data!['redis.conf']!;
      for (const line of extra.split('\n'))
        assert.match(conf, new RegExp(`^${line.replace(/[*+]/g, '\\$&')}$`, 'm'));
    });

    it('redis.networkPolicy: on by default, Redis admits only this release’s rooms and test pod, plus extraFrom; off on request', () => {
      assert.deepEqual(
        ofKind(render(helm.path), 'NetworkPolicy').map((o) => o.metadata.name),
        ['r-expose-pods-redis'],
      );
      assert.equal(
        ofKind(render(helm.path, ['--set', 'redis.networkPolicy.enabled=false']), 'NetworkPolicy').length,
        0,
      );
      const objs = render(helm.path, [
        ...['--set', 'redis.networkPolicy.extraFrom[0].namespaceSelector.matchLabels.team=matchmaking'],
      ]);
      const np = find(objs, 'NetworkPolicy', 'r-expose-pods-redis');
      const redisPod = find(objs, 'Deployment', 'r-expose-pods-redis').spec.template;
      const sel = (component: string) => ({
        'app.kubernetes.io/name': 'expose-pods',
        'app.kubernetes.io/instance': 'r',
        'app.kubernetes.io/component': component,
      });
      assert.deepEqual(np.spec.podSelector.matchLabels, sel('redis'));
      assert.deepEqual(np.spec.policyTypes, ['Ingress']);
      assert.deepEqual(np.spec.ingress, [
        {
          from: [
            { podSelector: { matchLabels: sel('room') } },
            { podSelector: { matchLabels: sel('test') } },
            { namespaceSelector: { matchLabels: { team: 'matchmaking' } } },
          ],
          ports: [{ port: 'redis', protocol: 'TCP' }],
        },
      ]);
      // The selectors match the pods they mean.
      const labels = (o: any) => o.metadata.labels as Record<string, string>;
      for (const [component, pod] of [
        ['redis', redisPod],
        ['room', sts(objs).spec.template],
        ['test', find(objs, 'Pod', 'r-expose-pods-test')],
      ] as const)
        for (const [k, v] of Object.entries(sel(component)))
          assert.equal(labels(pod)[k], v, `${component} ${k}`);
      assert.equal(redisPod.spec.containers[0].ports[0].name, 'redis');
      assert.equal(
        ofKind(
          render(helm.path, ['--set', 'redis.networkPolicy.enabled=true', '--set', 'redis.enabled=false']),
          'NetworkPolicy',
        ).length,
        0,
        'no Redis, no policy',
      );
    });

    it('a room knows its nodePort from its env: NODE_PORT_BASE, NODE_PORTS for an explicit list, neither when ports are assigned', () => {
      const names = (args: string[]) =>
        Object.fromEntries(room(render(helm.path, args)).env.map((e: any) => [e.name, e.value ?? null]));
      const explicit = names(['--set', 'expose.nodePorts={31000,31005}', '--set', 'room.replicas=2']);
      assert.equal(explicit.NODE_PORTS, '31000,31005');
      assert.equal('NODE_PORT_BASE' in explicit, false);
      const assigned = names(['--set', 'expose.nodePortBase=null']);
      assert.equal('NODE_PORT_BASE' in assigned || 'NODE_PORTS' in assigned, false);
      assert.ok('POD_INDEX' in assigned && 'HOST_IP' in assigned);
      // The user's env comes last, so it can override any of them.
      const env = room(
        render(helm.path, ['--set', 'room.env[0].name=HOST_IP', '--set', 'room.env[0].value=x']),
      ).env;
      assert.deepEqual(env.at(-1), { name: 'HOST_IP', value: 'x' });
    });

    it('names follow nameOverride and fullnameOverride', () => {
      const objs = render(helm.path, ['--set', 'fullnameOverride=web']);
      assert.ok(find(objs, 'StatefulSet', 'web'));
      assert.deepEqual(
        podServices(objs).map((s) => s.spec.selector['statefulset.kubernetes.io/pod-name']),
        ['web-0', 'web-1'],
      );
      const named = render(helm.path, ['--set', 'nameOverride=rooms'], 'game');
      assert.ok(find(named, 'StatefulSet', 'game-rooms'));
    });

    it('the Redis password is random for each fresh render (no cluster to look up)', () => {
      const pw = () => find(render(helm.path), 'Secret', 'r-expose-pods-redis').data!['redis-password'];
      assert.notEqual(pw(), pw());
    });
  });
}

for (const helm of HELMS) {
  describe(`${helm.name}: rooms in use (allocation values)`, () => {
    it('a PodDisruptionBudget with maxUnavailable 0 selects only the allocated rooms of this release', () => {
      const objs = render(helm.path, []);
      const pdb = find(objs, 'PodDisruptionBudget', 'r-expose-pods-allocated');
      const sts = find(objs, 'StatefulSet', 'r-expose-pods');
      assert.equal(pdb.spec.maxUnavailable, 0);
      assert.deepEqual(pdb.spec.selector, {
        matchLabels: { ...sts.spec.selector.matchLabels, 'expose-pods.io/state': 'Allocated' },
      });
      // The pods do not carry the label until allocate writes it: no room starts covered.
      assert.equal(sts.spec.template.metadata.labels['expose-pods.io/state'], undefined);
      assert.equal(sts.metadata.annotations?.['expose-pods.io/mark-safe-to-evict'], 'true');
    });
    it('redis probes: two different checks by default, each replaceable or removable by values', () => {
      const redis = (args: string[] = []) =>
        find(render(helm.path, args), 'Deployment', 'r-expose-pods-redis').spec.template.spec.containers.find(
          (c: { name: string }) => c.name === 'redis',
        );
      const d = redis();
      assert.match(d.readinessProbe.exec.command.join(' '), /redis-cli .* ping/);
      assert.deepEqual(d.livenessProbe.tcpSocket, { port: 'redis' });
      const set = redis([
        ...['--set', 'redis.livenessProbe.exec.command[0]=redis-check'],
        ...['--set-json', 'redis.readinessProbe={}'],
      ]);
      assert.deepEqual(set.livenessProbe, { exec: { command: ['redis-check'] } });
      assert.equal(set.readinessProbe, undefined, '{} means none');
    });

    it('both can be turned off', () => {
      const objs = render(helm.path, [
        '--set',
        'allocation.podDisruptionBudget.enabled=false',
        '--set',
        'allocation.markSafeToEvict=false',
      ]);
      assert.deepEqual(ofKind(objs, 'PodDisruptionBudget'), []);
      assert.equal(
        find(objs, 'StatefulSet', 'r-expose-pods').metadata.annotations?.[
          'expose-pods.io/mark-safe-to-evict'
        ],
        'false',
      );
    });

    it('allocation.endOnRestart: on the StatefulSet (true by default, false when set), never in the pod template', () => {
      const endOnRestart = (args: string[]) => {
        const sts = find(render(helm.path, args), 'StatefulSet', 'r-expose-pods');
        assert.equal(sts.spec.template.metadata.annotations?.['expose-pods.io/end-on-restart'], undefined);
        return sts.metadata.annotations?.['expose-pods.io/end-on-restart'];
      };
      assert.equal(endOnRestart([]), 'true');
      assert.equal(endOnRestart(['--set', 'allocation.endOnRestart=false']), 'false');
      assert.throws(() => render(helm.path, ['--set', 'allocation.endOnRestart=maybe']));
    });

    it('the room reads its allocation: labels and annotations (downward API) mounted read-only, at a path of its choosing, or not at all', () => {
      const spec = (args: string[]) =>
        find(render(helm.path, args), 'StatefulSet', 'r-expose-pods').spec.template.spec;
      const s = spec([]);
      const volume = s.volumes.find((v: { name: string }) => v.name === 'allocation');
      assert.deepEqual(volume, {
        name: 'allocation',
        downwardAPI: {
          items: [
            { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
            { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
          ],
        },
      });
      const room = s.containers.find((c: { name: string }) => c.name === 'room');
      assert.deepEqual(
        room.volumeMounts.find((m: { name: string }) => m.name === 'allocation'),
        { name: 'allocation', mountPath: '/etc/expose-pods', readOnly: true },
      );
      const moved = spec(['--set', 'room.allocationVolume.mountPath=/run/room']);
      const mount = moved.containers[0].volumeMounts.find((m: { name: string }) => m.name === 'allocation');
      assert.equal(mount.mountPath, '/run/room');
      const off = spec(['--set', 'room.allocationVolume.enabled=false']);
      assert.equal(
        off.volumes.some((v: { name: string }) => v.name === 'allocation'),
        false,
      );
      assert.equal(
        off.containers[0].volumeMounts.some((m: { name: string }) => m.name === 'allocation'),
        false,
      );
      assert.throws(() => render(helm.path, ['--set', 'room.allocationVolume.mountPath=relative']));
    });
  });
}
