import { Args, Flags } from '@oclif/core';

import { BaseCommand } from '../base-command.js';
import { kubeFlags, kubeFlagValues, noHeadersFlag, outputFlag, releaseArg } from '../flags.js';
import { UsageError } from '../errors.js';
import type { DeallocationResult } from '../output/rooms.js';

export default class Deallocate extends BaseCommand {
  static override summary =
    'End an allocation (by its id, or the room it holds): the room is Free again, or Draining.';

  static override description = `Programs pass the allocation's id (--allocation-id, the id allocate was given or printed as allocation.id): the room that holds it loses its Allocated mark (the label, and its annotations), and a room that holds another allocation, or none, is left as it is. A deallocate that is retried, or arrives late (after the room was freed and given to the next match, or after its pod was replaced and allocated again), then never ends the next match: nothing is written, exit 0, and stderr says the allocation had already ended (-o json: "ended": false).

Every write carries the pod's resourceVersion and, if the pod changed meanwhile, is retried after checking the id again. A room marked to drain becomes Draining and takes no new match. A room on an older revision than its StatefulSet's (under OnDelete) is then replaced on the new one, at the same address and port.

An allocation that a container restart already ended (allocation.endOnRestart, the default: the room reads as Free) leaves its marks on the pod: a deallocate of it (by its id, or by the room) removes them, writes nothing else, and says it had already ended.

A person at a terminal may name the room instead, by its pod (NAME or pod/NAME, as -o name prints it) or by --ordinal: that ends whatever allocation it holds now (with --allocation-id too: only that one). A room that is not allocated is left as it is, so running it again converges (exit 0, said on stderr).

Prints the room's row, as allocate does. With --allocation-id, -o json and -o yaml print {"allocationId", "ended", "endpoint"} (endpoint: the row, or null when no room held the id), and the table nothing when no room held it.`;

  static override examples = [
    {
      description: 'End the allocation of match m-42 (what a matchmaker runs; a retry changes nothing):',
      command: 'kubectl expose-pods deallocate rooms -n game --allocation-id m-42',
    },
    'kubectl expose-pods deallocate rooms rooms-expose-pods-3 -n game',
    'kubectl expose-pods deallocate rooms -n game --ordinal 3',
    {
      description:
        'With allocation.endOnRestart=false, end every allocation whose container restarted (its match is gone):',
      command:
        "kubectl expose-pods endpoints rooms -n game -o json | jq -r '.endpoints[] | select(.allocation.stale) | .allocation.id' | xargs -n1 kubectl expose-pods deallocate rooms -n game --allocation-id",
    },
  ];

  static override args = {
    release: releaseArg,
    pod: Args.string({
      description: 'The room: its pod, NAME or pod/NAME (for people; programs pass --allocation-id).',
    }),
  };

  static override flags = {
    ...kubeFlags,
    output: outputFlag(['table', 'wide', 'json', 'yaml', 'name']),
    'no-headers': noHeadersFlag,
    'allocation-id': Flags.string({
      description:
        'End this allocation only (the id allocate was given or printed); with POD, only if that room holds it.',
    }),
    ordinal: Flags.integer({ description: 'The room by its ordinal, instead of POD.', min: 0 }),
  };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(Deallocate);
    const id = flags['allocation-id'];
    if (args.pod !== undefined && flags.ordinal !== undefined)
      throw new UsageError(
        'POD and --ordinal both name a room: give one',
        'For example: kubectl expose-pods deallocate rooms -n game --ordinal 3',
      );
    if (args.pod === undefined && flags.ordinal === undefined && id === undefined)
      throw new UsageError(
        'name the allocation (--allocation-id ID) or the room (POD or --ordinal N)',
        'For example: kubectl expose-pods deallocate rooms -n game --allocation-id m-42',
      );
    const { deallocate } = await import('../ops/allocate.js');
    const out = await deallocate({
      release: args.release,
      ...kubeFlagValues(flags),
      pod: args.pod,
      ordinal: flags.ordinal,
      allocationId: id,
    });
    const { deallocationNotice, deallocationPrinters } = await import('../output/rooms.js');
    const notice = deallocationNotice(out);
    if (notice && out.replaced) this.printer.info(notice);
    else if (notice) this.printer.warn(notice);
    const result: DeallocationResult =
      id === undefined
        ? (out.endpoint as NonNullable<typeof out.endpoint>)
        : { allocationId: id, ended: out.wasAllocated, endpoint: out.endpoint };
    await this.print(result, flags.output, deallocationPrinters({ headers: !flags['no-headers'] }));
    return result;
  }
}
