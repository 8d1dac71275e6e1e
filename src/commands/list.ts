import { Flags } from '@oclif/core';

import { BaseCommand } from '../base-command.js';
import { ExitCode } from '../errors.js';
import { kubeFlags, kubeFlagValues, noHeadersFlag, outputFlag } from '../flags.js';
import type { ListReport } from '../ops/list.js';

export default class List extends BaseCommand {
  static override summary = 'Every release of the chart, with the same health verdict as status.';

  static override description = `Finds the releases from Helm's release Secrets (no helm process), in the namespace (-n, or the context's) or in every namespace (-A), and shows for each: pods ready of desired, its per-pod Services and the nodePorts they hold, Redis, Helm's revision and status, and HEALTH, the verdict status gives (healthy, or degraded with each kind of problem). It takes one list of Helm's Secrets, the cluster-wide lists status reads once, and seven lists per namespace with a release, whatever the number of rooms.

-o name prints each release's name, one per line, as helm list -q does (a release is not a Kubernetes object, so there is no kind/ before it).

Exit codes: 0 every release healthy (or none), 8 at least one degraded.`;

  static override examples = [
    'kubectl expose-pods list',
    'kubectl expose-pods list -A',
    {
      description: 'For a script: every degraded release, as JSON:',
      command: 'kubectl expose-pods list -A -o json',
    },
  ];

  static override flags = {
    ...kubeFlags,
    'all-namespaces': Flags.boolean({
      char: 'A',
      description: 'Releases in every namespace, not only --namespace.',
      default: false,
    }),
    output: outputFlag(['table', 'json', 'yaml', 'name']),
    'no-headers': noHeadersFlag,
  };

  async run(): Promise<ListReport> {
    const { flags } = await this.parse(List);
    const { listReleases } = await import('../ops/list.js');
    const { line, renderNames } = await import('../output/format.js');
    const { formatList } = await import('../output/list.js');
    const report = await listReleases({
      kube: kubeFlagValues(flags),
      allNamespaces: flags['all-namespaces'],
      warn: (m) => {
        this.printer.warn(m);
      },
    });
    await this.print(report, flags.output, {
      table: (r) => line(formatList(r, { headers: !flags['no-headers'] })),
      name: (r) => renderNames(r.releases.map((x) => x.name)),
    });
    if (report.releases.some((r) => !r.healthy)) this.exit(ExitCode.DEGRADED);
    return report;
  }
}
