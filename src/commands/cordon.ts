import { Args } from '@oclif/core';

import { BaseCommand } from '../base-command.js';
import { kubeFlagValues } from '../flags.js';
import { UsageError } from '../errors.js';
import type { Endpoint } from '../core/endpoints.js';
import Deallocate from './deallocate.js';

export default class Cordon extends BaseCommand {
  static override summary =
    'Take one room out of rotation: no new match goes there, its current match runs on.';

  static override description = `Labels the room's pod expose-pods.io/cordoned=true, with a write that carries the pod's resourceVersion and is retried if the pod changed meanwhile. allocate and the library's allocator never hand out a cordoned room; its current allocation, if any, is left alone (STATE stays Allocated, shown "Allocated (cordoned)"), and once it is deallocated the room is Cordoned. A rollout keeps a Cordoned room on its revision (the operator holds it for maintenance), and deallocate does not replace it. Every scale keeps the mark (a scale-down may still remove the room: it is in use only while allocated). A room already cordoned is left as it is, so running it again converges (exit 0, said on stderr). uncordon puts it back in rotation. Versions of this plugin or its library older than cordon do not know the mark, and may allocate a cordoned room.

Name the room by its pod (NAME or pod/NAME, as -o name prints it) or by --ordinal. Prints the room's row.`;

  static override examples = [
    'kubectl expose-pods cordon rooms rooms-expose-pods-3 -n game',
    'kubectl expose-pods cordon rooms -n game --ordinal 3 -o json',
    {
      description: 'Back in rotation:',
      command: 'kubectl expose-pods uncordon rooms -n game --ordinal 3',
    },
  ];

  // The room by its pod or --ordinal, printed as deallocate prints it.
  static override args = {
    release: Deallocate.args.release,
    pod: Args.string({ description: 'The room: its pod, NAME or pod/NAME (or --ordinal).' }),
  };
  // Not --allocation-id: a cordon names a room, whatever match it holds.
  static override flags = Object.fromEntries(
    Object.entries(Deallocate.flags).filter(([name]) => name !== 'allocation-id'),
  ) as Omit<typeof Deallocate.flags, 'allocation-id'>;

  /** cordon writes the mark; uncordon (a subclass) removes it. */
  protected readonly cordoned: boolean = true;

  async run(): Promise<Endpoint> {
    const { args, flags } = await this.parse(this.ctor as typeof Cordon);
    const verb = this.cordoned ? 'cordon' : 'uncordon';
    if ((args.pod === undefined) === (flags.ordinal === undefined))
      throw new UsageError(
        args.pod === undefined
          ? 'name the room: POD or --ordinal N'
          : 'POD and --ordinal both name a room: give one',
        `For example: kubectl expose-pods ${verb} rooms -n game --ordinal 3`,
      );
    const { setCordon } = await import('../ops/cordon.js');
    const { endpoint, changed } = await setCordon(
      { release: args.release, ...kubeFlagValues(flags), pod: args.pod, ordinal: flags.ordinal },
      this.cordoned,
    );
    if (!changed) this.printer.warn(`${endpoint.pod} was already ${verb}ed: nothing to change`);
    else if (!this.cordoned) this.printer.success(`${endpoint.pod} uncordoned: back in rotation`);
    else
      this.printer.success(
        `${endpoint.pod} cordoned: no new match goes there${endpoint.state === 'Allocated' ? ' (its current match runs on)' : ''}`,
      );
    const { roomPrinters } = await import('../output/rooms.js');
    await this.print(endpoint, flags.output, roomPrinters({ headers: !flags['no-headers'] }));
    return endpoint;
  }
}
