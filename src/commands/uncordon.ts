import Cordon from './cordon.js';

/** cordon's flags and flow, removing the mark instead of writing it. */
export default class Uncordon extends Cordon {
  static override summary = 'Put a cordoned room back in rotation: allocate may hand it to a match again.';

  static override description = `Removes the expose-pods.io/cordoned label that cordon wrote, with a write that carries the pod's resourceVersion and is retried if the pod changed meanwhile; nothing else is touched (an allocation stays). A Free room is allocatable again; one on an older revision is replaced by the next rollout (kubectl expose-pods rollout). A room not cordoned is left as it is, so running it again converges (exit 0, said on stderr).

Name the room by its pod (NAME or pod/NAME, as -o name prints it) or by --ordinal. Prints the room's row.`;

  static override examples = [
    'kubectl expose-pods uncordon rooms rooms-expose-pods-3 -n game',
    'kubectl expose-pods uncordon rooms -n game --ordinal 3 -o json',
  ];

  // oclif reads a command's args and flags from its own class: inheriting them is not enough.
  static override args = Cordon.args;
  static override flags = Cordon.flags;

  protected override readonly cordoned: boolean = false;
}
