import { Args, Flags } from '@oclif/core';

import { requireDuration, type Duration, type DurationKind } from './core/duration.js';
import { DEFAULT_RELEASE } from './core/release.js';
import { DEFAULT_MAX_UNAVAILABLE, parseMaxUnavailable, type MaxUnavailable } from './core/rollout.js';
import { UsageError } from './errors.js';
import { DEFAULT_REQUEST_TIMEOUT, type KubeFlags } from './kube/config.js';

/**
 * The flags and arguments more than one command takes, each defined once so
 * that every command spells, explains and parses them alike.
 */

/** The release argument: a Helm release name, `rooms` when left out. */
export const releaseArg = Args.string({ description: 'Helm release name.', default: DEFAULT_RELEASE });

/**
 * kubectl's standard connection flags, spelled as kubectl spells them. -n comes
 * first: oclif trims the leading spaces of a help group's first row, which
 * misaligns a first flag that has no short form.
 */
export const kubeFlags = {
  namespace: Flags.string({
    char: 'n',
    description: "Namespace of the release (default: the context's namespace, then default).",
    helpGroup: 'KUBERNETES',
  }),
  kubeconfig: Flags.string({
    description: 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).',
    helpGroup: 'KUBERNETES',
  }),
  context: Flags.string({ description: 'The kubeconfig context to use.', helpGroup: 'KUBERNETES' }),
  'request-timeout': Flags.string({
    description: 'How long one API request may take (30s, 2m; 0 waits forever).',
    default: DEFAULT_REQUEST_TIMEOUT,
    helpGroup: 'KUBERNETES',
  }),
};

/** The KubeFlags a command passes on, from kubeFlags as parsed (one place, so every command reads them alike). */
export function kubeFlagValues(flags: {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  'request-timeout': string;
}): KubeFlags {
  return {
    kubeconfig: flags.kubeconfig,
    context: flags.context,
    namespace: flags.namespace,
    requestTimeout: flags['request-timeout'],
  };
}

export const helmFlags = {
  'helm-binary': Flags.string({
    description: 'The helm executable to run (default: helm on PATH). Helm 3 and 4 are supported.',
    helpGroup: 'HELM',
  }),
};

/** -o, kubectl's output flag, with this command's formats; the first is the default. */
export function outputFlag<const F extends readonly [string, ...string[]]>(
  formats: F,
  description = 'Output format.',
) {
  return Flags.option({ char: 'o', description, options: formats, default: formats[0] })();
}

/** -y/--yes: answers the confirmation of a disruptive change, for scripts. */
export function yesFlag(description = 'Answer yes to the confirmation (for scripts).') {
  return Flags.boolean({ char: 'y', description, default: false });
}

/**
 * A flag whose value is a duration of the given kind, parsed when the flags
 * are (a wrong one fails before anything is contacted) and explained the one
 * way notADuration does. Its value is a Duration: the text and milliseconds.
 */
export function durationFlag(opts: {
  description: string;
  default: string;
  kind?: DurationKind;
  helpGroup?: string;
}) {
  const kind = opts.kind ?? 'timeout';
  return Flags.custom<Duration>({
    description: opts.description,
    helpGroup: opts.helpGroup,
    default: requireDuration('default', opts.default, kind),
    defaultHelp: () => Promise.resolve(opts.default),
    parse: (input, _ctx, flag) => Promise.resolve(requireDuration(`--${flag.name}`, input, kind)),
  })();
}

/** --timeout of the commands that wait for pods. */
export function timeoutFlag(description: string, helpGroup?: string) {
  return durationFlag({ description, default: '5m', helpGroup });
}

/** --no-headers, as kubectl get has it: tables without their header rows. */
export const noHeadersFlag = Flags.boolean({
  description: 'Print tables without their header rows (as kubectl get --no-headers).',
  default: false,
});

/** --wait-reachable of install and scale. */
export const waitReachableFlag = Flags.boolean({
  description:
    'Then also wait, within --timeout again, until every Ready room answers at its endpoint, probed from here as endpoints --probe does (kube-proxy programs a room a moment after its pod is Ready).',
  default: false,
});

/** Whether --address-type was given on the command line (its default is not a choice). */
export function explicitAddressType(argv: readonly string[]): boolean {
  return argv.some((a) => a === '--address-type' || a.startsWith('--address-type='));
}

/** How a change's rollout replaces rooms (install, tolerations, rollout): --max-unavailable and --wait-in-use. */
export const rolloutFlags = {
  'max-unavailable': Flags.string({
    description:
      'Rooms a rollout replaces at once: a count, or a percentage of the replicas (rounded down, at least 1).',
    default: DEFAULT_MAX_UNAVAILABLE,
  }),
  'wait-in-use': Flags.boolean({
    description:
      'Also wait for the rooms in use on older revisions, replacing each as its match ends (exit 15 on --timeout, nothing undone).',
    default: false,
  }),
};

/** --max-unavailable parsed, or a usage error naming the flag. */
export function maxUnavailableOf(text: string): MaxUnavailable {
  const max = parseMaxUnavailable(text);
  if (typeof max === 'string') throw new UsageError(max);
  return max;
}
