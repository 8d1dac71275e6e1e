import { Flags, type Interfaces } from '@oclif/core';

import { BaseCommand } from '../base-command.js';
import {
  durationFlag,
  helmFlags,
  kubeFlags,
  kubeFlagValues,
  noHeadersFlag,
  maxUnavailableOf,
  outputFlag,
  releaseArg,
  rolloutFlags,
  timeoutFlag,
} from '../flags.js';
import { progressLine } from '../core/progress.js';
import { rolloutLine } from '../core/rollout.js';
import { DEFAULT_GRACE_SECONDS, type TolerationsReport } from '../core/tolerations.js';
import { UsageError } from '../errors.js';

export default class Tolerations extends BaseCommand {
  static override summary =
    'Failover timing: the not-ready and unreachable tolerations of every pod, and what they add up to.';

  static override description = `When a node stops reporting, the node controller marks it NotReady (or Unknown) after --node-monitor-grace-period and taints it node.kubernetes.io/not-ready or node.kubernetes.io/unreachable with NoExecute. A pod is evicted when its toleration for that taint runs out: 300 s unless the chart sets room.failover.notReadySeconds and room.failover.unreachableSeconds.

For each pod this shows the effective tolerationSeconds read from the live pod (admission defaults filled in) and where they come from (the chart, or the admission default); pods still running an older template than the StatefulSet's are flagged: they need a restart to pick up new values. Then the estimated time to eviction for each failure kind: grace period + tolerationSeconds. The grace period is not readable from the API: --node-monitor-grace-period gives it, ${DEFAULT_GRACE_SECONDS}s by default (Kubernetes 1.32 and later; 40s before), and the output says it is an assumption.

--not-ready and --unreachable set room.failover.notReadySeconds and unreachableSeconds through the release (helm upgrade with your values reused), so they survive later upgrades. Values are whole seconds from 0 to 1h; below 5s a warning says that a network blip will evict pods. The pods then move to the new template: it asks first (--yes for scripts; without a terminal it refuses) and waits with progress. Under the chart's updateStrategy OnDelete, the Free rooms are replaced in batches of --max-unavailable (each delete conditioned on the pod's UID and resourceVersion, so a room allocated meanwhile is left alone) and rooms in use keep their old tolerations until their match ends (deallocate replaces each; --wait-in-use waits for them; --delete-in-use replaces them now, ending their matches). Under RollingUpdate the StatefulSet restarts every pod one at a time, so while any room is Allocated the change is refused (exit 15) unless --delete-in-use. A release whose StatefulSet was scaled outside Helm is refused until scale --sync settles the count, because the upgrade would change it too.

Eviction is not recovery: a StatefulSet pod on a lost node stays Terminating, because nothing can confirm it stopped, and no replacement starts (kubernetes/kubernetes#54368). It takes a force delete of the pod, or the node.kubernetes.io/out-of-service taint.

-o name prints pod/NAME of every pod shown, one per line.`;

  static override examples = [
    'kubectl expose-pods tolerations rooms -n game',
    'kubectl expose-pods tolerations rooms -n game -o json',
    {
      description: 'Fail over in about a minute instead of six (a rolling restart; --yes for scripts):',
      command: 'kubectl expose-pods tolerations rooms -n game --not-ready 10s --unreachable 10s',
    },
    {
      description: 'For a control plane started with --node-monitor-grace-period 20s:',
      command: 'kubectl expose-pods tolerations rooms -n game --node-monitor-grace-period 20s',
    },
  ];

  static override args = {
    release: releaseArg,
  };

  static override flags = {
    ...kubeFlags,
    ...helmFlags,
    // -y first in its group: oclif trims the leading spaces of a group's first row.
    yes: Flags.boolean({
      char: 'y',
      description: 'Answer yes to the confirmation of the rolling restart (for scripts).',
      default: false,
      helpGroup: 'SET',
    }),
    'not-ready': Flags.string({
      description:
        'Set the not-ready tolerationSeconds through the release (room.failover.notReadySeconds): 10s, 1m.',
      helpGroup: 'SET',
    }),
    unreachable: Flags.string({
      description:
        'Set the unreachable tolerationSeconds through the release (room.failover.unreachableSeconds).',
      helpGroup: 'SET',
    }),
    'delete-in-use': Flags.boolean({
      description:
        'Replace rooms in use (Allocated) too, ending their matches; without it they keep their old tolerations until their match ends (under RollingUpdate the change is refused while one is in use, exit 15).',
      default: false,
      helpGroup: 'SET',
    }),
    ...rolloutFlags,
    timeout: timeoutFlag('How long to wait for the rolling restart, as a duration.', 'SET'),
    output: outputFlag(['table', 'json', 'yaml', 'name']),
    'no-headers': noHeadersFlag,
    'node-monitor-grace-period': durationFlag({
      description: "kube-controller-manager's --node-monitor-grace-period, which the API does not expose.",
      default: `${DEFAULT_GRACE_SECONDS}s`,
    }),
  };

  async run(): Promise<TolerationsReport> {
    const { args, flags } = await this.parse(Tolerations);
    const { readTolerations } = await import('../ops/tolerations.js');
    const { line, renderNames } = await import('../output/format.js');
    const { formatTolerations } = await import('../output/tolerations.js');
    const graceMs = flags['node-monitor-grace-period'].ms;
    if (flags['not-ready'] !== undefined || flags.unreachable !== undefined)
      await this.change(args.release, flags);
    const report = await readTolerations({
      release: args.release,
      kube: kubeFlagValues(flags),
      graceSeconds: Math.round(graceMs / 1000),
    });
    await this.print(report, flags.output, {
      table: (r) => line(formatTolerations(r, { headers: !flags['no-headers'] })),
      name: (r) =>
        renderNames(
          r.pods.map((p) => p.pod),
          'pod',
        ),
    });
    if (flags.output === 'table' && report.podsOnOlderTemplate.length) {
      this.printer.warn(
        `${report.podsOnOlderTemplate.join(', ')} run an older template: their tolerations change when they are restarted`,
      );
    }
    return report;
  }

  /** --not-ready and --unreachable: the values set through the release, its pods restarted after a yes. */
  private async change(
    release: string,
    flags: Interfaces.InferredFlags<typeof Tolerations.flags>,
  ): Promise<void> {
    const { parseTolerationSeconds, setTolerations } = await import('../ops/tolerations.js');
    const { Progress } = await import('../output/progress.js');
    const { formatTolerationsChange } = await import('../output/tolerations.js');
    const seconds = (flag: string, v: string | undefined) => {
      if (v === undefined) return undefined;
      const s = parseTolerationSeconds(flag, v);
      if (typeof s === 'string') throw new UsageError(s);
      return s;
    };
    const notReadySeconds = seconds('--not-ready', flags['not-ready']);
    const unreachableSeconds = seconds('--unreachable', flags.unreachable);
    const changed = await Progress.during((progress) =>
      setTolerations({
        release,
        kube: kubeFlagValues(flags),
        helmBinary: flags['helm-binary'],
        notReadySeconds,
        unreachableSeconds,
        timeout: flags.timeout.text,
        deleteInUse: flags['delete-in-use'],
        maxUnavailable: maxUnavailableOf(flags['max-unavailable']),
        waitInUse: flags['wait-in-use'],
        warn: (m) => {
          this.printer.warn(m);
        },
        onProgress: (p) => {
          progress.update(progressLine(p));
        },
        onRollout: (p) => {
          progress.update(rolloutLine(p));
        },
        onChange: (c) => {
          this.printer.info(formatTolerationsChange(c));
        },
        confirm: this.confirmer(flags.yes),
      }),
    );
    if (changed) this.printer.success(`release ${release} updated; the pods now tolerate:`);
    else this.printer.info(`release ${release} already has these values; nothing to change`);
  }
}
