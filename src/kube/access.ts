import { changeRequirements, optInFlags, permissionName, type Requirement } from '../core/permissions.js';
import { ExitCode } from '../errors.js';
import { kubeApis } from './api.js';
import type { ResolvedKube } from './config.js';
import { KubeApiError } from './errors.js';

/** A permission wanted; with `name`, on that one object (a rule narrowed by resourceNames may allow it). */
export type Wanted = Requirement;

interface ResourceRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

const has = (list: string[] | undefined, x: string) => (list ?? []).some((v) => v === '*' || v === x);

/**
 * Whether one of a SelfSubjectRulesReview's rules allows `w`: on every object
 * of its kind, or, when `w` names one, on that object (a rule's resourceNames).
 */
export function rulesAllow(rules: ResourceRule[], w: Omit<Wanted, 'scope'>): boolean {
  const [base, sub] = w.resource.split('/');
  return rules.some(
    (r) =>
      (!r.resourceNames?.length || (w.name !== undefined && r.resourceNames.includes(w.name))) &&
      has(r.verbs, w.verb) &&
      has(r.apiGroups, w.apiGroup) &&
      (r.resources ?? []).some(
        (x) =>
          x === '*' || x === w.resource || (sub !== undefined && (x === `${base}/*` || x === `*/${sub}`)),
      ),
  );
}

/**
 * What the user may not do of `wanted` in `namespace`, by kubectl auth
 * can-i's reviews: one SelfSubjectRulesReview for the namespace's rules, and
 * a SelfSubjectAccessReview for each cluster-scoped permission and for any the
 * rules review could not settle (it is incomplete under a webhook authorizer).
 */
export async function missingPermissions(
  kube: ResolvedKube,
  namespace: string,
  wanted: Wanted[],
): Promise<Wanted[]> {
  const { k8s, config, call } = await kubeApis(kube);
  const authz = new k8s.AuthorizationV1Api(config);
  const review = await call(
    `create selfsubjectrulesreviews in namespace ${namespace}`,
    authz.createSelfSubjectRulesReview({ body: { spec: { namespace } } }),
  );
  const rules = (review.status?.resourceRules ?? []) as ResourceRule[];
  const complete = review.status?.incomplete !== true;
  const settled = (w: Wanted) => w.scope === 'namespace' && (rulesAllow(rules, w) || complete);
  const unsettled = wanted.filter((w) => !settled(w));
  const allowed = await Promise.all(
    unsettled.map(async (w) => {
      const [resource, subresource] = w.resource.split('/');
      const r = await call(
        `create selfsubjectaccessreviews (can I ${permissionName(w)}?)`,
        authz.createSelfSubjectAccessReview({
          body: {
            spec: {
              resourceAttributes: {
                verb: w.verb,
                group: w.apiGroup,
                resource,
                ...(subresource && { subresource }),
                ...(w.name && { name: w.name }),
                ...(w.scope === 'namespace' && { namespace }),
              },
            },
          },
        }),
      );
      return r.status?.allowed === true;
    }),
  );
  const denied = new Set(unsettled.filter((_, i) => !allowed[i]));
  return wanted.filter((w) => (w.scope === 'namespace' && complete ? !rulesAllow(rules, w) : denied.has(w)));
}

/**
 * Exit 6 before anything is written, when the user lacks a permission a
 * change on `release` needs (by default, what every change needs): every one
 * missing is named, with the rbac command that grants them, and its opt-in
 * flags where only an opt-in grants one.
 */
export async function requireChangePermissions(
  kube: ResolvedKube,
  namespace: string,
  release: string,
  wanted: Wanted[] = changeRequirements(release),
): Promise<void> {
  const missing = await missingPermissions(kube, namespace, wanted);
  if (!missing.length) return;
  const where = (w: Wanted) => (w.scope === 'namespace' ? `in namespace ${namespace}` : 'cluster-wide');
  const names = missing.map((w) => `${permissionName(w)} ${where(w)}`);
  const extra = optInFlags(missing);
  throw new KubeApiError(
    `forbidden: this change needs permissions you do not have, so nothing was changed: ${names.join(', ')}`,
    403,
    'Forbidden',
    ExitCode.FORBIDDEN,
    `Ask a cluster admin to grant ${extra.length ? `them (${extra.join(' ')}: a ClusterRole of its own, not granted by default)` : 'what every command needs'}: kubectl expose-pods rbac -n ${namespace} --release ${release}${extra.map((f) => ` ${f}`).join('')} --user NAME | kubectl apply -f - (or --group, --serviceaccount NS:NAME).`,
  );
}
