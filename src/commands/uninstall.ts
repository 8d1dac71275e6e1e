import { Flags } from '@oclif/core';

import { BaseCommand } from '../base-command.js';
import { releaseArg, kubeFlags, kubeFlagValues, helmFlags, yesFlag, timeoutFlag } from '../flags.js';
import type { ReleaseData } from '../kube/reader.js';

const describeData = (d: ReleaseData, ns: string) =>
  [...d.pvcs.map((p) => `persistentvolumeclaim/${p}`), ...d.secrets.map((s) => `secret/${s}`)]
    .map((x) => `  ${ns}/${x}`)
    .join('\n');

export default class Uninstall extends BaseCommand {
  static override summary = 'Uninstall a release, keeping its data unless told otherwise.';

  static override description = `Runs \`helm uninstall\`. The PVCs of the StatefulSet and of Redis, and the Redis Secret, are KEPT by default and listed with the command that deletes them: a reinstall of the same release finds its data again.

--delete-data also deletes them, after a confirmation prompt; --yes answers it for scripts. Without a terminal and without --yes, --delete-data refuses and changes nothing. Claims and Secrets you brought yourself (redis.persistence.existingClaim, redis.auth.existingSecret) are never deleted.

Rooms in use (Allocated by kubectl expose-pods allocate) are not ended by surprise: an uninstall that would remove any says how many, names them and exits 15 with nothing changed, unless --delete-in-use is given and confirmed. Before it asks anything it marks every room Draining, so no match is allocated while the question waits; a room allocated meanwhile anyway is refused after the answer (exit 15), and the marks are taken back whenever it stops without uninstalling.

If the release is already gone, --delete-data still deletes what it left behind, so re-running converges.`;

  static override examples = [
    'kubectl expose-pods uninstall rooms -n game',
    'kubectl expose-pods uninstall rooms -n game --delete-data --yes',
  ];

  static override args = {
    release: releaseArg,
  };

  static override flags = {
    ...kubeFlags,
    ...helmFlags,
    'delete-data': Flags.boolean({
      description: 'Also delete the PVCs and the Redis Secret (asks first).',
      default: false,
    }),
    'delete-in-use': Flags.boolean({
      description:
        'Uninstall although rooms are in use (Allocated), ending their matches, after a confirmation that names them.',
      default: false,
    }),
    yes: yesFlag(),
    timeout: timeoutFlag('How long helm waits for the deletion, as a duration.'),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Uninstall);
    const { runUninstall } = await import('../ops/uninstall.js');
    const res = await runUninstall({
      release: args.release,
      kube: kubeFlagValues(flags),
      helmBinary: flags['helm-binary'],
      deleteData: flags['delete-data'],
      deleteInUse: flags['delete-in-use'],
      timeout: flags.timeout.text,
      warn: (m) => {
        this.printer.warn(m);
      },
      onDataToDelete: (data, ns) => {
        this.printer.warn(`this deletes the data of release ${args.release}:\n${describeData(data, ns)}`);
      },
      confirm: this.confirmer(flags.yes),
    });
    if (res.uninstalled)
      this.printer.success(`release ${res.release} uninstalled from namespace ${res.namespace}`);
    else this.printer.info(`release ${res.release} was already uninstalled`);
    if (res.orphanedServices.length)
      this.printer.info(
        `deleted Services a failed upgrade had left behind: ${res.orphanedServices.join(', ')}`,
      );
    if (res.deleted.pvcs.length + res.deleted.secrets.length) {
      this.printer.success(`deleted:\n${describeData(res.deleted, res.namespace)}`);
    }
    const kept = res.kept;
    if (kept.pvcs.length + kept.secrets.length) {
      this.printer.info(
        `kept (your data survives a reinstall of ${res.release}):\n${describeData(kept, res.namespace)}`,
      );
      this.printer.info(
        `delete them with: kubectl expose-pods uninstall ${res.release} -n ${res.namespace} --delete-data`,
      );
    }
  }
}
