import { Flags, type Interfaces } from '@oclif/core';

import { BaseCommand } from '../base-command.js';
import {
  releaseArg,
  kubeFlags,
  kubeFlagValues,
  helmFlags,
  maxUnavailableOf,
  outputFlag,
  rolloutFlags,
  timeoutFlag,
  waitReachableFlag,
} from '../flags.js';
import { rolloutLine } from '../core/rollout.js';
import { UsageError } from '../errors.js';
import type { EndpointsOptions } from '../ops/endpoints.js';
import type { InstallRequest } from '../ops/install.js';
import { progressLine } from '../core/progress.js';
import type { KubeObject } from '../output/format.js';

export default class Install extends BaseCommand {
  static override summary = 'Install or upgrade a release of the bundled chart with Helm.';

  static override description = `Runs \`helm upgrade --install\` with the chart bundled in this plugin: a StatefulSet, its headless Service, one NodePort (or LoadBalancer) Service per pod with externalTrafficPolicy Local, and a single-node Redis.

Values come, lowest precedence first, from -f files, then the shortcut flags (--replicas, --image, ...), then --set, --set-string and --set-file: an explicit --set always wins over a shortcut.

On an existing release every value set before (by an earlier install, scale or tolerations) is kept, and this command's values are merged on top; --reset-values starts from the chart's defaults instead. It first prints what changes (values, pods, Services, nodePorts) and the cluster's NodePorts, ClusterIPs and pod slots before and after, with a note when 50 or more pods would start one at a time under OrderedReady; a change that removes Ready pods, restarts pods or moves a nodePort needs --yes, or a yes on a terminal (exit 13 otherwise, nothing changed). Rooms in use (Allocated by allocate) are spared: fewer replicas mark the rooms removed Draining and wait, within --timeout, until those in use are freed (exit 15 on timeout, nothing changed); a change that restarts pods, or a lower expose.count that deletes the Service of a room in use, is refused while the room is in use (exit 15); --delete-in-use does these anyway, after a confirmation that names them.

Before anything is written, every fixed nodePort must be free in the cluster (a taken one names its holder and a free base, exit 4) and the new pods must fit the nodes' free pod slots.

While it waits it shows progress on stderr: pods ready k/N, the pod in progress, and Redis (a spinner on a terminal, plain lines otherwise). When it finishes (with --wait, the default) it prints the endpoints table: which node address and port reaches each pod. Helm's own notes, which say how to read the Redis password, stay available through \`helm get notes RELEASE\`.

With --dry-run nothing is changed: the manifests are rendered and printed (YAML, a JSON List with -o json, or kind/name of each object with -o name, as kubectl prints them). When the cluster answers, the API server also validates and admits every object (server-side apply with dryRun=All), which catches what the chart cannot see, such as a nodePort another Service holds. Without a reachable cluster it renders locally and says so; no cluster is needed then when -n is given.`;

  static override examples = [
    {
      description: 'Preview a 3-pod release (checked by the API server when one answers):',
      command: '<%= config.bin %> install --dry-run -n default --replicas 3',
    },
    {
      description: 'Install release "rooms" with 3 pods in namespace game:',
      command: 'kubectl expose-pods install rooms -n game --create-namespace --replicas 3',
    },
    {
      description: 'UDP game servers on port 7777, nodePorts from 31000:',
      command: 'kubectl expose-pods install rooms --set room.protocol=UDP --port 7777 --node-port-base 31000',
    },
    {
      description:
        'Return only when every room answers at its endpoint from here (run it where clients stand):',
      command: 'kubectl expose-pods install rooms -n game --replicas 3 --wait-reachable',
    },
    {
      description: 'One LoadBalancer per pod, no Redis:',
      command: 'kubectl expose-pods install rooms --expose-type LoadBalancer --no-redis',
    },
    {
      description:
        'A new image for an existing release; every other value is kept (the pods restart, so it asks):',
      command: 'kubectl expose-pods install rooms -n game --image ghcr.io/acme/room:2.53',
    },
  ];

  static override args = {
    release: releaseArg,
  };

  static override flags = {
    ...kubeFlags,
    ...helmFlags,
    values: Flags.string({
      char: 'f',
      description: 'A values file (repeatable; later files win).',
      multiple: true,
      helpGroup: 'VALUES',
    }),
    set: Flags.string({
      description: 'Set a value, key=value (repeatable).',
      multiple: true,
      helpGroup: 'VALUES',
    }),
    'set-string': Flags.string({
      description: 'Set a string value, key=value (repeatable).',
      multiple: true,
      helpGroup: 'VALUES',
    }),
    'set-file': Flags.string({
      description: "Set a value from a file's content, key=path (repeatable).",
      multiple: true,
      helpGroup: 'VALUES',
    }),
    replicas: Flags.integer({
      description: 'Number of pods (room.replicas).',
      min: 0,
      helpGroup: 'SHORTCUTS',
    }),
    image: Flags.string({
      description: 'Room image, repo[:tag] (room.image.repository and room.image.tag).',
      helpGroup: 'SHORTCUTS',
    }),
    port: Flags.integer({
      description: 'Container and Service port (room.containerPort and expose.port).',
      min: 1,
      max: 65535,
      helpGroup: 'SHORTCUTS',
    }),
    'node-port-base': Flags.integer({
      description: 'nodePort of pod 0; pod i gets base+i (expose.nodePortBase).',
      min: 1,
      max: 65535,
      helpGroup: 'SHORTCUTS',
    }),
    'expose-type': Flags.string({
      description: 'Per-pod Service type (expose.type).',
      options: ['NodePort', 'LoadBalancer'],
      helpGroup: 'SHORTCUTS',
    }),
    redis: Flags.boolean({
      description: 'Deploy Redis (redis.enabled); --no-redis leaves it out.',
      allowNo: true,
      helpGroup: 'SHORTCUTS',
    }),
    'create-namespace': Flags.boolean({
      description: 'Create the namespace if it does not exist.',
      default: false,
    }),
    wait: Flags.boolean({
      description: 'Wait until every pod is Ready (--no-wait returns once the objects are applied).',
      allowNo: true,
      default: true,
    }),
    timeout: timeoutFlag('How long to wait, as a duration (90s, 5m, 1h).'),
    'wait-reachable': waitReachableFlag,
    'reset-values': Flags.boolean({
      description:
        "Start from the chart's defaults instead of the release's values (an existing release keeps them by default).",
      default: false,
      helpGroup: 'VALUES',
    }),
    ...rolloutFlags,
    'delete-in-use': Flags.boolean({
      description:
        'Remove or replace rooms in use (Allocated) with their matches, after a confirmation that names them. Without it, fewer replicas wait until the rooms removed are freed, and a new pod template (image, resources, env) leaves rooms in use on their build until their match ends (under room.updateStrategy RollingUpdate such a change is refused while a room is in use, exit 15), and a lower expose.count is refused while it would delete the Service of a room in use (exit 15).',
      default: false,
    }),
    yes: Flags.boolean({
      char: 'y',
      description:
        'Answer yes when the change removes Ready pods, restarts pods or moves a nodePort (for scripts).',
      default: false,
    }),
    'dry-run': Flags.boolean({
      description: 'Render the manifests locally and change nothing.',
      default: false,
    }),
    output: outputFlag(
      ['yaml', 'json', 'name'],
      'Format of the --dry-run manifests: YAML, a JSON List, or kind/name of each object.',
    ),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Install);
    const { runInstall } = await import('../ops/install.js');
    const { Progress } = await import('../output/progress.js');
    const { inUseLine } = await import('../output/scale.js');
    const { formatRolloutOutcome } = await import('../output/rollout.js');
    const req = await this.request(args.release, flags);
    if (flags['wait-reachable'] && !flags.wait)
      throw new UsageError('--wait-reachable needs the wait for the pods: drop --no-wait');
    if (flags['dry-run']) {
      await this.dryRun(req, flags.output);
      return;
    }
    const res = await Progress.during((progress) =>
      runInstall({
        ...req,
        onProgress: (p) => {
          progress.update(progressLine(p));
        },
        onWaitingInUse: (inUse) => {
          progress.update(inUseLine(inUse));
        },
        onRollout: (p) => {
          progress.update(rolloutLine(p));
        },
      }),
    );
    this.printer.success(`release ${res.release} is installed in namespace ${res.namespace}`);
    const rolled = res.rollout && (res.rollout.replaced.length || res.rollout.inUseOutdated.length);
    if (rolled && res.rollout)
      for (const l of formatRolloutOutcome(res.rollout, `${res.release} -n ${res.namespace}`))
        this.printer.info(l);
    if (!flags.wait) {
      this.printer.info(
        `not waiting for the pods; see them with: kubectl expose-pods endpoints ${res.release} -n ${res.namespace}`,
      );
      return;
    }
    const where = { release: res.release, ...kubeFlagValues(flags), namespace: res.namespace };
    if (flags['wait-reachable']) await this.waitReachable(where, flags.timeout.text);
    await this.showEndpoints(where, res.redis ?? false);
  }

  /** The install as ops takes it: the values flags and shortcuts, the wait, and the plan and confirmation callbacks. */
  private async request(
    release: string,
    flags: Interfaces.InferredFlags<typeof Install.flags>,
  ): Promise<InstallRequest> {
    const { formatChange } = await import('../output/change.js');
    return {
      release,
      kube: kubeFlagValues(flags),
      helmBinary: flags['helm-binary'],
      values: {
        valuesFiles: flags.values ?? [],
        set: flags.set ?? [],
        setString: flags['set-string'] ?? [],
        setFile: flags['set-file'] ?? [],
      },
      shortcuts: {
        replicas: flags.replicas,
        image: flags.image,
        port: flags.port,
        nodePortBase: flags['node-port-base'],
        exposeType: flags['expose-type'] as 'NodePort' | 'LoadBalancer' | undefined,
        redis: flags.redis,
      },
      createNamespace: flags['create-namespace'],
      wait: flags.wait,
      timeout: flags.timeout.text,
      resetValues: flags['reset-values'],
      deleteInUse: flags['delete-in-use'],
      maxUnavailable: maxUnavailableOf(flags['max-unavailable']),
      waitInUse: flags['wait-in-use'],
      warn: (m) => {
        this.printer.warn(m);
      },
      onPreview: (p) => {
        this.printer.info(formatChange(p));
      },
      confirm: this.confirmer(flags.yes),
    };
  }

  /** --dry-run: the rendered objects on stdout (YAML, a JSON List, or their names), and how they were checked. */
  private async dryRun(req: InstallRequest, format: 'yaml' | 'json' | 'name'): Promise<void> {
    const { parseAllDocuments } = await import('yaml');
    const { renderInstall } = await import('../ops/install.js');
    const { objectName, renderNames, renderStructured } = await import('../output/format.js');
    const res = await renderInstall(req);
    if (format !== 'yaml') {
      const items = parseAllDocuments(res.output)
        .map((d) => d.toJS() as unknown)
        .filter((o) => o !== null);
      if (format === 'name') process.stdout.write(renderNames(items.map((o) => objectName(o as KubeObject))));
      else this.log(renderStructured({ apiVersion: 'v1', kind: 'List', items }, 'json').trimEnd());
    } else {
      process.stdout.write(res.output);
    }
    this.printer.success(
      res.check.mode === 'server'
        ? `the API server accepted all ${res.check.accepted ?? 0} objects of release ${res.release} in namespace ${res.namespace} (server-side dry run); nothing was changed`
        : `rendered release ${res.release} for namespace ${res.namespace} with helm ${res.helm.version.raw}, locally (${res.check.reason ?? 'no cluster'}); nothing was changed`,
    );
  }

  /** After the install: the endpoints table, kube-proxy's scope warning, and where the notes are. */
  private async showEndpoints(
    where: EndpointsOptions & { release: string; namespace: string },
    redis: boolean,
  ): Promise<void> {
    const { readEndpoints } = await import('../ops/endpoints.js');
    const { formatEndpoints, formatScopeWarning } = await import('../output/endpoints.js');
    const { report, scopeWarning } = await readEndpoints({ ...where, checkNodePortScope: true });
    this.log(formatEndpoints(report.endpoints, false));
    const warning =
      scopeWarning && formatScopeWarning(scopeWarning, new Set(report.endpoints.map((r) => r.pod)));
    if (warning) this.printer.warn(warning);
    this.printer.info(
      redis
        ? `The Redis password and more: helm get notes ${where.release} -n ${where.namespace}`
        : `More about the release: helm get notes ${where.release} -n ${where.namespace}`,
    );
  }
}
