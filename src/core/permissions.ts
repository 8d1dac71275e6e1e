/**
 * Every permission the plugin and the helm it runs use, in one table: what
 * `kubectl expose-pods rbac` grants, what a change checks before it writes,
 * and what test/unit/permissions.test.ts compares with every request in the
 * code (and the kinds the chart renders), so that a new request without a
 * rule fails CI.
 */
import { createHash } from 'node:crypto';

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
  /**
   * Granted only when `rbac` is given this opt-in flag, as a ClusterRole of
   * its own (OPT_INS): what a rare command needs, or a budget that degrades without it.
   */
  optIn?: OptIn;
  /**
   * Narrowed to the lock's Lease of each release `rbac --release` names
   * (resourceNames): RBAC checks names for get, update, patch and delete only.
   */
  lockNames?: boolean;
}

/** The opt-in grants of `rbac`: each its own ClusterRole, printed only when its flag is given. */
export type OptIn = 'out-of-service' | 'cluster-budget' | 'pod-slots';

/** Each opt-in: the `rbac` flag that prints it, its ClusterRole, and what it allows beyond our use. */
export const OPT_INS: Record<OptIn, { flag: string; role: string; beyond: string }> = {
  'out-of-service': {
    flag: '--out-of-service',
    role: 'kubectl-expose-pods-out-of-service',
    beyond:
      "Beyond our use (recover --out-of-service taints a lost node that hosts a room): patch on nodes is every node of the cluster and every field of it. The subject can taint any node NoExecute or out-of-service (evicting or force-deleting every pod on it, of every tenant), cordon it, or relabel it to steer where other tenants' pods run. Bind it for an incident, to whom may do that to the whole cluster, and remove the binding after.",
  },
  'cluster-budget': {
    flag: '--cluster-budget',
    role: 'kubectl-expose-pods-cluster-budget',
    beyond:
      "Beyond our use (the NodePort and ClusterIP budgets, and the check that fixed nodePorts are free): list services in every namespace reads every tenant's Services (names, selectors, ports, annotations, external IPs); ServiceCIDRs and IPAddresses show every ClusterIP and the Service that holds it. Read only. Without it the budgets say what they could not count, and the API server alone refuses a nodePort that is taken.",
  },
  'pod-slots': {
    flag: '--pod-slots',
    role: 'kubectl-expose-pods-pod-slots',
    beyond:
      'Beyond our use (the pod-slot budget counts pods bound to each node): list pods in every namespace reads every pod spec of the cluster, env values and args included, which often hold credentials; RBAC cannot narrow a list to metadata. Read only, but treat it as reading Secrets. Without it the pod-slot budget is unknown, and the scheduler alone finds a node full.',
  },
};

/** The Lease the lock on a release is: the one name RBAC's resourceNames can narrow the lock's rights to. */
export function lockLeaseName(release: string): string {
  return `${release}-expose-pods-lock`;
}

/** The Lease the autoscaler of a release holds while it runs (one autoscaler per release); it carries its settings. */
export function autoscalerLeaseName(release: string): string {
  return `${release}-expose-pods-autoscaler`;
}

/** The Leases a narrowed Role names for a release: its lock's and its autoscaler's. */
function leaseNamesOf(release: string): string[] {
  return [lockLeaseName(release), autoscalerLeaseName(release)];
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
    why: 'the rooms: read everywhere; patch marks rooms Allocated, Draining or Cordoned; delete is recover --force-delete',
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
    verbs: ['create'],
    scope: 'namespace',
    why: 'the per-release lock every change holds: creating its Lease (RBAC cannot narrow create to a name: any Lease may be created, none changed by it)',
    granted: true,
    forChanges: true,
  },
  {
    apiGroup: 'coordination.k8s.io',
    resource: 'leases',
    verbs: ['get', 'update', 'delete'],
    scope: 'namespace',
    why: "the lock's own Lease (<release>-expose-pods-lock) and the autoscaler's (<release>-expose-pods-autoscaler): read, renewed and released",
    granted: true,
    forChanges: true,
    lockNames: true,
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
    why: "endpoints: each room's node address; pod slots; recover: which nodes are lost (read only: names, addresses, labels, taints, capacity)",
    granted: true,
    forChanges: true,
  },
  {
    apiGroup: '',
    resource: 'nodes',
    verbs: ['patch'],
    scope: 'cluster',
    why: 'recover --out-of-service taints a lost node; without it that action is refused (exit 6) before anything is written',
    granted: true,
    optIn: 'out-of-service',
  },
  {
    apiGroup: '',
    resource: 'services',
    verbs: ['list'],
    scope: 'cluster',
    why: 'nodePort collisions and the NodePort budget: every Service in the cluster takes ports from the same range; without it the budget is unknown and the API server alone refuses a taken nodePort',
    granted: true,
    optIn: 'cluster-budget',
  },
  {
    apiGroup: 'networking.k8s.io',
    resource: 'servicecidrs',
    verbs: ['list'],
    scope: 'cluster',
    why: 'the ClusterIP budget (Kubernetes 1.33+); without it the budget is unknown',
    granted: true,
    optIn: 'cluster-budget',
  },
  {
    apiGroup: 'networking.k8s.io',
    resource: 'ipaddresses',
    verbs: ['list'],
    scope: 'cluster',
    why: 'the ClusterIP budget (Kubernetes 1.33+); without it the budget is unknown',
    granted: true,
    optIn: 'cluster-budget',
  },
  {
    apiGroup: '',
    resource: 'pods',
    verbs: ['list'],
    scope: 'cluster',
    why: 'the pod-slot budget: pods bound to the nodes the rooms can use, in every namespace; without it the budget is unknown',
    granted: true,
    optIn: 'pod-slots',
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

/** What `rbac` prints beyond the defaults: the releases the lock is narrowed to, and the opt-ins. */
export interface RbacOptions {
  /** The releases whose lock Leases the subject may read, renew and release; none: every Lease of the namespace. */
  releases?: readonly string[];
  optIns?: readonly OptIn[];
}

/** One rule of a Role or ClusterRole. */
export interface RbacRule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: Verb[];
}

/** The RBAC objects `rbac` prints, as plain objects (with the reason of each rule beside it). */
export interface RbacObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels: Record<string, string> };
  rules?: RbacRule[];
  roleRef?: { apiGroup: string; kind: string; name: string };
  subjects?: Record<string, string>[];
  /** One line per rule: printed as a comment above it. */
  reasons?: string[];
  /** Printed as a comment above the object: what it allows beyond our use. */
  comment?: string;
}

function subjectOf(s: RbacSubject): Record<string, string> {
  return s.kind === 'ServiceAccount'
    ? { kind: 'ServiceAccount', name: s.name, namespace: s.namespace }
    : { kind: s.kind, apiGroup: 'rbac.authorization.k8s.io', name: s.name };
}

/** The longest readable part of a subject's id: every name printed stays well within 253 characters. */
const SLUG_MAX = 150;

/**
 * The part of an object's name that stands for one subject: a readable
 * prefix (lower case, DNS-1123) and a hash of the exact subject (kind,
 * namespace, name), so that `Alice` and `alice`, or ServiceAccounts `a-b:c`
 * and `a:b-c`, never share a binding: a second apply would take the first one's access away.
 */
export function subjectId(s: RbacSubject): string {
  const readable =
    s.kind === 'ServiceAccount' ? `sa-${s.namespace}-${s.name}` : `${s.kind.toLowerCase()}-${s.name}`;
  const slug = readable
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, SLUG_MAX)
    .replace(/^-+|-+$/g, '');
  const exact = JSON.stringify([s.kind, s.kind === 'ServiceAccount' ? s.namespace : '', s.name]);
  return `${slug}-${createHash('sha256').update(exact).digest('hex').slice(0, 16)}`;
}

const RBAC_API = 'rbac.authorization.k8s.io/v1';
const ROLE = 'kubectl-expose-pods';
const LABELS = { 'app.kubernetes.io/managed-by': 'kubectl-expose-pods' };

/** A role and its binding to the subject. */
function boundRole(
  kind: 'Role' | 'ClusterRole',
  names: { role: string; binding: string },
  namespace: string | undefined,
  subject: RbacSubject,
  rules: { rules: RbacRule[]; reasons: string[] },
  comment?: string,
): RbacObject[] {
  const where = namespace === undefined ? {} : { namespace };
  return [
    {
      apiVersion: RBAC_API,
      kind,
      metadata: { name: names.role, ...where, labels: LABELS },
      ...(comment && { comment }),
      ...rules,
    },
    {
      apiVersion: RBAC_API,
      kind: kind === 'Role' ? 'RoleBinding' : 'ClusterRoleBinding',
      metadata: { name: names.binding, ...where, labels: LABELS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name: names.role },
      subjects: [subjectOf(subject)],
    },
  ];
}

/** The rules of `rules`, each with its reason; lock rules narrowed to `releases`' Leases when any are given. */
function rulesOf(rules: PermissionRule[], releases: readonly string[]) {
  return {
    rules: rules.map((r): RbacRule => ({
      apiGroups: [r.apiGroup],
      resources: [r.resource],
      ...(r.lockNames && releases.length && { resourceNames: releases.flatMap(leaseNamesOf) }),
      verbs: r.verbs,
    })),
    reasons: rules.map((r) =>
      r.lockNames && !releases.length
        ? `${r.why}. Not narrowed (no --release given): every Lease of the namespace, other controllers' leader-election Leases included`
        : r.why,
    ),
  };
}

/**
 * What `rbac` prints: a Role of the namespaced rules every command needs
 * (the same for every subject, so it is shared), a Role of the lock's own
 * Leases (per subject: it names the releases given), a ClusterRole of the
 * cluster-scoped reads, and a ClusterRole for each opt-in, each bound to the
 * subject under a name unique to it. The granted rules of PERMISSIONS, nothing more.
 */
export function rbacObjects(namespace: string, subject: RbacSubject, opts: RbacOptions = {}): RbacObject[] {
  const id = subjectId(subject);
  const releases = [...new Set(opts.releases ?? [])];
  const granted = PERMISSIONS.filter((r) => r.granted);
  const defaults = (scope: PermissionRule['scope']) => granted.filter((r) => r.scope === scope && !r.optIn);
  const shared = defaults('namespace').filter((r) => !r.lockNames);
  const lock = defaults('namespace').filter((r) => r.lockNames);
  const lockRole = `${ROLE}-lock-${id}`;
  return [
    ...boundRole('Role', { role: ROLE, binding: `${ROLE}-${id}` }, namespace, subject, rulesOf(shared, [])),
    ...boundRole('Role', { role: lockRole, binding: lockRole }, namespace, subject, rulesOf(lock, releases)),
    ...boundRole(
      'ClusterRole',
      { role: ROLE, binding: `${ROLE}-${id}` },
      undefined,
      subject,
      rulesOf(defaults('cluster'), []),
    ),
    ...(Object.keys(OPT_INS) as OptIn[])
      .filter((o) => opts.optIns?.includes(o))
      .flatMap((o) =>
        boundRole(
          'ClusterRole',
          { role: OPT_INS[o].role, binding: `${OPT_INS[o].role}-${id}` },
          undefined,
          subject,
          rulesOf(
            granted.filter((r) => r.optIn === o),
            [],
          ),
          OPT_INS[o].beyond,
        ),
      ),
  ];
}

/** A permission one command needs; `name` when it needs it on one object only (the lock's Lease). */
export interface Requirement {
  apiGroup: string;
  resource: string;
  verb: Verb;
  scope: 'namespace' | 'cluster';
  name?: string;
}

/**
 * What a change needs before it writes: each granted rule marked forChanges,
 * the lock's on the Lease of `release` (all a narrowed Role grants).
 */
export function changeRequirements(release: string): Requirement[] {
  return PERMISSIONS.filter((r) => r.granted && r.forChanges && !r.optIn).flatMap((r) =>
    r.verbs.map((verb) => ({
      apiGroup: r.apiGroup,
      resource: r.resource,
      verb,
      scope: r.scope,
      ...(r.lockNames && { name: lockLeaseName(release) }),
    })),
  );
}

/** What the lock on `release` needs: each rule on leases, by name where a Role may narrow it. */
export function lockRequirements(release: string): Requirement[] {
  return changeRequirements(release).filter((r) => r.resource === 'leases');
}

/** What `autoscale` needs: what every change needs, and the same rights on the autoscaler's own Lease. */
export function autoscalerRequirements(release: string): Requirement[] {
  const own = lockRequirements(release)
    .filter((r) => r.name)
    .map((r) => ({ ...r, name: autoscalerLeaseName(release) }));
  return [...changeRequirements(release), ...own];
}

/** The `rbac` flags that grant what is missing: the opt-in of each rule that covers one. */
export function optInFlags(missing: readonly Omit<Requirement, 'name'>[]): string[] {
  const flags = new Set<string>();
  for (const m of missing)
    for (const r of PERMISSIONS) if (r.optIn && covers([r], m)) flags.add(OPT_INS[r.optIn].flag);
  return [...flags];
}

/** "list nodes", "create leases.coordination.k8s.io": how kubectl auth can-i names a permission. */
export function permissionName(p: {
  apiGroup: string;
  resource: string;
  verb: string;
  name?: string;
}): string {
  return `${p.verb} ${p.resource}${p.apiGroup ? `.${p.apiGroup}` : ''}${p.name ? `/${p.name}` : ''}`;
}
