import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import {
  autoscalerLeaseName,
  autoscalerRequirements,
  changeRequirements,
  covers,
  lockLeaseName,
  lockRequirements,
  OPT_INS,
  optInFlags,
  PERMISSIONS,
  permissionName,
  rbacObjects,
  subjectId,
  type OptIn,
  type RbacObject,
  type RbacSubject,
} from '../../src/core/permissions.js';
import { rulesAllow } from '../../src/kube/access.js';
import { render } from '../support/chart.js';
import { HELMS, ROOT } from '../support/tools.js';

/** Every .ts file under src. */
function sources(dir = path.join(ROOT, 'src')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(path.join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [path.join(dir, e.name)]
        : [],
  );
}

/** The API group of each client-node API object, by the name the code gives it. */
const GROUP: Record<string, string> = {
  core: '',
  apps: 'apps',
  discovery: 'discovery.k8s.io',
  networking: 'networking.k8s.io',
  leases: 'coordination.k8s.io',
  admission: 'admissionregistration.k8s.io',
  'ApiregistrationV1Api(config)': 'apiregistration.k8s.io',
  authz: 'authorization.k8s.io',
};

/** Each kind a method names, as the resource RBAC calls it. */
const RESOURCE: Record<string, string> = {
  Pod: 'pods',
  Secret: 'secrets',
  Service: 'services',
  PersistentVolumeClaim: 'persistentvolumeclaims',
  Lease: 'leases',
  EndpointSlice: 'endpointslices',
  Node: 'nodes',
  ConfigMap: 'configmaps',
  StatefulSet: 'statefulsets',
  StatefulSetScale: 'statefulsets/scale',
  Deployment: 'deployments',
  ServiceCIDR: 'servicecidrs',
  IPAddress: 'ipaddresses',
  Namespace: 'namespaces',
  ValidatingWebhookConfiguration: 'validatingwebhookconfigurations',
  MutatingWebhookConfiguration: 'mutatingwebhookconfigurations',
  APIService: 'apiservices',
  SelfSubjectRulesReview: 'selfsubjectrulesreviews',
  SelfSubjectAccessReview: 'selfsubjectaccessreviews',
};

const VERB: Record<string, string> = {
  list: 'list',
  read: 'get',
  create: 'create',
  replace: 'update',
  patch: 'patch',
  delete: 'delete',
};

/** What every authenticated user may do (the system:basic-user ClusterRole): not in the table. */
const EVERYONE = new Set(['create selfsubjectrulesreviews', 'create selfsubjectaccessreviews']);

interface Request {
  apiGroup: string;
  resource: string;
  verb: string;
  scope: 'namespace' | 'cluster';
  where: string;
}

/** Every request the code makes through client-node's typed APIs, found in the source. */
function requestsInSource(): Request[] {
  const out: Request[] = [];
  const call = new RegExp(
    `\\b(${Object.keys(GROUP)
      .map((g) => g.replace(/[()]/g, '\\$&'))
      .join(
        '|',
      )})\\s*\\.\\s*(list|read|create|replace|patch|delete)(Namespaced)?([A-Z][A-Za-z]*?)(ForAllNamespaces)?\\(`,
    'g',
  );
  for (const file of sources()) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(call)) {
      const [, api = '', method = '', namespaced, kind = '', all] = m;
      const resource = RESOURCE[kind];
      assert.ok(
        resource,
        `${path.relative(ROOT, file)}: ${api}.${method}${namespaced ?? ''}${kind}: add ${kind} to RESOURCE`,
      );
      // A namespace reads itself through a RoleBinding in it.
      const scope = namespaced || (kind === 'Namespace' && method === 'read') ? 'namespace' : 'cluster';
      out.push({
        apiGroup: GROUP[api] ?? '?',
        resource,
        verb: VERB[method] ?? method,
        scope: all ? 'cluster' : scope,
        where: path.relative(ROOT, file),
      });
    }
  }
  return out;
}

describe('permissions: the table rbac prints equals the requests the code can make', () => {
  it('finds the requests (the scan itself works)', () => {
    const found = requestsInSource();
    assert.ok(found.length > 30, `only ${found.length}`);
    for (const expected of [
      'list nodes cluster',
      'patch pods namespace',
      'create leases namespace',
      'get statefulsets/scale namespace',
    ])
      assert.ok(
        found.some((r) => `${r.verb} ${r.resource} ${r.scope}` === expected),
        `${expected} not found in the source`,
      );
  });

  it('every request of the plugin has a rule (granted, or left out with the reason and what degrades)', () => {
    const missing = requestsInSource()
      .filter((r) => !EVERYONE.has(`${r.verb} ${r.resource}`))
      .filter((r) => !covers(PERMISSIONS, r))
      .map((r) => `${r.verb} ${r.resource}${r.apiGroup ? `.${r.apiGroup}` : ''} (${r.scope}) in ${r.where}`);
    assert.deepEqual([...new Set(missing)], []);
  });

  it("the Lease calls a narrowed rule must allow are the lock's and the autoscaler's, each on its own Lease", () => {
    const leases = requestsInSource().filter((r) => r.resource === 'leases');
    assert.deepEqual([...new Set(leases.map((r) => r.where))].sort(), [
      'src/kube/lock.ts',
      'src/kube/reader.ts',
    ]);
    assert.deepEqual([...new Set(leases.map((r) => r.verb))].sort(), ['create', 'delete', 'get', 'update']);
    // status reads the autoscaler's Lease, by its name, and nothing else of Leases.
    assert.deepEqual(
      leases.filter((r) => r.where === 'src/kube/reader.ts').map((r) => r.verb),
      ['get'],
    );
    const reader = readFileSync(path.join(ROOT, 'src/kube/reader.ts'), 'utf8');
    assert.match(
      reader,
      /const name = autoscalerLeaseName\(release\);\s+const leases = new k8s\.CoordinationV1Api\(config\);\s+try \{\s+const lease = await leases\.readNamespacedLease\(\{ name, namespace \}\)/,
    );
    const text = readFileSync(path.join(ROOT, 'src/kube/lock.ts'), 'utf8');
    // The lock's Lease, or the one the caller names: the autoscaler's (ops/autoscale.ts).
    assert.match(text, /name: opts\.name \?\? lockLeaseName\(release\),/);
    const autoscale = readFileSync(path.join(ROOT, 'src/ops/autoscale.ts'), 'utf8');
    assert.equal([...autoscale.matchAll(/acquireReleaseLock\(/g)].length, 1);
    assert.match(autoscale, /name: autoscalerLeaseName\(release\),/);
    const byName = [...text.matchAll(/\.(read|replace|delete)NamespacedLease\(\{\s*(\w+)/g)];
    assert.ok(byName.length >= 4, `${byName.length}`);
    for (const m of byName) assert.equal(m[2], 'name', `${m[1]} names the site's Lease`);
    for (const r of PERMISSIONS.filter((x) => x.resource === 'leases'))
      assert.equal(r.lockNames === true, !r.verbs.includes('create'), r.verbs.join());
  });

  it('the watches (endpoints --watch, the allocator, the progress of a wait) have rules too', () => {
    const text = readFileSync(path.join(ROOT, 'src/kube/reflector.ts'), 'utf8');
    const watched = [...text.matchAll(/ofRelease\(\s*'(\w+)',\s*'\/apis?\/?(\w*)[^']*'/g)].map((m) => ({
      resource: m[1] ?? '',
      apiGroup: m[2] === 'v1' || m[2] === '' ? '' : (m[2] ?? ''),
    }));
    // The release's (StatefulSet, pods, Services) and a wait's (StatefulSet, room and Redis pods, Redis Deployment).
    assert.deepEqual(watched.map((w) => w.resource).sort(), [
      'deployments',
      'pods',
      'pods',
      'pods',
      'services',
      'statefulsets',
      'statefulsets',
    ]);
    for (const w of watched)
      assert.ok(covers(PERMISSIONS, { ...w, verb: 'watch', scope: 'namespace' }, true), w.resource);
    assert.match(text, /path: '\/api\/v1\/nodes'/);
    assert.ok(
      covers(PERMISSIONS, { apiGroup: '', resource: 'nodes', verb: 'watch', scope: 'cluster' }, true),
    );
  });

  it('every kind the chart renders can be created, changed, read and deleted by helm, in the namespace', () => {
    const objects = render(HELMS[1].path, [
      '--set',
      'redis.persistence.enabled=true',
      '--set',
      'room.persistence.enabled=true',
      '--set',
      'expose.type=LoadBalancer',
    ]);
    // `helm test`'s pods are not created by install or upgrade (and the plugin never runs helm test).
    const installed = objects.filter(
      (o) =>
        (o.metadata as { annotations?: Record<string, string> }).annotations?.['helm.sh/hook'] !== 'test',
    );
    assert.ok(installed.length < objects.length, 'the chart has a test hook to leave out');
    const kinds = new Set(
      installed.map((o) => `${o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : ''}|${o.kind}`),
    );
    assert.ok(kinds.size >= 6, [...kinds].join());
    const plural = (kind: string) =>
      (kind.endsWith('y') ? `${kind.slice(0, -1)}ies` : `${kind}s`).toLowerCase();
    for (const k of kinds) {
      const [apiGroup = '', kind = ''] = k.split('|');
      for (const verb of ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'])
        assert.ok(
          covers(PERMISSIONS, { apiGroup, resource: plural(kind), verb, scope: 'namespace' }, true),
          `${verb} ${plural(kind)}.${apiGroup}`,
        );
    }
  });

  it('what rbac prints is the granted rules, split by scope and opt-in, and nothing else', () => {
    const objects = rbacObjects(
      'game',
      { kind: 'ServiceAccount', namespace: 'game', name: 'mm' },
      { releases: ['rooms'], optIns: ['out-of-service', 'cluster-budget', 'pod-slots'] },
    );
    const roles = objects.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole');
    const printed = roles.flatMap((o) =>
      (o.rules ?? []).map((r) => `${r.apiGroups.join()}|${r.resources.join()}|${r.verbs.join()}`),
    );
    const granted = PERMISSIONS.filter((r) => r.granted).map(
      (r) => `${r.apiGroup}|${r.resource}|${r.verbs.join()}`,
    );
    assert.deepEqual([...printed].sort(), [...granted].sort(), 'every granted rule once, across the roles');
    for (const r of PERMISSIONS.filter((x) => x.granted)) {
      const where = roles.find((o) =>
        o.rules?.some((x) => x.resources[0] === r.resource && x.verbs.join() === r.verbs.join()),
      );
      assert.equal(where?.kind, r.scope === 'namespace' ? 'Role' : 'ClusterRole', r.resource);
      assert.equal(where.metadata.namespace, r.scope === 'namespace' ? 'game' : undefined);
    }
    for (const b of objects.filter((o) => o.kind.endsWith('Binding')))
      assert.deepEqual(b.subjects, [{ kind: 'ServiceAccount', name: 'mm', namespace: 'game' }]);
    assert.ok(
      !roles.some((o) => o.kind === 'ClusterRole' && o.rules?.some((r) => r.resources.includes('secrets'))),
      'never every Secret of the cluster',
    );
  });
});

describe('rulesAllow: a SelfSubjectRulesReview rule read as the authorizer reads it', () => {
  const want = { apiGroup: 'apps', resource: 'statefulsets/scale', verb: 'update' as const };
  it('exact, wildcards, subresource wildcards; resourceNames limit a rule to those objects', () => {
    assert.equal(
      rulesAllow([{ verbs: ['update'], apiGroups: ['apps'], resources: ['statefulsets/scale'] }], want),
      true,
    );
    assert.equal(rulesAllow([{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], want), true);
    assert.equal(
      rulesAllow([{ verbs: ['update'], apiGroups: ['apps'], resources: ['statefulsets/*'] }], want),
      true,
    );
    assert.equal(
      rulesAllow([{ verbs: ['update'], apiGroups: ['apps'], resources: ['*/scale'] }], want),
      true,
    );
    assert.equal(
      rulesAllow([{ verbs: ['update'], apiGroups: ['apps'], resources: ['statefulsets'] }], want),
      false,
    );
    assert.equal(
      rulesAllow([{ verbs: ['get'], apiGroups: ['apps'], resources: ['statefulsets/scale'] }], want),
      false,
    );
    assert.equal(
      rulesAllow([{ verbs: ['update'], apiGroups: [''], resources: ['statefulsets/scale'] }], want),
      false,
    );
    assert.equal(
      rulesAllow(
        [{ verbs: ['update'], apiGroups: ['apps'], resources: ['statefulsets/scale'], resourceNames: ['x'] }],
        want,
      ),
      false,
    );
  });

  it("a rule narrowed by resourceNames allows what names one of them (the lock's Lease), nothing else", () => {
    const lease = { apiGroup: 'coordination.k8s.io', resource: 'leases', verb: 'update' as const };
    const narrowed = [
      {
        verbs: ['get', 'update', 'delete'],
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        resourceNames: ['rooms-expose-pods-lock'],
      },
    ];
    assert.equal(rulesAllow(narrowed, { ...lease, name: 'rooms-expose-pods-lock' }), true);
    assert.equal(rulesAllow(narrowed, { ...lease, name: 'kube-scheduler' }), false);
    assert.equal(rulesAllow(narrowed, lease), false, 'every Lease: not granted by a narrowed rule');
    assert.equal(
      rulesAllow([{ verbs: ['update'], apiGroups: ['*'], resources: ['leases'] }], { ...lease, name: 'x' }),
      true,
      'an unnarrowed rule allows every name',
    );
  });
});

describe('the least permissions, pinned: widening or narrowing them is a decision (mutation testing)', () => {
  const compact = (o: RbacObject | undefined) =>
    (o?.rules ?? []).map(
      (r) =>
        `${r.apiGroups.join()}|${r.resources.join()}|${r.verbs.join(',')}${r.resourceNames ? `|${r.resourceNames.join()}` : ''}`,
    );
  const ALL = 'get,list,watch,create,update,patch,delete';
  const subject = { kind: 'ServiceAccount', name: 'matchmaker', namespace: 'ops' } as const;
  const objects = rbacObjects('game', subject, { releases: ['rooms', 'lobby', 'rooms'] });
  const ID = 'sa-ops-matchmaker-8bd311001853c54b';
  const named = (kind: string, name: string) =>
    objects.find((o) => o.kind === kind && o.metadata.name === name);

  it("the shared Role: the chart's objects and helm's records in full, then only what the commands use", () => {
    assert.deepEqual(compact(named('Role', 'kubectl-expose-pods')), [
      `|secrets|${ALL}`,
      `|services|${ALL}`,
      `|configmaps|${ALL}`,
      `|persistentvolumeclaims|${ALL}`,
      `apps|statefulsets|${ALL}`,
      `apps|deployments|${ALL}`,
      `policy|poddisruptionbudgets|${ALL}`,
      `networking.k8s.io|networkpolicies|${ALL}`,
      '|pods|get,list,watch,patch,delete',
      'apps|statefulsets/scale|get,update',
      'apps|replicasets|list,watch',
      'discovery.k8s.io|endpointslices|get,list,watch',
      'coordination.k8s.io|leases|create',
      '|namespaces|get',
    ]);
  });

  it("the lock's Role: get, update and delete on each --release's Lease only (create cannot be narrowed)", () => {
    assert.deepEqual(compact(named('Role', `kubectl-expose-pods-lock-${ID}`)), [
      'coordination.k8s.io|leases|get,update,delete|rooms-expose-pods-lock,rooms-expose-pods-autoscaler,lobby-expose-pods-lock,lobby-expose-pods-autoscaler',
    ]);
    const wide = rbacObjects('game', subject);
    const lock = wide.find((o) => o.metadata.name === `kubectl-expose-pods-lock-${ID}`);
    assert.deepEqual(compact(lock), ['coordination.k8s.io|leases|get,update,delete']);
    assert.match(
      lock?.reasons?.[0] ?? '',
      /Not narrowed \(no --release given\): every Lease of the namespace/,
    );
    assert.equal(lockLeaseName('rooms'), 'rooms-expose-pods-lock');
    assert.equal(autoscalerLeaseName('rooms'), 'rooms-expose-pods-autoscaler');
  });

  it('autoscale needs what every change needs, and the same rights on its own Lease, by name', () => {
    const names = (r: { verb: string; resource: string; name?: string }[]) =>
      r.filter((x) => x.resource === 'leases').map((x) => `${x.verb} ${x.name ?? '*'}`);
    assert.deepEqual(names(autoscalerRequirements('rooms')), [
      'create *',
      'get rooms-expose-pods-lock',
      'update rooms-expose-pods-lock',
      'delete rooms-expose-pods-lock',
      'get rooms-expose-pods-autoscaler',
      'update rooms-expose-pods-autoscaler',
      'delete rooms-expose-pods-autoscaler',
    ]);
    assert.deepEqual(
      autoscalerRequirements('rooms').filter((r) => r.resource !== 'leases'),
      changeRequirements('rooms').filter((r) => r.resource !== 'leases'),
    );
  });

  it('the default ClusterRole reads nodes, nothing else: no node patch, no cluster-wide list of pods or Services', () => {
    assert.deepEqual(compact(named('ClusterRole', 'kubectl-expose-pods')), ['|nodes|get,list,watch']);
    assert.deepEqual(
      objects.map((o) => `${o.kind}/${o.metadata.name}`),
      [
        'Role/kubectl-expose-pods',
        `RoleBinding/kubectl-expose-pods-${ID}`,
        `Role/kubectl-expose-pods-lock-${ID}`,
        `RoleBinding/kubectl-expose-pods-lock-${ID}`,
        'ClusterRole/kubectl-expose-pods',
        `ClusterRoleBinding/kubectl-expose-pods-${ID}`,
      ],
      'no opt-in without its flag',
    );
  });

  it('each opt-in is a ClusterRole of its own, bound to the subject, saying what it allows beyond our use', () => {
    const all = rbacObjects('game', subject, { optIns: ['pod-slots', 'out-of-service', 'cluster-budget'] });
    const table: [OptIn, string, string[], RegExp][] = [
      ['out-of-service', 'kubectl-expose-pods-out-of-service', ['|nodes|patch'], /taint any node NoExecute/],
      [
        'cluster-budget',
        'kubectl-expose-pods-cluster-budget',
        ['|services|list', 'networking.k8s.io|servicecidrs|list', 'networking.k8s.io|ipaddresses|list'],
        /every tenant's Services/,
      ],
      ['pod-slots', 'kubectl-expose-pods-pod-slots', ['|pods|list'], /env values and args included/],
    ];
    for (const [optIn, role, rules, beyond] of table) {
      const cr = all.find((o) => o.kind === 'ClusterRole' && o.metadata.name === role);
      assert.deepEqual(compact(cr), rules, optIn);
      assert.match(cr?.comment ?? '', /^Beyond our use/, optIn);
      assert.match(cr?.comment ?? '', beyond, optIn);
      const binding = all.find((o) => o.kind === 'ClusterRoleBinding' && o.metadata.name === `${role}-${ID}`);
      assert.deepEqual(binding?.roleRef, {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: role,
      });
      assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'matchmaker', namespace: 'ops' }]);
      assert.equal(OPT_INS[optIn].flag, `--${optIn}`);
      const only = rbacObjects('game', subject, { optIns: [optIn] });
      assert.equal(only.length, 8, `${optIn}: the defaults and its own pair`);
    }
    assert.deepEqual(
      all.filter((o) => o.kind === 'ClusterRole').map((o) => o.metadata.name),
      ['kubectl-expose-pods', ...table.map((t) => t[1])],
      'in a fixed order, whatever the order of the flags',
    );
  });

  it('left out on purpose, each saying what degrades', () => {
    const out = PERMISSIONS.filter((r) => !r.granted);
    assert.deepEqual(
      out.map((r) => `${r.apiGroup}|${r.resource}|${r.verbs.join(',')}|${r.scope}`),
      [
        '|namespaces|list|cluster',
        '|namespaces|create|cluster',
        '|secrets|list|cluster',
        '|configmaps|get|cluster',
        'admissionregistration.k8s.io|validatingwebhookconfigurations|list|cluster',
        'admissionregistration.k8s.io|mutatingwebhookconfigurations|list|cluster',
        'apiregistration.k8s.io|apiservices|list|cluster',
      ],
    );
    for (const r of out) assert.match(r.why, /^not granted/, r.resource);
    for (const r of PERMISSIONS.filter((x) => x.granted)) assert.match(r.why, /\w{3}/, r.resource);
    for (const r of PERMISSIONS.filter((x) => x.optIn)) assert.match(r.why, /without it/, r.resource);
    const all = rbacObjects('game', subject, {
      releases: ['rooms'],
      optIns: ['out-of-service', 'cluster-budget', 'pod-slots'],
    });
    assert.deepEqual(
      [...all.flatMap((o) => o.reasons ?? [])].sort(),
      PERMISSIONS.filter((r) => r.granted)
        .map((r) => r.why)
        .sort(),
      'one reason per rule',
    );
  });

  it("what a change checks before it writes: the chart's objects, helm's records, pods, replicasets, its lock's Lease and nodes", () => {
    const byResource = new Map<string, string[]>();
    for (const r of changeRequirements('rooms')) {
      const k = `${r.resource}${r.apiGroup ? `.${r.apiGroup}` : ''}${r.name ? `/${r.name}` : ''} ${r.scope}`;
      byResource.set(k, [...(byResource.get(k) ?? []), r.verb]);
    }
    assert.deepEqual(Object.fromEntries(byResource), {
      'secrets namespace': ALL.split(','),
      'services namespace': ALL.split(','),
      'configmaps namespace': ALL.split(','),
      'persistentvolumeclaims namespace': ALL.split(','),
      'statefulsets.apps namespace': ALL.split(','),
      'deployments.apps namespace': ALL.split(','),
      'poddisruptionbudgets.policy namespace': ALL.split(','),
      'networkpolicies.networking.k8s.io namespace': ALL.split(','),
      'pods namespace': ['get', 'list', 'watch', 'patch', 'delete'],
      'replicasets.apps namespace': ['list', 'watch'],
      'leases.coordination.k8s.io namespace': ['create'],
      'leases.coordination.k8s.io/rooms-expose-pods-lock namespace': ['get', 'update', 'delete'],
      'nodes cluster': ['get', 'list', 'watch'],
    });
    assert.deepEqual(
      lockRequirements('rooms').map((r) => permissionName(r)),
      [
        'create leases.coordination.k8s.io',
        'get leases.coordination.k8s.io/rooms-expose-pods-lock',
        'update leases.coordination.k8s.io/rooms-expose-pods-lock',
        'delete leases.coordination.k8s.io/rooms-expose-pods-lock',
      ],
    );
    assert.deepEqual(optInFlags([{ apiGroup: '', resource: 'nodes', verb: 'patch', scope: 'cluster' }]), [
      '--out-of-service',
    ]);
    assert.deepEqual(optInFlags([{ apiGroup: '', resource: 'nodes', verb: 'list', scope: 'cluster' }]), []);
  });

  it("the objects: names, labels, the bindings' roleRefs and subjects", () => {
    const labels = { 'app.kubernetes.io/managed-by': 'kubectl-expose-pods' };
    for (const o of objects) {
      assert.equal(o.apiVersion, 'rbac.authorization.k8s.io/v1');
      assert.deepEqual(o.metadata.labels, labels);
      assert.equal(o.metadata.namespace, o.kind.startsWith('Cluster') ? undefined : 'game');
    }
    assert.deepEqual(named('RoleBinding', `kubectl-expose-pods-${ID}`)?.roleRef, {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: 'kubectl-expose-pods',
    });
    assert.deepEqual(named('RoleBinding', `kubectl-expose-pods-lock-${ID}`)?.roleRef, {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: `kubectl-expose-pods-lock-${ID}`,
    });
    assert.deepEqual(named('ClusterRoleBinding', `kubectl-expose-pods-${ID}`)?.roleRef, {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'kubectl-expose-pods',
    });
    const user = rbacObjects('game', { kind: 'User', name: '--Alice@Example.com--' });
    assert.equal(user[1]!.metadata.name, 'kubectl-expose-pods-user-alice-example-com-4986960aabebefd5');
    assert.deepEqual(user[1]!.subjects, [
      { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: '--Alice@Example.com--' },
    ]);
    const group = rbacObjects('game', { kind: 'Group', name: 'oidc:game ops' });
    assert.equal(group[5]?.metadata.name, 'kubectl-expose-pods-group-oidc-game-ops-c09d5ab6d932e05b');
  });

  it('a cluster-scoped object has no namespace field; a namespaced one has its namespace', () => {
    const labels = { 'app.kubernetes.io/managed-by': 'kubectl-expose-pods' };
    assert.deepEqual(named('ClusterRole', 'kubectl-expose-pods')?.metadata, {
      name: 'kubectl-expose-pods',
      labels,
    });
    assert.deepEqual(named('ClusterRoleBinding', `kubectl-expose-pods-${ID}`)?.metadata, {
      name: `kubectl-expose-pods-${ID}`,
      labels,
    });
    assert.deepEqual(named('Role', 'kubectl-expose-pods')?.metadata, {
      name: 'kubectl-expose-pods',
      namespace: 'game',
      labels,
    });
  });

  it('the flag that grants a cluster-wide list of Services or pods, when a budget could not be counted', () => {
    const list = (resource: string) => ({
      apiGroup: '',
      resource,
      verb: 'list' as const,
      scope: 'cluster' as const,
    });
    assert.deepEqual(optInFlags([list('services')]), ['--cluster-budget']);
    assert.deepEqual(optInFlags([list('pods')]), ['--pod-slots']);
    assert.deepEqual(optInFlags([list('pods'), list('services')]), ['--pod-slots', '--cluster-budget']);
    assert.deepEqual(
      optInFlags([
        { apiGroup: 'networking.k8s.io', resource: 'ipaddresses', verb: 'list', scope: 'cluster' },
      ]),
      ['--cluster-budget'],
    );
  });

  it('binding names are unique per exact subject (kind, namespace, name), readable, DNS-1123 and at most 253 characters', () => {
    const subjects: RbacSubject[] = [
      { kind: 'User', name: 'Alice' },
      { kind: 'User', name: 'alice' },
      { kind: 'Group', name: 'alice' },
      { kind: 'ServiceAccount', namespace: 'a-b', name: 'c' },
      { kind: 'ServiceAccount', namespace: 'a', name: 'b-c' },
      { kind: 'User', name: 'system:serviceaccount:a-b:c' },
      { kind: 'User', name: 'alice@example.com' },
      { kind: 'User', name: 'alice.example.com' },
      { kind: 'User', name: 'x'.repeat(300) },
      { kind: 'User', name: `${'x'.repeat(300)}y` },
      { kind: 'User', name: '@@@' },
    ];
    const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
    const bindings = subjects.map((s) => {
      const all = rbacObjects('game', s, { optIns: ['out-of-service', 'cluster-budget', 'pod-slots'] });
      for (const o of all) {
        assert.match(o.metadata.name, DNS1123, o.metadata.name);
        assert.ok(o.metadata.name.length <= 253, `${o.metadata.name.length}`);
      }
      // A RoleBinding and a ClusterRoleBinding may share a name: they are different kinds.
      return all.filter((o) => o.kind.endsWith('Binding')).map((o) => `${o.kind}/${o.metadata.name}`);
    });
    const flat = bindings.flat();
    assert.equal(new Set(flat).size, flat.length, 'no two subjects share a binding name');
    assert.equal(subjectId({ kind: 'User', name: 'Alice' }), 'user-alice-573f5d7cb26294a1');
    assert.equal(subjectId({ kind: 'User', name: 'alice' }), 'user-alice-3ae7fe2c621999d0');
    assert.equal(
      subjectId({ kind: 'ServiceAccount', namespace: 'a-b', name: 'c' }),
      'sa-a-b-c-041983467ab7652f',
    );
    assert.equal(
      subjectId({ kind: 'ServiceAccount', namespace: 'a', name: 'b-c' }),
      'sa-a-b-c-16d26eb71a4ae852',
    );
    assert.match(
      subjectId({ kind: 'User', name: '@@@' }),
      /^user-[0-9a-f]{16}$/,
      'nothing readable: the hash alone',
    );
    assert.equal(subjectId({ kind: 'User', name: 'x'.repeat(300) }).length, 'user-'.length + 145 + 17);
  });

  it('covers: group, resource, verb and scope must all hold; a cluster grant covers a namespace, not the reverse', () => {
    const rules = [
      {
        apiGroup: 'apps',
        resource: 'statefulsets',
        verbs: ['get' as const],
        scope: 'namespace' as const,
        why: 'x',
        granted: true,
      },
      {
        apiGroup: '',
        resource: 'nodes',
        verbs: ['list' as const],
        scope: 'cluster' as const,
        why: 'x',
        granted: false,
      },
    ];
    const want = { apiGroup: 'apps', resource: 'statefulsets', verb: 'get', scope: 'namespace' as const };
    assert.equal(covers(rules, want), true);
    assert.equal(covers(rules, { ...want, apiGroup: '' }), false);
    assert.equal(covers(rules, { ...want, resource: 'deployments' }), false);
    assert.equal(covers(rules, { ...want, verb: 'list' }), false);
    assert.equal(covers(rules, { ...want, scope: 'cluster' }), false);
    const nodes = { apiGroup: '', resource: 'nodes', verb: 'list', scope: 'namespace' as const };
    assert.equal(covers(rules, nodes), true);
    assert.equal(covers(rules, nodes, true), false, 'not granted');
  });
});
