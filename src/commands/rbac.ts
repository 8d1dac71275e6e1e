import { Flags } from '@oclif/core';

import { BaseCommand } from '../base-command.js';
import { UsageError } from '../errors.js';
import { outputFlag } from '../flags.js';

export default class Rbac extends BaseCommand {
  static override summary = 'Print the least RBAC every command needs in one namespace, for kubectl apply.';

  static override description = `Prints what every day-to-day command of the plugin needs on releases in one namespace (install, endpoints, allocate, deallocate, status, list, scale, tolerations, recover --force-delete, check-certs, uninstall), and what the helm it runs needs, bound to one subject: a ServiceAccount, a user or a group. Each rule says why, in a comment. Nothing is read from or written to the cluster: pipe it to kubectl apply -f - as a cluster admin.

By default: a Role in the namespace (Helm's release Secrets, the chart's objects, the rooms' pods, creating the lock's Lease), a Role of the lock's own Leases (narrowed to the Lease of each --release given; without --release, every Lease of the namespace), and a ClusterRole that reads nodes. Object names carry a hash of the exact subject, so two subjects never share a binding.

Not granted by default, each a ClusterRole of its own with a comment saying what it allows beyond our use: --out-of-service (patch nodes, for recover --out-of-service; without it that action is refused with exit 6 before anything is written), --cluster-budget (list Services, ServiceCIDRs and IPAddresses in the whole cluster: the NodePort and ClusterIP budgets and the nodePort collision check; without it they are reported unknown) and --pod-slots (list pods in all namespaces: the pod-slot budget; without it it is unknown).

The rules come from the same table the plugin checks its permissions against before a change writes anything (exit 6 names what is missing). Never granted, each too wide for a namespaced user: listing Secrets in all namespaces (list -A, and check-certs' TLS Secrets), webhooks and APIServices (check-certs skips them), namespaces (install --create-namespace, completion of -n), and kube-system's kube-proxy ConfigMap (the NodePort address warning is not given).`;

  static override examples = [
    'kubectl expose-pods rbac -n game --release rooms --serviceaccount game:matchmaker | kubectl apply -f -',
    'kubectl expose-pods rbac -n game --release rooms --user alice@example.com > expose-pods-rbac.yaml',
    'kubectl expose-pods rbac -n game --release rooms --group game-ops --out-of-service -o json',
  ];

  static override flags = {
    namespace: Flags.string({ char: 'n', description: 'The namespace of the releases.', required: true }),
    serviceaccount: Flags.string({
      description: 'The subject: a ServiceAccount, as NAMESPACE:NAME.',
      exactlyOne: ['serviceaccount', 'user', 'group'],
    }),
    user: Flags.string({
      description: 'The subject: a user, as the API server authenticates it.',
      exactlyOne: ['serviceaccount', 'user', 'group'],
    }),
    group: Flags.string({
      description: 'The subject: a group.',
      exactlyOne: ['serviceaccount', 'user', 'group'],
    }),
    release: Flags.string({
      description:
        "A release the subject may change (repeatable): the lock's rights are narrowed to its Lease. Without it, they cover every Lease of the namespace.",
      multiple: true,
    }),
    'out-of-service': Flags.boolean({
      description:
        'Also grant patch on nodes (a ClusterRole of its own), which recover --out-of-service needs: it lets the subject taint, cordon or relabel any node.',
      default: false,
    }),
    'cluster-budget': Flags.boolean({
      description:
        'Also grant listing Services, ServiceCIDRs and IPAddresses in the whole cluster (a ClusterRole of its own), for the NodePort and ClusterIP budgets.',
      default: false,
    }),
    'pod-slots': Flags.boolean({
      description:
        'Also grant listing pods in all namespaces (a ClusterRole of its own), for the pod-slot budget: it reads every pod spec, env values included.',
      default: false,
    }),
    output: outputFlag(['yaml', 'json']),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Rbac);
    const { rbacObjects } = await import('../core/permissions.js');
    const { releaseNameProblem } = await import('../core/release.js');
    for (const r of flags.release ?? []) {
      const problem = releaseNameProblem(r);
      if (problem) throw new UsageError(`--release ${r}: ${problem}`);
    }
    const { formatRbacJson, formatRbacYaml } = await import('../output/rbac.js');
    const objects = rbacObjects(flags.namespace, this.subject(flags), {
      releases: flags.release ?? [],
      optIns: (['out-of-service', 'cluster-budget', 'pod-slots'] as const).filter((o) => flags[o]),
    });
    if (!flags.release?.length)
      this.printer.warn(
        `no --release given: the lock's rights (get, update, delete) cover every Lease of namespace ${flags.namespace}, other controllers' included; name each release with --release to narrow them`,
      );
    process.stdout.write(flags.output === 'json' ? formatRbacJson(objects) : formatRbacYaml(objects));
  }

  /** The subject of --serviceaccount, --user or --group (oclif lets exactly one through). */
  private subject(flags: { serviceaccount?: string; user?: string; group?: string }) {
    if (flags.serviceaccount !== undefined) {
      const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?):([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/.exec(
        flags.serviceaccount,
      );
      if (!m?.[1] || !m[3])
        throw new UsageError(
          `--serviceaccount ${flags.serviceaccount}: give it as NAMESPACE:NAME`,
          'For example: --serviceaccount game:matchmaker',
        );
      return { kind: 'ServiceAccount' as const, namespace: m[1], name: m[3] };
    }
    if (flags.user !== undefined) return { kind: 'User' as const, name: flags.user };
    return { kind: 'Group' as const, name: flags.group ?? '' };
  }
}
