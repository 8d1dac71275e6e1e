import { Flags } from '@oclif/core';

import { BaseCommand } from '../base-command.js';
import { kubeFlags, kubeFlagValues, noHeadersFlag, outputFlag, releaseArg } from '../flags.js';
import type { StatusReport } from '../core/status.js';
import { ExitCode } from '../errors.js';

export default class Status extends BaseCommand {
  static override summary = 'Is the exposure healthy? One screen, and an exit code scripts can gate on.';

  static override description = `Reads the Helm release (its newest revision, from Helm's release Secrets: no helm process) and the cluster (by the chart's labels) and reports: chart, app version and revision; replicas desired, current and ready; for each ordinal the pod's phase, readiness and node, and whether its per-pod Service exists and has a ready endpoint; pods without a Service (after kubectl scale or an HPA); Services without a pod; nodes with no usable address; nodePorts the release expects that another Service holds; LoadBalancer rooms (externalTrafficPolicy Local) that no node would pass the load balancer's health check for; and Redis (pod ready, PVC bound, Secret present).

BUDGET shows the ceilings every release in the cluster shares, each with this release's share and a note at 80% used: NodePorts (used by every Service in the cluster, free, the largest free block), ClusterIPs (from the ServiceCIDR and IPAddress objects of Kubernetes 1.33+; otherwise it says why it cannot be known) and pod slots (allocatable minus bound, on the nodes the rooms can use: Ready, uncordoned, matching their nodeSelector and required node affinity, their taints tolerated). Problems are grouped by kind: more than three of a kind become one line with ordinal ranges and a count (pods 1000–1499 (500): no per-pod Service ...). On a terminal the verdict also comes before the table. -o json lists every problem, with its ordinal.

Exit code 0 when healthy, 8 when degraded, 7 when the release does not exist.`;

  static override examples = [
    'kubectl expose-pods status',
    'kubectl expose-pods status rooms -n game',
    'kubectl expose-pods status rooms -n game -o json',
  ];

  static override args = {
    release: releaseArg,
  };

  static override flags = {
    ...kubeFlags,
    // Accepted so that scripts written for earlier versions still run: status no longer starts helm.
    'helm-binary': Flags.string({
      hidden: true,
      description: 'Ignored: status reads the release without helm.',
    }),
    output: outputFlag(['table', 'json', 'yaml']),
    'no-headers': noHeadersFlag,
  };

  async run(): Promise<StatusReport> {
    const { args, flags } = await this.parse(Status);
    const { releaseStatus } = await import('../ops/status.js');
    const { line } = await import('../output/format.js');
    const { formatStatus } = await import('../output/status.js');
    const { report, collisionsUnchecked } = await releaseStatus({
      release: args.release,
      kube: kubeFlagValues(flags),
    });
    if (collisionsUnchecked)
      this.printer.warn(
        'not allowed to list Services in all namespaces: nodePort collisions were not checked',
      );
    await this.print(report, flags.output, {
      table: (r) => line(formatStatus(r, process.stdout.isTTY, { headers: !flags['no-headers'] })),
    });
    if (!report.healthy) this.exit(ExitCode.DEGRADED);
    return report;
  }
}
