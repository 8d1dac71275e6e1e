/**
 * Every permission the plugin and the helm it runs use, in one table: what
 * `kubectl expose-pods rbac` grants, what a change checks before it writes,
 * and what test/unit/permissions.test.ts compares with every request in the
 * code (and the kinds the chart renders), so that a new request without a
 * rule fails CI.
 */

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';

export interface PermissionRule {
  apiGroup: string;
  /** The resource, or resource/subresource. */
  resource: string;
  verbs: Verb[];
  /** namespace: in the release's namespace (a Role); cluster: cluster-scoped or in every namespace (a ClusterRole). */
  scope: 'namespace' | 'cluster';
  /** Who needs it, for the comment in the YAML `rbac` prints. */
  why: string;
  /**
   * false: not granted by `rbac` (too wide for a namespaced user); the command
   * that would use it degrades and says so. `why` then says what is lost.
   */
  granted: boolean;
  /** Needed by every change (install, scale, tolerations, uninstall, recover): checked before one writes. */
  forChanges?: boolean;
}

const ALL: Verb[] = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
const READ: Verb[] = ['get', 'list', 'watch'];

/** The objects the chart renders, and that helm creates, changes and deletes: everything, on each. */
const CHART_OBJECTS: [string, string][] = [
  ['', 'services'],
  ['', 'configmaps'],
  ['', 'persistentvolumeclaims'],
  ['apps', 'statefulsets'],
  ['apps', 'deployments'],
  ['policy', 'poddisruptionbudgets'],
  ['networking.k8s.io', 'networkpolicies'],
];

export const PERMISSIONS: PermissionRule[] = [
  // Helm keeps each revision of a release in a Secret; the chart's Redis password is one too.
  {
    apiGroup: '',
    resource: 'secrets',
    verbs: ALL,
    scope: 'namespace',
    why: "helm's release records and the chart's Redis Secret (list, status and uninstall read the latter's metadata only)",
    granted: true,
    forChanges: true,
  },
  ...CHART_OBJECTS.map(([apiGroup, resource]): PermissionRule => ({
    apiGroup,
    resource,
    verbs: ALL,
    scope: 'namespace',
    why: 'the objects of the chart: helm creates, changes and deletes them; every command reads them',
    granted: true,
    forChanges: true,
  })),
  {
    apiGroup: '',
    resource: 'pods',
    verbs: [...READ, 'patch', 'delete'],
    scope: 'namespace',
    why: 'the rooms: read everywhere; patch marks rooms Allocated or Draining; delete is recover --force-delete',
    granted: true,
    forChanges: true,
  },
  {
    apiGroup: 'apps',
    resource: 'statefulsets/scale',
    verbs: ['get', 'update'],
    scope: 'namespace',
    why: 'scale --sync and the scale-down that spares rooms in use',
    granted: true,
  },
  {
    apiGroup: 'apps',
    resource: 'replicasets',
    verbs: ['list', 'watch'],
    scope: 'namespace',
    why: "helm --wait follows the Redis Deployment's rollout",
    granted: true,
    forChanges: true,
  },
  {
    apiGroup: 'discovery.k8s.io',
    resource: 'endpointslices',
    verbs: READ,
    scope: 'namespace',
    why: 'endpoints, status and list: which per-pod Service has a ready endpoint',
    granted: true,
  },
  {
    apiGroup: 'coordination.k8s.io',
    resource: 'leases',
    verbs: ['get', 'create', 'update', 'delete'],
    scope: 'namespace',
    why: 'the per-release lock every change holds (<release>-expose-pods-lock)',
    granted: true,
    forChanges: true,
  },
  {
    apiGroup: '',
    resource: 'namespaces',
    verbs: ['get'],
    scope: 'namespace',
    why: 'install checks that the namespace exists (a namespace may read itself through a RoleBinding)',
    granted: true,
  },
  {
    apiGroup: '',
    resource: 'nodes',
    verbs: READ,
    scope: 'cluster',
    why: "endpoints: each room's node address; pod slots; recover: which nodes are lost",
    granted: true,
    forChanges: true,
  },
  {
    apiGroup: '',
    resource: 'nodes',
    verbs: ['patch'],
    scope: 'cluster',
    why: 'recover --out-of-service taints a lost node',
    granted: true,
  },
  {
    apiGroup: '',
    resource: 'services',
    verbs: ['list'],
    scope: 'cluster',
    why: 'nodePort collisions and the NodePort budget: every Service in the cluster takes ports from the same range',
    granted: true,
  },
  {
    apiGroup: '',
    resource: 'pods',
    verbs: ['list'],
    scope: 'cluster',
    why: 'the pod-slot budget: pods bound to the nodes the rooms can use, in every namespace',
    granted: true,
  },
  {
    apiGroup: 'networking.k8s.io',
    resource: 'servicecidrs',
    verbs: ['list'],
    scope: 'cluster',
    why: 'the ClusterIP budget (Kubernetes 1.33+)',
    granted: true,
  },
  {
    apiGroup: 'networking.k8s.io',
    resource: 'ipaddresses',
    verbs: ['list'],
    scope: 'cluster',
    why: 'the ClusterIP budget (Kubernetes 1.33+)',
    granted: true,
  },
  {
    apiGroup: '',
    resource: 'namespaces',
    verbs: ['list'],
    scope: 'cluster',
    why: 'not granted: completion of -n lists namespaces; without it, it offers none',
    granted: false,
  },
  {
    apiGroup: '',
    resource: 'namespaces',
    verbs: ['create'],
    scope: 'cluster',
    why: 'not granted: install --create-namespace; a namespaced user installs into a namespace that exists',
    granted: false,
  },
  {
    apiGroup: '',
    resource: 'secrets',
    verbs: ['list'],
    scope: 'cluster',
    why: "not granted (it would read every Secret): list -A and check-certs' TLS Secrets in all namespaces; without it list -A says so, check-certs skips them",
    granted: false,
  },
  {
    apiGroup: '',
    resource: 'configmaps',
    verbs: ['get'],
    scope: 'cluster',
    why: "not granted: kube-system's kube-proxy configuration, for the NodePort address warning; without it the warning is not given",
    granted: false,
  },
  {
    apiGroup: 'admissionregistration.k8s.io',
    resource: 'validatingwebhookconfigurations',
    verbs: ['list'],
    scope: 'cluster',
    why: "not granted: check-certs reads webhooks' caBundles; without it, it skips them",
    granted: false,
  },
  {
    apiGroup: 'admissionregistration.k8s.io',
    resource: 'mutatingwebhookconfigurations',
    verbs: ['list'],
    scope: 'cluster',
    why: "not granted: check-certs reads webhooks' caBundles; without it, it skips them",
    granted: false,
  },
  {
    apiGroup: 'apiregistration.k8s.io',
    resource: 'apiservices',
    verbs: ['list'],
    scope: 'cluster',
    why: "not granted: check-certs reads APIServices' caBundles; without it, it skips them",
    granted: false,
  },
];

/** Whether the table allows a verb on a resource at a scope (granted rules only when `grantedOnly`). */
export function covers(
  rules: readonly PermissionRule[],
  want: { apiGroup: string; resource: string; verb: string; scope: 'namespace' | 'cluster' },
  grantedOnly = false,
): boolean {
  return rules.some(
    (r) =>
      (!grantedOnly || r.granted) &&
      r.apiGroup === want.apiGroup &&
      r.resource === want.resource &&
      (r.verbs as string[]).includes(want.verb) &&
      // A cluster-wide grant covers the namespace too.
      (r.scope === want.scope || r.scope === 'cluster'),
  );
}

/** Who the permissions are for: `rbac --serviceaccount NS:NAME`, `--user NAME` or `--group NAME`. */
export type RbacSubject =
  | { kind: 'ServiceAccount'; name: string; namespace: string }
  | { kind: 'User'; name: string }
  | { kind: 'Group'; name: string };

/** The RBAC objects `rbac` prints, as plain objects (with the reason of each rule beside it). */
export interface RbacObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels: Record<string, string> };
  rules?: { apiGroups: string[]; resources: string[]; verbs: Verb[] }[];
  roleRef?: { apiGroup: string; kind: string; name: string };
  subjects?: Record<string, string>[];
  /** One line per rule: printed as a comment above it. */
  reasons?: string[];
}

function subjectOf(s: RbacSubject): Record<string, string> {
  return s.kind === 'ServiceAccount'
    ? { kind: 'ServiceAccount', name: s.name, namespace: s.namespace }
    : { kind: s.kind, apiGroup: 'rbac.authorization.k8s.io', name: s.name };
}

/** A name for a binding of this subject: lower case, what RBAC object names allow. */
function subjectSlug(s: RbacSubject): string {
  const raw =
    s.kind === 'ServiceAccount' ? `sa-${s.namespace}-${s.name}` : `${s.kind.toLowerCase()}-${s.name}`;
  return raw
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 200);
}

/**
 * The Role (the release's namespace) and the ClusterRole (cluster-scoped
 * reads) that every command needs, and their bindings to the subject: the
 * granted rules of PERMISSIONS, nothing more.
 */
export function rbacObjects(namespace: string, subject: RbacSubject): RbacObject[] {
  const labels = { 'app.kubernetes.io/managed-by': 'kubectl-expose-pods' };
  const rulesOf = (scope: 'namespace' | 'cluster') => {
    const rules = PERMISSIONS.filter((r) => r.granted && r.scope === scope);
    return {
      rules: rules.map((r) => ({ apiGroups: [r.apiGroup], resources: [r.resource], verbs: r.verbs })),
      reasons: rules.map((r) => r.why),
    };
  };
  const role = 'kubectl-expose-pods';
  const binding = `kubectl-expose-pods-${subjectSlug(subject)}`;
  const subjects = [subjectOf(subject)];
  const rbac = 'rbac.authorization.k8s.io/v1';
  return [
    { apiVersion: rbac, kind: 'Role', metadata: { name: role, namespace, labels }, ...rulesOf('namespace') },
    {
      apiVersion: rbac,
      kind: 'RoleBinding',
      metadata: { name: binding, namespace, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role },
      subjects,
    },
    { apiVersion: rbac, kind: 'ClusterRole', metadata: { name: role, labels }, ...rulesOf('cluster') },
    {
      apiVersion: rbac,
      kind: 'ClusterRoleBinding',
      metadata: { name: binding, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
      subjects,
    },
  ];
}

/** The (verb, resource) pairs a change needs before it writes: each granted rule marked forChanges. */
export function changeRequirements(): {
  apiGroup: string;
  resource: string;
  verb: Verb;
  scope: 'namespace' | 'cluster';
}[] {
  return PERMISSIONS.filter((r) => r.granted && r.forChanges).flatMap((r) =>
    r.verbs.map((verb) => ({ apiGroup: r.apiGroup, resource: r.resource, verb, scope: r.scope })),
  );
}

/** "list nodes", "create leases.coordination.k8s.io": how kubectl auth can-i names a permission. */
export function permissionName(p: { apiGroup: string; resource: string; verb: string }): string {
  return `${p.verb} ${p.resource}${p.apiGroup ? `.${p.apiGroup}` : ''}`;
}
