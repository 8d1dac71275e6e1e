import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { covers, PERMISSIONS, rbacObjects, type PermissionRule } from '../../src/core/permissions.js';
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

  it('the watches (endpoints --watch, the allocator) have rules too', () => {
    const text = readFileSync(path.join(ROOT, 'src/kube/reflector.ts'), 'utf8');
    const watched = [...text.matchAll(/ofRelease\('(\w+)', '\/apis?\/?(\w*)[^']*'/g)].map((m) => ({
      resource: m[1] ?? '',
      apiGroup: m[2] === 'v1' || m[2] === '' ? '' : (m[2] ?? ''),
    }));
    assert.deepEqual(watched.map((w) => w.resource).sort(), ['pods', 'services', 'statefulsets']);
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
