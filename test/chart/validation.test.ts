import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { template } from '../support/chart.js';
import { CHART, HELMS, run } from '../support/tools.js';

/** Each bad value and the words its error must contain: the value's name and the way out. */
const BAD_VALUES: { name: string; args: string[]; expect: RegExp[] }[] = [
  {
    name: 'nodePortBase below the NodePort range',
    args: ['--set', 'expose.nodePortBase=29999'],
    expect: [
      /expose\.nodePortBase=29999 is below the default NodePort range 30000-32767/,
      /null to let Kubernetes assign/,
    ],
  },
  {
    name: 'nodePortBase + count - 1 beyond 32767',
    args: ['--set', 'expose.nodePortBase=32760', '--set', 'room.replicas=10'],
    expect: [
      /needs ports up to 32769, beyond the NodePort range end 32767/,
      /Lower expose\.nodePortBase to at most 32758/,
    ],
  },
  {
    name: 'expose.count pushes the ports past the range even when replicas fit',
    args: ['--set', 'expose.nodePortBase=32766', '--set', 'room.replicas=1', '--set', 'expose.count=3'],
    expect: [/with 3 per-pod Services needs ports up to 32768/],
  },
  {
    name: 'duplicate explicit nodePorts, even with onePerNode',
    args: ['--set', 'room.onePerNode=true', '--set', 'expose.nodePorts={31000,31000}'],
    expect: [
      /expose\.nodePorts: 31000 is listed twice/,
      /even with room\.onePerNode=true/,
      /expose\.type=LoadBalancer/,
    ],
  },
  {
    name: 'fewer explicit nodePorts than Services',
    args: ['--set', 'room.replicas=3', '--set', 'expose.nodePorts={31000,31001}'],
    expect: [/expose\.nodePorts lists 2 ports but 3 per-pod Services are rendered/],
  },
  {
    name: 'explicit nodePort outside the range',
    args: ['--set', 'room.replicas=1', '--set', 'expose.nodePorts={8080}'],
    expect: [/expose\.nodePorts: 8080 is outside the default NodePort range/],
  },
  {
    name: 'tcpSocket readiness probe with UDP',
    args: ['--set', 'room.protocol=UDP', '--set', 'room.readinessProbe.tcpSocket.port=8080'],
    expect: [
      /room\.readinessProbe uses tcpSocket but room\.protocol is UDP/,
      /set room\.readinessProbe to \{\} for none/,
    ],
  },
  {
    name: 'a liveness probe that is the readiness check again',
    args: ['--set', 'room.livenessProbe.tcpSocket.port=room', '--set', 'room.livenessProbe.periodSeconds=30'],
    expect: [/room\.livenessProbe is the same check as the readiness probe/],
  },
  {
    name: 'tcpSocket liveness probe with UDP',
    args: ['--set', 'room.protocol=UDP', '--set', 'room.livenessProbe.tcpSocket.port=room'],
    expect: [/room\.livenessProbe uses tcpSocket but room\.protocol is UDP/],
  },
  {
    name: 'password and existingSecret together',
    args: ['--set', 'redis.auth.password=x', '--set', 'redis.auth.existingSecret=s'],
    expect: [/redis\.auth\.password and redis\.auth\.existingSecret are both set/],
  },
  {
    name: 'requirepass smuggled into the ConfigMap',
    args: ['--set-string', 'redis.config.extra=requirepass hunter2'],
    expect: [/redis\.config\.extra sets requirepass/],
  },
  {
    name: 'REQUIREPASS in capitals (redis.conf keywords are case-insensitive), after other lines',
    args: ['--set-string', 'redis.config.extra=maxclients 100\n  REQUIREPASS hunter2'],
    expect: [/redis\.config\.extra sets requirepass, which would put a password in a ConfigMap/],
  },
  {
    name: 'masterauth: a password in the ConfigMap too',
    args: ['--set-string', 'redis.config.extra=MasterAuth hunter2'],
    expect: [/redis\.config\.extra sets masterauth/],
  },
  {
    name: 'an ACL line for the default user',
    args: ['--set-string', 'redis.config.extra=User default on nopass ~* +@all'],
    expect: [/ACL line for the default user, which would replace the password the chart gives it/],
  },
  {
    name: 'an ACL user with a password',
    args: ['--set-string', 'redis.config.extra=user app on >hunter2 ~app:* +@read'],
    expect: [/an ACL user with a password \(>password or #hash\)/, /ACL SETUSER/],
  },
  {
    name: 'a full name too long for a StatefulSet',
    args: ['--set', `fullnameOverride=${'a'.repeat(53)}`],
    expect: [/fullnameOverride/],
  },
  {
    name: 'schema: unknown key (a typo)',
    args: ['--set', 'room.replica=3'],
    expect: [/room/, /replica/, /additional propert/i],
  },
  { name: 'schema: protocol SCTP', args: ['--set', 'room.protocol=SCTP'], expect: [/room\/protocol/, /TCP/] },
  { name: 'schema: negative replicas', args: ['--set', 'room.replicas=-1'], expect: [/room\/replicas/] },
  {
    name: 'schema: ClusterIP is not an exposure',
    args: ['--set', 'expose.type=ClusterIP'],
    expect: [/expose\/type/],
  },
  {
    name: 'schema: root UID',
    args: ['--set', 'podSecurity.runAsUser=0'],
    expect: [/podSecurity\/runAsUser/],
  },
  {
    name: 'schema: an existingSecret name with a newline (it would inject YAML into secretKeyRef)',
    args: ['--set-string', 'redis.auth.existingSecret=s\n  optional: true'],
    expect: [/redis\/auth\/existingSecret/],
  },
  {
    name: 'schema: an existingSecret name that is not a DNS-1123 subdomain',
    args: ['--set', 'redis.auth.existingSecret=My_Secret'],
    expect: [/redis\/auth\/existingSecret/],
  },
  {
    name: 'schema: a Secret key with a space',
    args: ['--set-string', 'redis.auth.existingSecretPasswordKey=pass word'],
    expect: [/redis\/auth\/existingSecretPasswordKey/],
  },
  {
    name: 'schema: resources without limits',
    args: ['--set', 'room.resources.limits=null'],
    expect: [/room\/resources/, /limits/],
  },
];

for (const helm of HELMS) {
  describe(`${helm.name}: bad values fail with a message that names the value and the fix`, () => {
    for (const c of BAD_VALUES) {
      it(c.name, () => {
        const r = template(helm.path, c.args);
        assert.notEqual(r.status, 0, `rendering should fail; it printed:\n${r.stdout.slice(0, 400)}`);
        for (const re of c.expect) assert.match(r.stderr, re);
      });
    }

    it('every problem is reported at once', () => {
      const r = template(helm.path, [
        '--set',
        'expose.nodePortBase=100',
        '--set',
        'redis.auth.password=x',
        '--set',
        'redis.auth.existingSecret=s',
      ]);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /expose\.nodePortBase=100/);
      assert.match(r.stderr, /redis\.auth\.password and redis\.auth\.existingSecret/);
    });

    it('existingSecret and its key are rendered as strings, whatever they look like', () => {
      // A key of digits (or "true") would be a number (or a boolean) unquoted, which the API server refuses.
      const r = template(helm.path, [
        '--set-string',
        'redis.auth.existingSecret=0123',
        '--set-string',
        'redis.auth.existingSecretPasswordKey=123',
      ]);
      assert.equal(r.status, 0, r.stderr);
      const refs = [...r.stdout.matchAll(/secretKeyRef:\n\s+name: (.*)\n\s+key: (.*)/g)];
      assert.ok(refs.length >= 2, r.stdout.slice(0, 400));
      for (const m of refs) assert.deepEqual([m[1], m[2]], ['"0123"', '"123"']);
    });

    it('expose.count below replicas is allowed', () => {
      assert.equal(template(helm.path, ['--set', 'room.replicas=3', '--set', 'expose.count=1']).status, 0);
    });
  });

  describe(`${helm.name}: helm lint --strict`, () => {
    const files = readdirSync(path.join(CHART, 'ci')).filter((f) => f.endsWith('.yaml'));
    it('covers the scenarios the chart promises', () => {
      for (const s of [
        'defaults',
        'count-gt-replicas',
        'loadbalancer',
        'udp',
        'auto-ports',
        'persistence',
        'redis-off',
        'existing-secret',
        'one-per-node',
      ]) {
        assert.ok(files.includes(`${s}-values.yaml`), `ci/${s}-values.yaml missing`);
      }
    });
    for (const f of files) {
      it(`passes for ci/${f}`, () => {
        const r = run(helm.path, ['lint', '--strict', CHART, '-f', path.join(CHART, 'ci', f)]);
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
      });
    }
    it('fails for a bad value', () => {
      const r = run(helm.path, ['lint', '--strict', CHART, '--set', 'expose.nodePortBase=100']);
      assert.notEqual(r.status, 0);
      assert.match(r.stdout + r.stderr, /expose\.nodePortBase=100/);
    });
  });
}

// Helm 3 needs a live cluster even for `install --dry-run=client`; Helm 4 renders NOTES offline.
describe('helm4: NOTES.txt', () => {
  const helm4 = HELMS.find((h) => h.major === 4)!;
  const notes = (...args: string[]) => {
    const r = run(helm4.path, ['install', 'r', CHART, '--dry-run=client', '--namespace', 'game', ...args], {
      env: { KUBECONFIG: '/nonexistent' },
    });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.slice(r.stdout.indexOf('NOTES:'));
  };

  it('tells how to get the endpoints and the Redis password, without printing it', () => {
    const n = notes('--set', 'redis.auth.password=do-not-print-me');
    assert.match(n, /kubectl expose-pods endpoints r -n game/);
    assert.match(
      n,
      /kubectl get secret r-expose-pods-redis -n game -o jsonpath='\{\.data\.redis-password\}' \| base64 -d/,
    );
    assert.ok(!n.includes('do-not-print-me'));
    assert.match(n, /only the node that hosts a pod answers/);
  });

  it('warns when expose.count is below room.replicas', () => {
    assert.match(
      notes('--set', 'room.replicas=3', '--set', 'expose.count=1'),
      /WARNING: expose\.count=1 is below room\.replicas=3: pod\(s\)\nr-expose-pods-1\.\.2 have no per-pod Service/,
    );
  });

  it('says which Services have no pod when expose.count is above room.replicas', () => {
    assert.match(
      notes('-f', path.join(CHART, 'ci/count-gt-replicas-values.yaml')),
      /r-expose-pods-2 have no pod yet and refuse connections/,
    );
  });

  it('warns about externalTrafficPolicy Cluster', () => {
    assert.match(
      notes('--set', 'expose.externalTrafficPolicy=Cluster'),
      /WARNING: expose\.externalTrafficPolicy=Cluster/,
    );
  });
});
