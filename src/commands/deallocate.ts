import { Args, Flags } from '@oclif/core';

import { BaseCommand } from '../base-command.js';
import { kubeFlags, kubeFlagValues, noHeadersFlag, outputFlag, releaseArg } from '../flags.js';
import { UsageError } from '../errors.js';
import type { Endpoint } from '../core/endpoints.js';

export default class Deallocate extends BaseCommand {
  static override summary = "End a room's allocation: it is Free again (or Draining, when it drains).";

  static override description = `Removes the Allocated mark that allocate wrote (the label, and its annotations), with a write that carries the pod's resourceVersion and is retried if the pod changed meanwhile. A room marked to drain becomes Draining and takes no new match. A room that is not allocated is left as it is, so running it again converges (exit 0, said on stderr).

Name the room by its pod (NAME or pod/NAME, as -o name prints it) or by --ordinal. Prints the room's row, as allocate does.`;

  static override examples = [
    'kubectl expose-pods deallocate rooms rooms-expose-pods-3 -n game',
    'kubectl expose-pods deallocate rooms -n game --ordinal 3',
    {
      description: 'End every allocation whose container restarted (its match is gone):',
      command:
        "kubectl expose-pods endpoints rooms -n game -o json | jq -r '.endpoints[] | select(.allocation.stale) | .pod' | xargs -n1 kubectl expose-pods deallocate rooms -n game",
    },
  ];

  static override args = {
    release: releaseArg,
    pod: Args.string({ description: 'The room: its pod, NAME or pod/NAME.' }),
  };

  static override flags = {
    ...kubeFlags,
    output: outputFlag(['table', 'wide', 'json', 'yaml', 'name']),
    'no-headers': noHeadersFlag,
    ordinal: Flags.integer({ description: 'The room by its ordinal, instead of POD.', min: 0 }),
  };

  async run(): Promise<Endpoint> {
    const { args, flags } = await this.parse(Deallocate);
    if ((args.pod === undefined) === (flags.ordinal === undefined))
      throw new UsageError(
        args.pod === undefined
          ? 'name the room: POD or --ordinal N'
          : 'POD and --ordinal both name a room: give one',
        'For example: kubectl expose-pods deallocate rooms -n game --ordinal 3',
      );
    const { deallocate } = await import('../ops/allocate.js');
    const { endpoint, wasAllocated, replaced, ended } = await deallocate({
      release: args.release,
      ...kubeFlagValues(flags),
      pod: args.pod,
      ordinal: flags.ordinal,
    });
    if (ended)
      this.printer.warn(
        `${endpoint.pod}'s allocation had already ended (a container restarted${ended.endedAt ? ` at ${ended.endedAt}` : ''}): its marks were removed`,
      );
    else if (!wasAllocated && !replaced)
      this.printer.warn(`${endpoint.pod} was not allocated: nothing to change`);
    if (replaced)
      this.printer.info(
        `${endpoint.pod} ran an older revision than its StatefulSet: it is being replaced on the new one, at the same address and port once Ready`,
      );
    const { roomPrinters } = await import('../output/rooms.js');
    await this.print(endpoint, flags.output, roomPrinters({ headers: !flags['no-headers'] }));
    return endpoint;
  }
}
