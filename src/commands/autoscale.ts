import { Flags } from '@oclif/core';

import { BaseCommand } from '../base-command.js';
import {
  durationFlag,
  helmFlags,
  kubeFlags,
  kubeFlagValues,
  outputFlag,
  releaseArg,
  timeoutFlag,
} from '../flags.js';

export default class Autoscale extends BaseCommand {
  static override summary =
    'Keep a buffer of Free rooms: add rooms as matches take them, remove Free ones after a delay.';

  static override description = `Runs in the foreground until stopped (Ctrl-C), as kubectl port-forward does, anywhere with the kubeconfig: beside the matchmaker, or as a Deployment of its own. It follows the rooms by watches and keeps a buffer of Free rooms, as Agones' Buffer policy does:

  replicas = Allocated + N              (--buffer N)
  replicas = ceil(Allocated × 100 / (100 − P))   (--buffer P%: P% of the rooms Free)

within --min and --max. Cordoned rooms count as Allocated (they take no match). Scale-up starts within a second of an allocation that drops the Free rooms below the buffer; allocations that arrive while a scale runs are folded into the next one. With --lead, a scale-up also adds the rooms taken while the last scale-up ran (the allocations to expect while this one runs; at most the buffer again), and while allocations keep coming the next step starts as soon as the last one ends: the buffer then needs to cover the allocations of one step, where without it (the buffer a step restores is spent again by the time its rooms come) it needs two. The lead lapses once allocations stop; a scale-down goes to the target without it. Scale-down waits until the surplus has lasted --scale-down-delay, goes no lower than the highest target seen during that delay, and never below the highest room in use or cordoned: it removes only Free rooms, never marks a room in use Draining and never waits on a match (a room allocated meanwhile refuses that step, which is planned again).

Every step is an ordinary scale (kubectl expose-pods scale): the release's lock, the plan, the per-pod Services following, the budget checks. A step that fails (a budget refused, another command holding the lock, the cluster unreachable, a timeout) is reported and tried again, after 1s doubling to 30s; the loop goes on. It exits only on what no retry mends: bad flags (2), helm missing (3), the cluster refusing the credentials at start (5), forbidden (6), the release missing (7), or another autoscaler holding the release (9, also when another took its Lease over during an outage).

One autoscaler per release: it holds a Lease, <release>-expose-pods-autoscaler, that carries its settings (status shows them). A second one exits 9 while the first runs; one that died (kill -9, a lost node) is taken over once its Lease has not been renewed for 30s. kubectl expose-pods rbac grants what it needs.

Ctrl-C (or SIGTERM, SIGHUP) stops it once the scale in flight has finished, with exit 0; a second one interrupts that scale (exit 130, 143 or 129, as for scale). Before it has started (while it waits for a lapsed Lease), a signal stops it at once. -o json prints one JSON object per event (NDJSON): {schemaVersion: 1, time, release, namespace, type: started|scaling|scaled|pending|kept|retrying|notice|stopped, message, ...}; the last is stopped, with the exitCode.`;

  static override examples = [
    'kubectl expose-pods autoscale rooms -n game --buffer 3 --max 20',
    {
      description:
        'Keep a quarter of the rooms Free, 10 to 200 rooms, removing surplus rooms after 10 minutes:',
      command:
        'kubectl expose-pods autoscale rooms -n game --buffer 25% --min 10 --max 200 --scale-down-delay 10m',
    },
    {
      description:
        'A matchmaker allocating steadily: each scale-up also adds what was taken during the last one:',
      command: 'kubectl expose-pods autoscale rooms -n game --buffer 10 --min 10 --max 500 --lead',
    },
    {
      description: 'Events for a program, one JSON object per line:',
      command: 'kubectl expose-pods autoscale rooms -n game --buffer 3 --max 20 -o json',
    },
  ];

  static override args = { release: releaseArg };

  static override flags = {
    ...kubeFlags,
    ...helmFlags,
    buffer: Flags.string({
      char: 'b',
      description: 'Free rooms to keep: a count (3) or a percentage of the rooms (25%).',
      required: true,
    }),
    min: Flags.integer({ description: 'Never fewer rooms than this.', default: 0, min: 0 }),
    max: Flags.integer({ description: 'Never more rooms than this.', required: true, min: 1 }),
    lead: Flags.boolean({
      description:
        'Add to each scale-up the rooms taken while the last step ran (at most the buffer again): for a steady stream of allocations.',
      default: false,
    }),
    'scale-down-delay': durationFlag({
      description: 'How long a surplus of Free rooms must last before rooms are removed.',
      default: '5m',
      kind: 'request',
    }),
    timeout: timeoutFlag('How long one scale may take, its pods Ready, before it is tried again.'),
    output: outputFlag(['text', 'json'], 'Output format: a line per decision, or NDJSON events.'),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Autoscale);
    const { autoscaleInForeground } = await import('../ops/autoscale-run.js');
    const { formatAutoscaleEvent } = await import('../output/autoscale.js');
    const json = flags.output === 'json';
    await autoscaleInForeground(
      {
        release: args.release,
        ...kubeFlagValues(flags),
        helmBinary: flags['helm-binary'],
        buffer: flags.buffer,
        min: flags.min,
        max: flags.max,
        scaleDownDelay: flags['scale-down-delay'].text,
        lead: flags.lead,
        timeout: flags.timeout.text,
        onEvent: (e) => {
          formatAutoscaleEvent(e, json, this.printer);
        },
      },
      (m) => {
        this.printer.info(m);
      },
    );
  }
}
