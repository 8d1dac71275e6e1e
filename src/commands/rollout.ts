import { Flags } from '@oclif/core';

import { BaseCommand } from '../base-command.js';
import {
  helmFlags,
  kubeFlags,
  kubeFlagValues,
  maxUnavailableOf,
  outputFlag,
  releaseArg,
  rolloutFlags,
  timeoutFlag,
  yesFlag,
} from '../flags.js';
import { rolloutLine } from '../core/rollout.js';
import { UsageError } from '../errors.js';
import type { RolloutRunResult } from '../ops/rollout-run.js';

export default class Rollout extends BaseCommand {
  static override summary =
    'Move every Free room to the newest build, never restarting a room in use; --restart starts a new revision.';

  static override description = `The chart's StatefulSet uses updateStrategy OnDelete: after its pod template changes (a new image, resources, env, tolerations), the StatefulSet restarts no room by itself. install, tolerations and this command then replace the Free rooms on older revisions: each is deleted on the condition that it is still the pod (UID) and the state (resourceVersion) that was read, so a room allocated a moment earlier is never deleted, and the StatefulSet makes it again on the new revision with the same name, per-pod Service and nodePort. Replacements go in batches of --max-unavailable (a count, or a percentage of the replicas rounded down; at least 1), each Ready before the next, with progress. A room in use keeps its build until its match ends: deallocate replaces it then. allocate hands out no room on an older revision.

Run this to finish a rollout that stopped (Ctrl-C, a timeout, --no-wait, a plain helm upgrade, or a room in use whose match ended without a deallocate). It returns when every Free room is on the newest revision and says which rooms in use still run an older one; --wait-in-use waits for those too (within --timeout: exit 15 on timeout, nothing undone). --restart gives every room a new revision with nothing else changed (room.restartedAt), as kubectl rollout restart does for a Deployment. --delete-in-use replaces rooms in use too, ending their matches.

It prints a plan and asks first (--yes for scripts; without a terminal it refuses); --dry-run prints the plan only. A release whose StatefulSet uses RollingUpdate is refused (exit 9): its controller replaces the rooms itself. -o json and -o yaml print the plan and the result.`;

  static override examples = [
    {
      description: 'Finish a rollout (after a plain helm upgrade, or one that was interrupted):',
      command: 'kubectl expose-pods rollout rooms -n game --yes',
    },
    {
      description: 'Restart every room once it is free, 10 at a time, waiting up to an hour for the matches:',
      command:
        'kubectl expose-pods rollout rooms -n game --restart --max-unavailable 10 --wait-in-use --timeout 1h --yes',
    },
    'kubectl expose-pods rollout rooms -n game --dry-run',
  ];

  static override args = { release: releaseArg };

  static override flags = {
    ...kubeFlags,
    ...helmFlags,
    restart: Flags.boolean({
      description: 'Give every room a new revision with nothing else changed (room.restartedAt).',
      default: false,
    }),
    ...rolloutFlags,
    'delete-in-use': Flags.boolean({
      description: 'Replace rooms in use too, ending their matches, after a confirmation that names them.',
      default: false,
    }),
    'dry-run': Flags.boolean({ description: 'Print the plan; change nothing.', default: false }),
    yes: yesFlag(),
    timeout: timeoutFlag('How long to wait for the rooms to be replaced, as a duration.'),
    output: outputFlag(
      ['text', 'json', 'yaml'],
      'Output format: text, or the plan and result as json or yaml.',
    ),
  };

  async run(): Promise<RolloutRunResult> {
    const { args, flags } = await this.parse(Rollout);
    const { runRollout } = await import('../ops/rollout-run.js');
    const { Progress } = await import('../output/progress.js');
    const { formatRolloutPlan } = await import('../output/rollout.js');
    const max = maxUnavailableOf(flags['max-unavailable']);
    if (flags['wait-in-use'] && flags['delete-in-use'])
      throw new UsageError('--wait-in-use waits for matches that --delete-in-use ends: give one');
    const text = flags.output === 'text';
    const res = await Progress.during((progress) =>
      runRollout({
        release: args.release,
        kube: kubeFlagValues(flags),
        helmBinary: flags['helm-binary'],
        restart: flags.restart,
        maxUnavailable: max,
        waitInUse: flags['wait-in-use'],
        deleteInUse: flags['delete-in-use'],
        timeout: flags.timeout.text,
        dryRun: flags['dry-run'],
        confirm: this.confirmer(flags.yes),
        warn: (m) => {
          this.printer.warn(m);
        },
        onPlan: (plan) => {
          if (text) this.printer.info(formatRolloutPlan(plan, flags['delete-in-use']));
        },
        onProgress: (p) => {
          progress.update(rolloutLine(p));
        },
      }),
    );
    await this.show(res, flags.output, flags['dry-run']);
    return res;
  }

  /** -o json or yaml: plan and result; text: what was replaced and what waits for matches to end. */
  private async show(res: RolloutRunResult, output: string, dryRun: boolean): Promise<void> {
    const { formatRolloutOutcome } = await import('../output/rollout.js');
    if (output !== 'text') {
      await this.print(res, output, {});
      return;
    }
    const where = `${res.plan.release} -n ${res.plan.namespace}`;
    if (dryRun) this.printer.success('dry run: nothing was changed');
    else if (!res.applied)
      this.printer.success(
        `release ${res.plan.release}: every room is on the newest revision; nothing to do`,
      );
    else {
      const [first, ...rest] = formatRolloutOutcome(res.result, where);
      this.printer.success(`release ${res.plan.release} rolled out${first ? `: ${first}` : ''}`);
      for (const l of rest) this.printer.info(l);
    }
  }
}
