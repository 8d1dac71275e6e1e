import { Flags, type Interfaces } from '@oclif/core';

import { BaseCommand } from '../base-command.js';
import {
  kubeFlags,
  kubeFlagValues,
  noHeadersFlag,
  outputFlag,
  releaseArg,
  timeoutFlag,
  yesFlag,
} from '../flags.js';
import { OUT_OF_SERVICE_TAINT } from '../core/recover.js';
import type { RecoverAction, RecoverResult } from '../ops/recover.js';

const TAINT = `${OUT_OF_SERVICE_TAINT.key}=${OUT_OF_SERVICE_TAINT.value}:${OUT_OF_SERVICE_TAINT.effect}`;

const RISK: Record<RecoverAction, string> = {
  'force-delete':
    'force-deleting removes the pod without its kubelet confirming it stopped: if the node is in fact alive (a network partition), two pods with the same identity may run until it notices',
  'out-of-service': `tainting the node ${TAINT} tells Kubernetes it is shut down: its pods are deleted and their volumes detached. Only do this when the node is really off. Remove the taint when it is back: kubectl taint nodes <node> ${OUT_OF_SERVICE_TAINT.key}-`,
};

export default class Recover extends BaseCommand {
  static override summary =
    "Recover the release's pods stuck on a lost node: the step Kubernetes leaves to you.";

  static override description = `A StatefulSet pod on a node that stopped reporting is evicted after its toleration, but it then stays Terminating: nothing can confirm it stopped, and the StatefulSet will not start a second pod with the same name (kubernetes/kubernetes#54368). Without an action this lists the release's pods on NotReady or Unknown nodes (stuck: Terminating; at risk: not evicted yet), with the node's condition and for how long, and each room's STATE (Allocated: a match ran there when the node was lost), and changes nothing.

Two correct actions, each after a confirmation (--yes for scripts; without a terminal it refuses):
  --force-delete    delete the pod with grace period 0, so the StatefulSet recreates it on a Ready node
  --out-of-service  taint its node ${TAINT} (non-graceful node shutdown): Kubernetes deletes the node's pods and detaches their volumes

The confirmation names the rooms in use it deletes; --out-of-service taints the whole node, so with --pod it names the other rooms on that node too. A node only cut off (a network partition) may still run the old match while the replacement, which starts Free, is allocated to a new one.

Pods on Ready nodes are never touched (--pod naming one is refused, exit 9). After acting, it waits for each replacement to be Ready on another node (--timeout) and prints its new endpoint: the host:port the matchmaker must hand out now.

-o name prints pod/NAME of each pod on a lost node (what an action touches), one per line.`;

  static override examples = [
    'kubectl expose-pods recover rooms -n game',
    'kubectl expose-pods recover rooms -n game --force-delete',
    'kubectl expose-pods recover rooms -n game --out-of-service --yes',
  ];

  static override args = {
    release: releaseArg,
  };

  static override flags = {
    ...kubeFlags,
    'force-delete': Flags.boolean({
      description: 'Force-delete the pods on lost nodes (grace period 0).',
      default: false,
      exclusive: ['out-of-service'],
    }),
    'out-of-service': Flags.boolean({
      description: `Taint their nodes ${TAINT}. Needs patch on nodes, which rbac grants only with --out-of-service (exit 6 without it, before anything is written).`,
      default: false,
    }),
    pod: Flags.string({ description: 'Only this pod.' }),
    yes: yesFlag(),
    timeout: timeoutFlag('How long to wait for the replacements, as a duration.'),
    output: outputFlag(['table', 'json', 'yaml', 'name']),
    'no-headers': noHeadersFlag,
  };

  async run(): Promise<RecoverResult> {
    const { args, flags } = await this.parse(Recover);
    const { runRecover } = await import('../ops/recover.js');
    const { Progress } = await import('../output/progress.js');
    const timeoutMs = flags.timeout.ms;
    const action: RecoverAction | undefined = flags['force-delete']
      ? 'force-delete'
      : flags['out-of-service']
        ? 'out-of-service'
        : undefined;
    const result = await Progress.during((progress) =>
      runRecover({
        release: args.release,
        kube: kubeFlagValues(flags),
        pod: flags.pod,
        action,
        timeoutMs,
        warn: (m) => {
          this.printer.warn(m);
        },
        onWaiting: (t) => {
          progress.update(t);
        },
        onTargets: (targets, a) => {
          this.printer.warn(`${targets.map((t) => `${t.pod} (on ${t.node ?? '?'})`).join(', ')}: ${RISK[a]}`);
        },
        confirm: this.confirmer(flags.yes),
      }),
    );
    await this.show(result, flags);
    return result;
  }

  /** -o json, yaml or name; otherwise the pods on lost nodes, what was done, and where each replacement runs. */
  private async show(
    result: RecoverResult,
    flags: Interfaces.InferredFlags<typeof Recover.flags>,
  ): Promise<void> {
    const { renderNames } = await import('../output/format.js');
    const { formatLostPods, formatReplacements } = await import('../output/recover.js');
    if (flags.output !== 'table') {
      await this.print(result, flags.output, { name: (r) => renderNames(r.targets, 'pod') });
      return;
    }
    if (!result.pods.some((p) => p.state === 'stuck' || p.state === 'at-risk')) {
      this.printer.success(`no pod of release ${result.release} is on a lost node`);
      return;
    }
    this.log(formatLostPods(result, { headers: !flags['no-headers'] }));
    if (!result.action) {
      this.printer.info(
        `Recover with --force-delete (the pod) or --out-of-service (the node): kubectl expose-pods recover ${result.release} -n ${result.namespace} --help`,
      );
      return;
    }
    for (const n of result.taintedNodes) {
      this.printer.info(
        `tainted ${n}; when it is back: kubectl taint nodes ${n} ${OUT_OF_SERVICE_TAINT.key}-`,
      );
    }
    this.printer.success(`recovered ${result.replacements.length} pod(s):`);
    this.log(formatReplacements(result, { headers: !flags['no-headers'] }));
  }
}
