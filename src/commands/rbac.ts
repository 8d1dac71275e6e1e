import { Flags } from '@oclif/core';

import { BaseCommand } from '../base-command.js';
import { UsageError } from '../errors.js';
import { outputFlag } from '../flags.js';

export default class Rbac extends BaseCommand {
  static override summary = 'Print the least RBAC every command needs in one namespace, for kubectl apply.';

  static override description = `Prints a Role in the namespace, a ClusterRole, and their bindings to one subject: a ServiceAccount, a user or a group. Together they grant what every command of the plugin needs to work on releases in that namespace (install, endpoints, allocate, deallocate, status, list, scale, tolerations, recover, check-certs, uninstall), and what the helm it runs needs; each rule says why, in a comment. Nothing is read from or written to the cluster: pipe it to kubectl apply -f - as a cluster admin.

The rules come from the same table the plugin checks its permissions against before a change writes anything (exit 6 names what is missing). Left out on purpose, each too wide for a namespaced user: listing Secrets in all namespaces (list -A, and check-certs' TLS Secrets), webhooks and APIServices (check-certs skips them), namespaces (install --create-namespace, completion of -n), and kube-system's kube-proxy ConfigMap (the NodePort address warning is not given).`;

  static override examples = [
    'kubectl expose-pods rbac -n game --serviceaccount game:matchmaker | kubectl apply -f -',
    'kubectl expose-pods rbac -n game --user alice@example.com > expose-pods-rbac.yaml',
    'kubectl expose-pods rbac -n game --group game-ops -o json',
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
    output: outputFlag(['yaml', 'json']),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Rbac);
    const { rbacObjects } = await import('../core/permissions.js');
    const { formatRbacJson, formatRbacYaml } = await import('../output/rbac.js');
    let subject: Parameters<typeof rbacObjects>[1];
    if (flags.serviceaccount !== undefined) {
      const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?):([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/.exec(
        flags.serviceaccount,
      );
      if (!m?.[1] || !m[3])
        throw new UsageError(
          `--serviceaccount ${flags.serviceaccount}: give it as NAMESPACE:NAME`,
          'For example: --serviceaccount game:matchmaker',
        );
      subject = { kind: 'ServiceAccount', namespace: m[1], name: m[3] };
    } else if (flags.user !== undefined) subject = { kind: 'User', name: flags.user };
    else subject = { kind: 'Group', name: flags.group ?? '' };
    const objects = rbacObjects(flags.namespace, subject);
    process.stdout.write(flags.output === 'json' ? formatRbacJson(objects) : formatRbacYaml(objects));
  }
}
