import { Flags } from '@oclif/core';

import { BaseCommand } from '../base-command.js';
import { DEFAULT_ADDRESS_TYPES, parseAddressTypes, type Endpoint } from '../core/endpoints.js';
import { parseMetadataFlags } from '../core/rooms.js';
import { UsageError } from '../errors.js';
import {
  explicitAddressType,
  kubeFlags,
  kubeFlagValues,
  noHeadersFlag,
  outputFlag,
  releaseArg,
} from '../flags.js';

export default class Allocate extends BaseCommand {
  static override summary = 'Hand one Free room to a match: mark it Allocated and print its endpoint.';

  static override description = `Picks the lowest Free ordinal (Ready, not allocated, not draining, with a port and a node address of --address-type) and marks its pod Allocated: the label expose-pods.io/state=Allocated, with annotations saying the allocation's id, when, the pod's container restarts then, and the --meta you attach. The write carries the pod's resourceVersion, so the API server refuses it (409) when the pod changed since it was read; allocate then tries the next room. Two allocators never get the same room.

Lowest first, because a StatefulSet removes its highest ordinals first: a scale-down then rarely meets a room in use. An Allocated room is covered by the chart's PodDisruptionBudget (node drains and the cluster autoscaler cannot evict it) and carries cluster-autoscaler.kubernetes.io/safe-to-evict: "false", unless the chart's allocation values turn them off.

Every allocation has an id: --allocation-id (a match id), or a generated UUID, printed as allocation.id. With --allocation-id, a room of the release that holds that id already is returned and nothing new is allocated (exit 0, said on stderr): a matchmaker that retries an allocate whose answer it lost (a timeout) gets the room the first try took, not a second one. With --selector, that room must match it too: a retry whose selector leaves it out is exit 9, and no other room is taken. Pass the same id to deallocate --allocation-id when the match ends.

An allocation ends with kubectl expose-pods deallocate, or when the pod is replaced (a new pod starts Free). A container that restarts keeps its pod's mark although its players are gone: endpoints and status show such an allocation as stale.

Prints the room as an endpoints row (STATE Allocated), with the warning endpoints gives when its address is one kube-proxy does not accept NodePorts on (see endpoints --help); -o json prints the same object as a row of endpoints -o json, -o name prints pod/NAME. Exit 14 when no room is Free, with the rooms counted by state.`;

  static override examples = [
    'kubectl expose-pods allocate rooms -n game',
    {
      description:
        'Allocate for match m-42, and hand the endpoint to a program (run again, it returns the same room):',
      command: 'kubectl expose-pods allocate rooms -n game --allocation-id m-42 -o json',
    },
    'kubectl expose-pods allocate rooms -n game --meta map=forest',
    {
      description: 'Only rooms whose pods carry a label (set by room.podLabels, or kubectl label pod):',
      command: 'kubectl expose-pods allocate rooms -n game -l map=forest -o name',
    },
  ];

  static override args = { release: releaseArg };

  static override flags = {
    ...kubeFlags,
    output: outputFlag(['table', 'wide', 'json', 'yaml', 'name']),
    'no-headers': noHeadersFlag,
    selector: Flags.string({
      char: 'l',
      description:
        'Only rooms whose pods these labels also match (kubectl label selector: a=b,c!=d). Not the labels allocate writes itself (expose-pods.io/state, draining, cordoned): exit 2.',
    }),
    'allocation-id': Flags.string({
      description:
        'The allocation id (a match id; letters, digits, "-", "_", ".", ":", at most 128): a room that holds it already is returned instead of a new one. Generated when absent.',
    }),
    meta: Flags.string({
      description:
        'KEY=VALUE attached to the allocation (a match id ...); repeatable. Shown by endpoints -o wide and -o json.',
      multiple: true,
      default: [],
    }),
    'address-type': Flags.string({
      description: 'Node address types to use, in order of preference (comma-separated).',
      default: DEFAULT_ADDRESS_TYPES.join(','),
    }),
  };

  async run(): Promise<Endpoint> {
    const { args, flags } = await this.parse(Allocate);
    const types = parseAddressTypes(flags['address-type']);
    if (typeof types === 'string') throw new UsageError(types);
    const metadata = parseMetadataFlags(flags.meta);
    if (typeof metadata === 'string') throw new UsageError(metadata);
    const { allocateRoom } = await import('../ops/allocate.js');
    const { endpoint, scopeWarning, existing } = await allocateRoom({
      release: args.release,
      ...kubeFlagValues(flags),
      addressTypes: types,
      selector: flags.selector,
      metadata,
      allocationId: flags['allocation-id'],
    });
    if (existing)
      this.printer.info(
        `allocation ${String(flags['allocation-id'])} holds ${endpoint.pod} already: nothing new allocated`,
      );
    const { roomPrinters } = await import('../output/rooms.js');
    const { formatScopeWarning } = await import('../output/endpoints.js');
    const warning =
      scopeWarning &&
      !explicitAddressType(this.argv) &&
      formatScopeWarning(scopeWarning, new Set([endpoint.pod]));
    if (warning) this.printer.warn(warning);
    await this.print(endpoint, flags.output, roomPrinters({ headers: !flags['no-headers'] }));
    return endpoint;
  }
}
