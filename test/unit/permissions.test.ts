import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import {
  changeRequirements,
  covers,
  PERMISSIONS,
  rbacObjects,
  type PermissionRule,
  type RbacObject,
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

  it('what rbac prints is the granted rules, split into a Role and a ClusterRole, and nothing else', () => {
    const [role, roleBinding, clusterRole, clusterBinding] = rbacObjects('game', {
      kind: 'ServiceAccount',
      namespace: 'game',
      name: 'mm',
    });
    const granted = (scope: PermissionRule['scope']) =>
      PERMISSIONS.filter((r) => r.granted && r.scope === scope);
    assert.deepEqual(
      role?.rules,
      granted('namespace').map((r) => ({ apiGroups: [r.apiGroup], resources: [r.resource], verbs: r.verbs })),
    );
    assert.deepEqual(
      clusterRole?.rules,
      granted('cluster').map((r) => ({ apiGroups: [r.apiGroup], resources: [r.resource], verbs: r.verbs })),
    );
    assert.equal(role.metadata.namespace, 'game');
    assert.deepEqual(roleBinding?.subjects, [{ kind: 'ServiceAccount', name: 'mm', namespace: 'game' }]);
    assert.deepEqual(clusterBinding?.roleRef, {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'kubectl-expose-pods',
    });
    assert.ok(
      !(clusterRole.rules ?? []).some((r) => r.resources.includes('secrets')),
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
});

describe('the least permissions, pinned: widening or narrowing them is a decision (mutation testing)', () => {
  const compact = (o: RbacObject | undefined) =>
    (o?.rules ?? []).map((r) => `${r.apiGroups.join()}|${r.resources.join()}|${r.verbs.join(',')}`);
  const ALL = 'get,list,watch,create,update,patch,delete';
  const objects = rbacObjects('game', { kind: 'ServiceAccount', name: 'matchmaker', namespace: 'ops' });

  it("the Role: the chart's objects and helm's records in full, then only what the commands use", () => {
    assert.deepEqual(compact(objects.find((o) => o.kind === 'Role')), [
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
      'coordination.k8s.io|leases|get,create,update,delete',
      '|namespaces|get',
    ]);
  });

  it('the ClusterRole: reads of nodes and the cluster-wide budgets, and the out-of-service taint', () => {
    assert.deepEqual(compact(objects.find((o) => o.kind === 'ClusterRole')), [
      '|nodes|get,list,watch',
      '|nodes|patch',
      '|services|list',
      '|pods|list',
      'networking.k8s.io|servicecidrs|list',
      'networking.k8s.io|ipaddresses|list',
    ]);
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
    assert.deepEqual(
      objects.flatMap((o) => o.reasons ?? []),
      PERMISSIONS.filter((r) => r.granted && r.scope === 'namespace')
        .concat(PERMISSIONS.filter((r) => r.granted && r.scope === 'cluster'))
        .map((r) => r.why),
      'one reason per rule, in order',
    );
  });

  it("what a change checks before it writes: the chart's objects, helm's records, pods, replicasets, leases and nodes", () => {
    const byResource = new Map<string, string[]>();
    for (const r of changeRequirements()) {
      const k = `${r.resource}${r.apiGroup ? `.${r.apiGroup}` : ''} ${r.scope}`;
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
      'leases.coordination.k8s.io namespace': ['get', 'create', 'update', 'delete'],
      'nodes cluster': ['get', 'list', 'watch'],
    });
  });

  it("the objects: names, labels, the bindings' roleRefs and subjects", () => {
    const [role, binding, clusterRole, clusterBinding] = objects as [
      RbacObject,
      RbacObject,
      RbacObject,
      RbacObject,
    ];
    const labels = { 'app.kubernetes.io/managed-by': 'kubectl-expose-pods' };
    assert.deepEqual(
      objects.map((o) => [o.apiVersion, o.kind]),
      ['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'].map((k) => [
        'rbac.authorization.k8s.io/v1',
        k,
      ]),
    );
    assert.deepEqual(role.metadata, { name: 'kubectl-expose-pods', namespace: 'game', labels });
    assert.deepEqual(clusterRole.metadata, { name: 'kubectl-expose-pods', labels });
    assert.deepEqual(binding.metadata, {
      name: 'kubectl-expose-pods-sa-ops-matchmaker',
      namespace: 'game',
      labels,
    });
    assert.deepEqual(binding.roleRef, {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: 'kubectl-expose-pods',
    });
    assert.deepEqual(clusterBinding.metadata, { name: 'kubectl-expose-pods-sa-ops-matchmaker', labels });
    assert.deepEqual(clusterBinding.roleRef, {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'kubectl-expose-pods',
    });
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'matchmaker', namespace: 'ops' }]);
    const user = rbacObjects('game', { kind: 'User', name: '--Alice@Example.com--' });
    assert.equal(user[1]!.metadata.name, 'kubectl-expose-pods-user---alice-example.com');
    assert.deepEqual(user[1]!.subjects, [
      { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: '--Alice@Example.com--' },
    ]);
    const group = rbacObjects('game', { kind: 'Group', name: 'oidc:game ops' });
    assert.equal(group[3]?.metadata.name, 'kubectl-expose-pods-group-oidc-game-ops');
    assert.equal(
      rbacObjects('g', { kind: 'User', name: 'x'.repeat(300) })[1]?.metadata.name.length,
      20 + 200,
    );
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
