import { Flags, type Interfaces } from '@oclif/core';

import { BaseCommand } from '../base-command.js';
import {
  releaseArg,
  kubeFlags,
  kubeFlagValues,
  helmFlags,
  outputFlag,
  yesFlag,
  timeoutFlag,
  waitReachableFlag,
} from '../flags.js';
import type { ScaleResult } from '../ops/scale.js';
import { progressLine } from '../core/progress.js';
import { rolloutLine } from '../core/rollout.js';

export default class Scale extends BaseCommand {
  static override summary = 'Change the number of rooms and keep the per-pod Services in step.';

  static override description = `kubectl scale changes a StatefulSet's replicas but creates no per-pod Services, and the next helm upgrade undoes it. This changes room.replicas through the release instead: helm upgrade with your own values reused and room.replicas=N, so the Services follow from the chart (expose.count follows N unless you pinned it) and later upgrades keep the count.

It prints the plan first: pods to create or remove (from the highest ordinal down, as a StatefulSet does), Services to add or remove with their nodePorts, the PVCs removed pods leave behind, and the cluster's NodePorts, ClusterIPs and pod slots before and after (a warning from 80%). --dry-run stops there. Then it checks, changing nothing if any fails: the release exists and no other operation holds it; the new pods fit the free pod slots of the nodes the rooms can use (with room.onePerNode, one node each); every new nodePort is free (a port held by another Service names it); no Service it adds exists outside the release (exit 9, naming it); and the API server accepts the changed objects (server-side dry run: the NodePort range, quotas, admission).

Rooms in use (Allocated by kubectl expose-pods allocate) are spared. Every room a scale-down removes is first marked Draining (expose-pods.io/draining=true), so no new match is allocated there; the plan names the rooms in use among them, and the scale waits, with progress and within --timeout, until their matches end (deallocate), then scales. On timeout it exits 15 with the replica count unchanged and the rooms left Draining: run the same scale again to go on waiting, or scale to the current count to return them to service. --delete-in-use removes rooms in use anyway, after a confirmation that names them. Any scale returns rooms it keeps to service (an earlier scale-down that timed out left them Draining).

Removing Ready pods asks first (--yes for scripts; without a terminal it refuses). PVCs are never deleted unless --delete-data: the StatefulSet reattaches them to the same ordinals when you scale up again. It waits with progress (--timeout) and ends with the endpoints added and removed.

--sync adopts the StatefulSet's live replica count (after kubectl scale or an HPA) into the release, creating the missing Services. Rooms above a lowered live count are being removed by the StatefulSet's controller already: the plan names them and the rooms in use among them, and the scale does not wait for them (allocate never hands them out). A concurrent scale of the same release fails with exit 9 and changes nothing (a Lease, <release>-expose-pods-lock, guards it). An interrupted scale is safe to run again: a revision it left pending is rolled back first, and the same command converges.

-o json and -o yaml print the plan and the result; -o name prints statefulset.apps/NAME, the object scaled, as kubectl scale -o name does.`;

  static override examples = [
    'kubectl expose-pods scale rooms -n game --replicas 5',
    {
      description: 'See what a scale down would do, changing nothing:',
      command: 'kubectl expose-pods scale rooms -n game --replicas 1 --dry-run',
    },
    {
      description: 'Adopt a kubectl scale (or HPA) change into the release:',
      command: 'kubectl expose-pods scale rooms -n game --sync',
    },
    'kubectl expose-pods scale rooms -n game --replicas 0 --yes --delete-data',
    {
      description: 'Scale down within 30 minutes, waiting for matches in the rooms removed to end:',
      command: 'kubectl expose-pods scale rooms -n game --replicas 8 --yes --timeout 30m',
    },
  ];

  static override args = {
    release: releaseArg,
  };

  static override flags = {
    ...kubeFlags,
    ...helmFlags,
    replicas: Flags.integer({ char: 'r', description: 'The number of rooms (pods) wanted.', min: 0 }),
    sync: Flags.boolean({
      description: "Adopt the StatefulSet's current replica count into the release.",
      default: false,
      exclusive: ['replicas'],
    }),
    'dry-run': Flags.boolean({
      description: 'Print the plan and the checks; change nothing.',
      default: false,
    }),
    yes: yesFlag(),
    'delete-data': Flags.boolean({
      description: 'Also delete the PVCs of removed ordinals (asks first).',
      default: false,
    }),
    'delete-in-use': Flags.boolean({
      description:
        'Remove rooms in use (Allocated) with their matches, after a confirmation that names them, instead of waiting until they are freed.',
      default: false,
    }),
    timeout: timeoutFlag('How long to wait for the pods, as a duration.'),
    'wait-reachable': waitReachableFlag,
    output: outputFlag(
      ['text', 'json', 'yaml', 'name'],
      'Output format: text, the plan and result as json or yaml, or the StatefulSet as kubectl names it.',
    ),
  };

  async run(): Promise<ScaleResult> {
    const { args, flags } = await this.parse(Scale);
    const { runScale } = await import('../ops/scale.js');
    const { Progress } = await import('../output/progress.js');
    const { formatPlan, inUseLine } = await import('../output/scale.js');
    const text = flags.output === 'text';
    const result = await Progress.during((progress) =>
      runScale({
        release: args.release,
        kube: kubeFlagValues(flags),
        helmBinary: flags['helm-binary'],
        replicas: flags.replicas,
        sync: flags.sync,
        dryRun: flags['dry-run'],
        deleteData: flags['delete-data'],
        deleteInUse: flags['delete-in-use'],
        timeout: flags.timeout.text,
        onWaitingInUse: (inUse) => {
          progress.update(inUseLine(inUse));
        },
        warn: (m) => {
          this.printer.warn(m);
        },
        onPlan: (plan) => {
          if (text) this.log(formatPlan(plan, flags['delete-data'], flags['delete-in-use']));
        },
        confirm: this.confirmer(flags.yes),
        onProgress: (p) => {
          progress.update(progressLine(p));
        },
        onRollout: (p) => {
          progress.update(rolloutLine(p));
        },
      }),
    );
    await this.show(result, flags);
    return result;
  }

  /** -o json, yaml or name (after --wait-reachable); otherwise the outcome, the endpoints that changed, and the PVCs. */
  private async show(
    result: ScaleResult,
    flags: Interfaces.InferredFlags<typeof Scale.flags>,
  ): Promise<void> {
    const { renderNames } = await import('../output/format.js');
    const { formatChanges, names } = await import('../output/scale.js');
    const { plan } = result;
    const reachable =
      flags['wait-reachable'] && result.applied && !flags['dry-run'] && plan.to > 0
        ? () =>
            this.waitReachable(
              { release: plan.release, ...kubeFlagValues(flags), namespace: plan.namespace },
              flags.timeout.text,
            )
        : undefined;
    if (flags.output !== 'text') {
      if (reachable) await reachable();
      // -o name: as kubectl scale -o name, the object scaled.
      await this.print(result, flags.output, {
        name: (r) => renderNames([r.plan.statefulSet], 'statefulset.apps'),
      });
      return;
    }
    if (flags['dry-run']) {
      this.printer.success('dry run: the checks passed and nothing was changed');
      return;
    }
    if (!result.applied) return;
    this.printer.success(
      `release ${plan.release} scaled to ${plan.to} in namespace ${plan.namespace}${result.revision ? ` (revision ${result.revision})` : ''}`,
    );
    if (reachable) await reachable();
    this.log(formatChanges(result.changes, `${plan.release} -n ${plan.namespace}`));
    if (result.deletedPvcs.length) this.printer.info(`deleted PVCs: ${names(result.deletedPvcs)}`);
    else if (plan.pvcsLeftBehind.length) {
      this.printer.info(
        `kept PVCs ${names(plan.pvcsLeftBehind)}: scaling up again reattaches them to the same ordinals`,
      );
    }
  }
}
